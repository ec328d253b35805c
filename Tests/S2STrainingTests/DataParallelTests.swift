import S2SCore
import XCTest
@testable import S2SModel
@testable import S2STensor
@testable import S2STraining

/// Data-parallel updates: W workers on a batch's W shares make exactly the update one worker
/// makes from those shares accumulated, and the update of one worker on the whole batch up to
/// float rounding; batches are cut into shares by target tokens.
final class DataParallelTests: XCTestCase {
    private func config() -> ModelConfig {
        var config = ModelConfig(sourceVocabularySize: 41, targetVocabularySize: 39)
        config.embeddingSize = 12
        config.hiddenSize = 10
        config.attentionSize = 9
        config.embeddingDropout = 0.2
        config.stateDropout = 0.2
        config.outputDropout = 0.2
        return config
    }

    private func batch(rows: Int, seed: UInt64) -> Batch {
        var rng = SeededRNG(seed: seed)
        func sentence(_ vocabulary: Int) -> [Int32] {
            (0..<(2 + Int(rng.next() % 9))).map { _ in Int32(4 + Int(rng.next() % UInt64(vocabulary - 4))) } + [SpecialTokens.eos]
        }
        let c = config()
        let pairs = (0..<rows).map { _ in (sentence(c.sourceVocabularySize), sentence(c.targetVocabularySize)) }
        return Batch(source: TokenMatrix(padding: pairs.map(\.0)), target: TokenMatrix(padding: pairs.map(\.1)),
                     pairIndices: (0..<rows).map { 1000 + 7 * $0 })
    }

    /// A trainer over fresh parameters of seed 5, and the parameters after `updates`.
    private func train(workers: Int, threads: Int = 1, updates: [[Batch]]) throws -> [Float] {
        let saved = BLAS.threads
        BLAS.setThreads(threads)
        defer { BLAS.setThreads(saved) }
        let parameters = try Seq2SeqParameters.initialized(for: config(), seed: 5)
        let trainer = try DataParallelTrainer(config: config(), parameters: parameters,
                                              optimizer: Adam(parameters: parameters, learningRate: 3e-3), clipNorm: 1,
                                              workers: workers, dropoutSeed: 9)
        for (index, batches) in updates.enumerated() {
            _ = try trainer.trainStep(batches: batches, update: index + 1)
        }
        return parameters.elements
    }

    func testWorkersOnSharesMatchOneWorkerAccumulatingTheSharesBitForBit() throws {
        let batches = (0..<3).map { batch(rows: 9 + $0, seed: UInt64($0)) }
        func differing(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).filter { $0.0.bitPattern != $0.1.bitPattern }.count }
        for workers in [2, 3] {
            let parallel = try train(workers: workers, updates: batches.map { [$0] })
            let accumulated = try train(workers: 1, updates: batches.map { $0.shares(workers).compactMap { $0 } })
            XCTAssertEqual(differing(parallel, accumulated), 0, "\(workers) workers")
        }
        // ... and the comparison can fail: three shares summed in another order round differently.
        let reordered = try train(workers: 1, updates: batches.map { Array($0.shares(3).compactMap { $0 }.reversed()) })
        XCTAssertGreaterThan(differing(try train(workers: 3, updates: batches.map { [$0] }), reordered), 0)
    }

    func testWorkersAgreeWithOneWorkerOnTheWholeBatchUpToRounding() throws {
        let batches = (0..<3).map { batch(rows: 12, seed: 10 + UInt64($0)) }
        let whole = try train(workers: 1, threads: 2, updates: batches.map { [$0] })
        let parallel = try train(workers: 2, updates: batches.map { [$0] })
        let initial = try Seq2SeqParameters.initialized(for: config(), seed: 5).elements
        var largestMove: Float = 0, largestDifference: Float = 0
        for i in whole.indices {
            largestMove = max(largestMove, abs(whole[i] - initial[i]))
            largestDifference = max(largestDifference, abs(whole[i] - parallel[i]))
        }
        XCTAssertGreaterThan(largestMove, 1e-3, "the updates moved the parameters")
        XCTAssertLessThan(largestDifference, 1e-4, "2 workers against 1 on the whole batch")
    }

    func testSharesKeepSentencesWholeAndBalanceTargetTokens() {
        let whole = batch(rows: 20, seed: 3)
        let shares = whole.shares(3)
        XCTAssertEqual(shares.count, 3)
        let present = shares.compactMap { $0 }
        XCTAssertEqual(present.flatMap(\.pairIndices), whole.pairIndices, "rows in order, each once")
        XCTAssertEqual(present.reduce(0) { $0 + $1.target.tokenCount }, whole.target.tokenCount)
        let longest = whole.target.lengths.map(Int.init).max()!
        for share in present {
            XCTAssertLessThanOrEqual(abs(share.target.tokenCount - whole.target.tokenCount / 3), longest)
            XCTAssertEqual(share.target.maxLength, share.target.lengths.map(Int.init).max())
        }
        let few = batch(rows: 2, seed: 4).shares(4)
        XCTAssertEqual(few.map { $0?.source.batchSize }, [1, 1, nil, nil])
    }
}
