import Foundation
import S2SCorpus
import XCTest

final class HeldOutTests: XCTestCase {
    func testHoldingOutPartitionsThePairs() throws {
        let folder = TemporaryFolder()
        let sources = (0..<50).map { i in (0...(i % 7)).map { "w\($0 + i)" }.joined(separator: " ") }
        let targets = (0..<50).map { i in (0...(i % 5)).map { "v\($0 * i)" }.joined(separator: " ") }
        let corpus = try CorpusLoader.load(.files(source: folder.write("s.txt", sources.joined(separator: "\n")),
                                                  target: folder.write("t.txt", targets.joined(separator: "\n"))),
                                           encoder: WordHashEncoder())
        let (training, heldOut) = corpus.holdingOut(8, seed: 3)
        XCTAssertEqual(heldOut.count, 8)
        XCTAssertEqual(heldOut, heldOut.sorted())
        XCTAssertEqual(Set(heldOut).count, 8)
        XCTAssertEqual(training.count, 42)
        // The training corpus is exactly the other pairs, in order.
        let kept = (0..<corpus.count).filter { !heldOut.contains($0) }
        for (row, pair) in kept.enumerated() {
            XCTAssertEqual(Array(training.source(row)), Array(corpus.source(pair)), "source of pair \(pair)")
            XCTAssertEqual(Array(training.target(row)), Array(corpus.target(pair)), "target of pair \(pair)")
        }
        XCTAssertEqual(training.statistics.targetTokens, kept.reduce(0) { $0 + corpus.targetLength($1) })
        // Seeded: the same seed holds out the same pairs; another seed, others.
        XCTAssertEqual(corpus.holdingOut(8, seed: 3).heldOut, heldOut)
        XCTAssertNotEqual(corpus.holdingOut(8, seed: 4).heldOut, heldOut)
        // Batching works over the smaller corpus.
        var iterator = try BatchIterator(corpus: training, options: BatchingOptions(targetTokensPerBatch: 40))
        XCTAssertGreaterThan(iterator.next().source.batchSize, 0)
    }
}
