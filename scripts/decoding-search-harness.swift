// Search-only speed harness for scripts/bench-decoding-search.sh: greedy and beam search from
// Sources/S2SDecoding against a network that costs nothing (table lookups), so the figures
// are the cost of search itself. Compiled together with the search sources by the script.
import Foundation
public enum SpecialTokens { public static let pad: Int32 = 0; public static let unk: Int32 = 1; public static let bos: Int32 = 2; public static let eos: Int32 = 3 }

/// A network that costs nothing: rows of a precomputed table of log-probabilities, with </s>
/// rising with the step so that sentences end after ~12–16 tokens. Measures search alone.
final class FreeDecoder: StepDecoder {
    let targetVocabularySize = 8000
    var table: [Float]
    let tableRows = 97
    var rows = 0
    var stepIndex = 0
    var rowPhase: [Int] = []
    init() {
        var state: UInt64 = 1
        table = (0..<(97 * 8000)).map { _ in state = state &* 6364136223846793005 &+ 1442695040888963407; return -Float(state >> 40) / Float(1 << 24) * 12 - 3 }
    }
    func begin(sources: [[Int32]]) throws { rows = sources.count; stepIndex = 0; rowPhase = Array(0..<rows) }
    func step(previousTokens: [Int32], logProbabilities: UnsafeMutableBufferPointer<Float>) {
        stepIndex += 1
        let v = targetVocabularySize
        table.withUnsafeBufferPointer { t in
            for r in 0..<previousTokens.count {
                let src = ((Int(previousTokens[r]) &+ r &* 31 &+ stepIndex) % tableRows) * v
                memcpy(logProbabilities.baseAddress! + r * v, t.baseAddress! + src, v * 4)
                logProbabilities[r * v + 3] = stepIndex >= 12 + (r % 5) ? -0.5 : -20
            }
        }
    }
    func select(parents: [Int32]) { rows = parents.count }
    func start(sentences: [Int32]) { rows += sentences.count }
    func attention(row: Int) -> [Float] { [] }
}

let sources = (0..<1000).map { i in [Int32](repeating: 5, count: 8 + i % 12) + [3] }
for (beam, batch) in [(1, 1), (1, 64), (5, 1), (5, 64)] {
    let decoder = FreeDecoder()
    let options = SearchOptions(beamSize: beam, lengthPenalty: LengthPenalty(alpha: 0.6))
    let start = Date()
    var tokens = 0
    var i = 0
    while i < sources.count {
        let slice = Array(sources[i..<min(sources.count, i + batch)])
        let out = beam == 1 ? try! GreedySearch(options: options).translate(slice, with: decoder)
                            : try! BeamSearch(options: options).translate(slice, with: decoder)
        tokens += out.reduce(0) { $0 + $1[0].tokens.count }
        i += batch
    }
    let seconds = Date().timeIntervalSince(start)
    print("beam \(beam) batch \(batch): \(Int(Double(sources.count) / seconds)) sent/s search only, \(String(format: "%.3f", 1000 * seconds / Double(sources.count))) ms/sent, mean length \(tokens / sources.count)")
}
