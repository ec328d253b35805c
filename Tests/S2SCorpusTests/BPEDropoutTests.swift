import XCTest
@testable import S2SCorpus
@testable import S2SSubword
@testable import S2SCore

final class BPEDropoutTests: XCTestCase {
    private let lines = [
        "A man in an orange hat starring at something.",
        "Two young, White males are outside near many bushes.",
        "Several men in hard hats are operating a giant pulley system.",
        "A little girl climbing into a wooden playhouse.",
        "Un homme avec un chapeau orange regardant quelque chose.",
        "Deux jeunes hommes blancs sont dehors près de buissons.",
    ]

    private func makeBatch(_ vocabulary: SubwordVocabulary) -> Batch {
        let encoded = lines.map { vocabulary.encode($0) + [SpecialTokens.eos] }
        let matrix = TokenMatrix(padding: encoded)
        return Batch(source: matrix, target: TokenMatrix(padding: encoded.reversed()), pairIndices: Array(0..<lines.count))
    }

    private func vocabulary() throws -> SubwordVocabulary {
        var options = SubwordVocabulary.LearnOptions()
        options.size = 300
        options.minFrequency = 1
        return try SubwordVocabulary.learn(lines: Array(repeating: lines, count: 3).flatMap { $0 }, options: options)
    }

    func testResegmentationKeepsTheTextAndEOSButChangesThePieces() throws {
        let vocabulary = try vocabulary()
        let batch = makeBatch(vocabulary)
        let dropout = BPEDropout(vocabulary: vocabulary, probability: 0.3, seed: 5)
        let resegmented = dropout.resegment(batch, update: 1)
        XCTAssertEqual(resegmented.pairIndices, batch.pairIndices)
        var changedRows = 0
        for (before, after) in [(batch.source, resegmented.source), (batch.target, resegmented.target)] {
            XCTAssertEqual(after.batchSize, before.batchSize)
            for row in 0..<before.batchSize {
                let old = Array(before.sequence(row)), new = Array(after.sequence(row))
                XCTAssertEqual(new.last, SpecialTokens.eos)
                XCTAssertEqual(vocabulary.decode(new), vocabulary.decode(old), "row \(row) changed its text")
                if new != old { changedRows += 1 }
            }
        }
        XCTAssertGreaterThan(changedRows, 6, "with p = 0.3 most of 12 rows should be split differently")
    }

    func testSameUpdateSameSegmentationOtherUpdateAnother() throws {
        let vocabulary = try vocabulary()
        let batch = makeBatch(vocabulary)
        let dropout = BPEDropout(vocabulary: vocabulary, probability: 0.3, seed: 5)
        XCTAssertEqual(dropout.resegment(batch, update: 7), dropout.resegment(batch, update: 7))
        XCTAssertNotEqual(dropout.resegment(batch, update: 7), dropout.resegment(batch, update: 8))
    }
}
