import Foundation
import S2SCorpus
import S2SCore
import XCTest

final class BatchIteratorTests: XCTestCase {
    /// A corpus of `count` pairs with varied lengths (1–30 source words, 1–25 target words).
    private func syntheticCorpus(_ count: Int = 500, folder: TemporaryFolder) throws -> ParallelCorpus {
        var rng = SeededRNG(seed: 42)
        var sources: [String] = [], targets: [String] = []
        for i in 0..<count {
            let sourceWords = 1 + Int(rng.next() % 30), targetWords = 1 + Int(rng.next() % 25)
            sources.append((0..<sourceWords).map { "s\($0 + i)" }.joined(separator: " "))
            targets.append((0..<targetWords).map { "t\($0 * i)" }.joined(separator: " "))
        }
        return try CorpusLoader.load(.files(source: folder.write("s.txt", sources.joined(separator: "\n")),
                                            target: folder.write("t.txt", targets.joined(separator: "\n"))),
                                     encoder: WordHashEncoder())
    }

    private func take(_ count: Int, from iterator: inout BatchIterator) -> [Batch] {
        (0..<count).map { _ in iterator.next() }
    }

    func testEveryPairAppearsOncePerEpochWithCorrectRows() throws {
        let folder = TemporaryFolder()
        let corpus = try syntheticCorpus(folder: folder)
        var iterator = try BatchIterator(corpus: corpus, options: BatchingOptions(targetTokensPerBatch: 200, maxiBatch: 4))
        let perEpoch = iterator.batchesInEpoch
        let batches = take(perEpoch, from: &iterator)
        XCTAssertEqual(batches.flatMap(\.pairIndices).sorted(), Array(0..<corpus.count))
        for batch in batches {
            // The budget holds unless a single long row exceeds it alone.
            XCTAssertTrue(batch.target.batchSize * batch.target.maxLength <= 200 || batch.target.batchSize == 1)
            for (row, pair) in batch.pairIndices.enumerated() {
                XCTAssertEqual(Array(batch.source.sequence(row)), Array(corpus.source(pair)))
                XCTAssertEqual(Array(batch.target.sequence(row)), Array(corpus.target(pair)))
                XCTAssertEqual(batch.target.sequence(row).last, SpecialTokens.eos)
                let padding = batch.target.ids[(row * batch.target.maxLength + Int(batch.target.lengths[row]))..<((row + 1) * batch.target.maxLength)]
                XCTAssertTrue(padding.allSatisfy { $0 == SpecialTokens.pad })
            }
        }
        XCTAssertEqual(iterator.position.epoch, 0)
        _ = iterator.next()
        XCTAssertEqual(iterator.position.epoch, 1)
        XCTAssertEqual(iterator.position.batchIndex, 1)
    }

    func testSentenceCountBatching() throws {
        let folder = TemporaryFolder()
        let corpus = try syntheticCorpus(103, folder: folder)
        var iterator = try BatchIterator(corpus: corpus, options: BatchingOptions(sentencesPerBatch: 10, maxiBatch: 3))
        let batches = take(iterator.batchesInEpoch, from: &iterator)
        XCTAssertTrue(batches.allSatisfy { $0.source.batchSize <= 10 })
        XCTAssertEqual(batches.map(\.source.batchSize).reduce(0, +), 103)
        // 103 pairs in windows of 30: 30, 30, 30, 13 → 3 + 3 + 3 + 2 batches.
        XCTAssertEqual(batches.count, 11)
    }

    func testSameSeedSameBatchesAndDifferentSeedDifferentOrder() throws {
        let folder = TemporaryFolder()
        let corpus = try syntheticCorpus(folder: folder)
        var first = try BatchIterator(corpus: corpus, options: BatchingOptions(targetTokensPerBatch: 300, seed: 7))
        var second = try BatchIterator(corpus: corpus, options: BatchingOptions(targetTokensPerBatch: 300, seed: 7))
        var other = try BatchIterator(corpus: corpus, options: BatchingOptions(targetTokensPerBatch: 300, seed: 8))
        let count = first.batchesInEpoch * 2 + 3
        let firstBatches = take(count, from: &first)
        XCTAssertEqual(firstBatches, take(count, from: &second))
        XCTAssertNotEqual(firstBatches.map(\.pairIndices), take(count, from: &other).map(\.pairIndices))
        // Epochs differ from each other too.
        let perEpoch = first.batchesInEpoch
        XCTAssertNotEqual(firstBatches[0..<perEpoch].map(\.pairIndices), firstBatches[perEpoch..<(2 * perEpoch)].map(\.pairIndices))
    }

    func testResumedIteratorContinuesWithExactlyTheNextBatches() throws {
        let folder = TemporaryFolder()
        let corpus = try syntheticCorpus(folder: folder)
        let options = BatchingOptions(targetTokensPerBatch: 250, maxiBatch: 5, seed: 3)
        // Stop points inside epoch 0, exactly at its end, and inside a later epoch.
        var probe = try BatchIterator(corpus: corpus, options: options)
        let perEpoch = probe.batchesInEpoch
        _ = probe.next()
        for stop in [1, 5, perEpoch, perEpoch + 4, 2 * perEpoch + 1] {
            var original = try BatchIterator(corpus: corpus, options: options)
            _ = take(stop, from: &original)
            let saved = try JSONEncoder().encode(original.position)
            let position = try JSONDecoder().decode(BatchPosition.self, from: saved)
            var resumed = try BatchIterator(corpus: corpus, options: options, resumingFrom: position)
            XCTAssertEqual(take(perEpoch + 2, from: &resumed), take(perEpoch + 2, from: &original), "stopped after \(stop)")
        }
    }

    func testPositionFromAnotherCorpusIsRefused() throws {
        let folder = TemporaryFolder()
        let corpus = try syntheticCorpus(50, folder: folder)
        var position = try BatchIterator(corpus: corpus, options: BatchingOptions()).position
        position.pairCount = 51
        XCTAssertThrowsError(try BatchIterator(corpus: corpus, options: BatchingOptions(), resumingFrom: position)) { error in
            guard case .positionMismatch? = error as? CorpusError else { return XCTFail("\(error)") }
        }
    }

    func testBadBatchingOptionsAreRefused() throws {
        let folder = TemporaryFolder()
        let corpus = try syntheticCorpus(10, folder: folder)
        XCTAssertThrowsError(try BatchIterator(corpus: corpus, options: BatchingOptions(targetTokensPerBatch: 0)))
        XCTAssertThrowsError(try BatchIterator(corpus: corpus, options: BatchingOptions(sentencesPerBatch: 0)))
        XCTAssertThrowsError(try BatchIterator(corpus: corpus, options: BatchingOptions(maxiBatch: 0)))
    }

    func testMulti30kDefaultBatchingPadsUnderTenPercent() throws {
        guard let folder = multi30kFolder() else { return }
        let corpus = try CorpusLoader.load(.files(source: folder + "/train.fr", target: folder + "/train.en"),
                                           encoder: WordHashEncoder())
        let iterator = try BatchIterator(corpus: corpus, options: BatchingOptions())
        let statistics = iterator.epochStatistics()
        XCTAssertEqual(statistics.sourceTokens, corpus.statistics.sourceTokens)
        XCTAssertEqual(statistics.targetTokens, corpus.statistics.targetTokens)
        XCTAssertLessThan(statistics.targetPaddingFraction, 0.10)
        XCTAssertLessThan(statistics.sourcePaddingFraction, 0.10)
        // About the default number of target slots per batch.
        let perBatch = Double(BatchingOptions().targetTokensPerBatch)
        XCTAssertEqual(Double(statistics.targetSlots) / Double(statistics.batches), perBatch, accuracy: 0.1 * perBatch)
    }
}
