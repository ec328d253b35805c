import S2SCore
import S2SDecoding
#if canImport(Glibc)
import Glibc
#endif

/// A deterministic toy network: each row's log-probabilities are a pure function of its
/// source and prefix, given by `logProbabilities(source, prefix)`. Row state is just
/// (source, prefix), so `select` semantics are checked for real.
final class FunctionDecoder: StepDecoder {
    let targetVocabularySize: Int
    let distribution: ([Int32], [Int32]) -> [Float]
    private(set) var rows: [(source: [Int32], prefix: [Int32])] = []
    private var sources: [[Int32]] = []
    /// Rows per step call, to check that greedy batches shrink.
    private(set) var rowsPerStep: [Int] = []
    private(set) var beginCount = 0
    /// When set, each step writes only these columns (ascending ids), as a shortlisted network does.
    let outputColumns: [Int32]

    init(vocabularySize: Int, restrictedTo columns: [Int32] = [],
         distribution: @escaping ([Int32], [Int32]) -> [Float]) {
        targetVocabularySize = vocabularySize
        outputColumns = columns
        self.distribution = distribution
    }

    func begin(sources: [[Int32]]) throws {
        beginCount += 1
        self.sources = sources
        rows = sources.map { (source: $0, prefix: []) }
    }

    func step(previousTokens: [Int32], logProbabilities: UnsafeMutableBufferPointer<Float>) {
        precondition(previousTokens.count == rows.count, "one previous token per row")
        precondition(logProbabilities.count >= rows.count * targetVocabularySize, "step's buffer holds rows × V")
        rowsPerStep.append(rows.count)
        for row in rows.indices {
            if previousTokens[row] != SpecialTokens.bos || !rows[row].prefix.isEmpty {
                rows[row].prefix.append(previousTokens[row])
            }
            let values = distribution(rows[row].source, rows[row].prefix)
            if outputColumns.isEmpty {
                for v in 0..<targetVocabularySize { logProbabilities[row * targetVocabularySize + v] = values[v] }
            } else {
                for (c, id) in outputColumns.enumerated() { logProbabilities[row * outputColumns.count + c] = values[Int(id)] }
            }
        }
    }

    func select(parents: [Int32]) {
        rows = parents.map { rows[Int($0)] }
    }

    func start(sentences: [Int32]) {
        rows += sentences.map { (source: sources[Int($0)], prefix: []) }
    }

    func attention(row: Int) -> [Float] {
        let (source, prefix) = rows[row]
        var weights = source.indices.map { i in Float(1 + mix(hashOf(source, prefix) &+ UInt64(i)) % 100) }
        let total = weights.reduce(0, +)
        for i in weights.indices { weights[i] /= total }
        return weights
    }
}

/// SplitMix64's finalizer: a well-mixed 64-bit hash of `x`.
func mix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

func hashOf(_ source: [Int32], _ prefix: [Int32], seed: UInt64 = 0) -> UInt64 {
    var h = mix(seed)
    for token in source { h = mix(h ^ UInt64(UInt32(bitPattern: token))) }
    h = mix(h ^ 0xFFFF)
    for token in prefix { h = mix(h ^ UInt64(UInt32(bitPattern: token))) }
    return h
}

/// A random-looking but deterministic distribution over `vocabularySize` tokens: `<pad>` and
/// `<s>` impossible, `</s>` growing likelier with the prefix length so sentences end.
func pseudoRandomDistribution(vocabularySize: Int, seed: UInt64, endBias: Float = 0.9)
    -> ([Int32], [Int32]) -> [Float] {
    return { source, prefix in
        let h = hashOf(source, prefix, seed: seed)
        var logits = (0..<vocabularySize).map { v in Float(mix(h &+ UInt64(v)) % 10_000) / 10_000 * 4 - 2 }
        logits[Int(SpecialTokens.eos)] += endBias * Float(prefix.count) - Float(source.count) * 0.3
        logits[Int(SpecialTokens.pad)] = -.infinity
        logits[Int(SpecialTokens.bos)] = -.infinity
        return logSoftmax(logits)
    }
}

func logSoftmax(_ logits: [Float]) -> [Float] {
    let top = logits.max()!
    let logSum = log(logits.reduce(Float(0)) { $0 + exp($1 - top) }) + top
    return logits.map { $0 - logSum }
}

/// A table-driven distribution: `table[prefix]` gives probabilities by token; an unknown
/// prefix can only end, with probability 0.01.
func tableDistribution(vocabularySize: Int, _ table: [[Int32]: [Int32: Float]]) -> ([Int32], [Int32]) -> [Float] {
    return { _, prefix in
        var values = [Float](repeating: -.infinity, count: vocabularySize)
        guard let row = table[prefix] else {
            values[Int(SpecialTokens.eos)] = log(0.01)
            return values
        }
        for (token, probability) in row { values[Int(token)] = log(probability) }
        return values
    }
}
