import S2SCore
import S2STensor
import XCTest
@testable import S2SModel

/// The decoding network against the training forward pass.
final class Seq2SeqInferenceTests: XCTestCase {
    /// Teacher-forced steps give exactly the training pass's plain cross-entropy (the one
    /// validation reports, without label smoothing): the same network.
    func testTeacherForcedStepsReproduceTrainingLoss() throws {
        for (tied, normalized) in [(false, false), (true, false), (false, true)] {
            var config = GradientCheck.tinyConfig(tied: tied, layerNormalization: normalized)
            config.labelSmoothing = 0.1
            let model = try Seq2SeqModel(config: config, seed: 21)
            let batch = GradientCheck.batch(sourceLengths: [5, 2, 4], targetLengths: [3, 6, 4], config: config, seed: 8)
            let expected = try model.evaluate(batch: batch).negativeLogLikelihood

            let inference = try Seq2SeqInference(config: config, parameters: model.parameters)
            let sources = (0..<3).map { Array(batch.source.sequence($0)) }
            try inference.begin(sources: sources)
            let v = config.targetVocabularySize
            var logProbabilities = [Float](repeating: 0, count: 3 * v)
            var total: Double = 0
            var previous = [Int32](repeating: SpecialTokens.bos, count: 3)
            for i in 0..<batch.target.maxLength {
                logProbabilities.withUnsafeMutableBufferPointer {
                    inference.step(previousTokens: previous, logProbabilities: $0)
                }
                for row in 0..<3 {
                    let probabilities = logProbabilities[(row * v)..<((row + 1) * v)].map { exp(Double($0)) }
                    XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-5)
                    let attention = inference.attention(row: row)
                    XCTAssertEqual(attention.count, Int(batch.source.lengths[row]))
                    XCTAssertEqual(Double(attention.reduce(0, +)), 1, accuracy: 1e-5)
                    if i < batch.target.lengths[row] {
                        let gold = Int(batch.target.ids[row * batch.target.maxLength + i])
                        total -= Double(logProbabilities[row * v + gold])
                    }
                }
                previous = (0..<3).map { batch.target.ids[$0 * batch.target.maxLength + i] }
            }
            XCTAssertEqual(total, expected, accuracy: 1e-4 * abs(expected), "tied: \(tied), normalized: \(normalized)")
        }
    }

    /// select duplicates and reorders rows: a copied row continues exactly as its parent.
    func testSelectCopiesStatesAndSources() throws {
        let config = GradientCheck.tinyConfig()
        let parameters = try Seq2SeqParameters.initialized(for: config, seed: 4)
        let inference = try Seq2SeqInference(config: config, parameters: parameters)
        try inference.begin(sources: [[5, 6, 7, 3], [8, 3]])
        let v = config.targetVocabularySize
        var out = [Float](repeating: 0, count: 3 * v)
        out.withUnsafeMutableBufferPointer { inference.step(previousTokens: [2, 2], logProbabilities: $0) }
        inference.select(parents: [1, 0, 1])
        out.withUnsafeMutableBufferPointer { inference.step(previousTokens: [9, 4, 9], logProbabilities: $0) }
        XCTAssertEqual(Array(out[0..<v]), Array(out[(2 * v)..<(3 * v)]))
        XCTAssertNotEqual(Array(out[0..<v]), Array(out[v..<(2 * v)]))
        XCTAssertEqual(inference.attention(row: 0).count, 2)
        XCTAssertEqual(inference.attention(row: 1).count, 4)

        // The same continuation decoded alone agrees with the row in the mixed batch.
        let alone = try Seq2SeqInference(config: config, parameters: parameters)
        try alone.begin(sources: [[8, 3]])
        var single = [Float](repeating: 0, count: v)
        single.withUnsafeMutableBufferPointer { alone.step(previousTokens: [2], logProbabilities: $0) }
        single.withUnsafeMutableBufferPointer { alone.step(previousTokens: [9], logProbabilities: $0) }
        for (x, y) in zip(single, out[0..<v]) { XCTAssertEqual(x, y, accuracy: 1e-5) }
    }

    /// Decoding in small batches (products on the packed weights) and in one large batch
    /// (OpenBLAS on the plain parameters) gives the same log-probabilities, for plain, tied and
    /// layer-normalized networks.
    func testSmallAndLargeBatchesAgree() throws {
        for (tied, normalized) in [(false, false), (true, false), (false, true)] {
            let config = GradientCheck.tinyConfig(tied: tied, layerNormalization: normalized)
            let parameters = try Seq2SeqParameters.initialized(for: config, seed: 17)
            let v = config.targetVocabularySize
            var rng = SeededRNG(seed: 3)
            let count = 2 * PackedMatrix.rowLimit(threads: BLAS.threads) + 3
            let sources = (0..<count).map { row in
                (0..<(2 + row % 5)).map { _ in Int32(4 + Int(rng.uniform() * Float(config.sourceVocabularySize - 4))) }
            }
            let tokens = (0..<3).map { step in (0..<count).map { Int32(4 + ($0 * 7 + step * 3) % (v - 4)) } }
            func decode(_ rows: Range<Int>) throws -> [Float] {
                let inference = try Seq2SeqInference(config: config, parameters: parameters)
                try inference.begin(sources: Array(sources[rows]))
                var out = [Float](repeating: 0, count: rows.count * v)
                for step in 0..<3 {
                    let previous = step == 0 ? [Int32](repeating: SpecialTokens.bos, count: rows.count)
                                             : Array(tokens[step - 1][rows])
                    out.withUnsafeMutableBufferPointer { inference.step(previousTokens: previous, logProbabilities: $0) }
                }
                return out
            }
            let large = try decode(0..<count)
            for first in stride(from: 0, to: count, by: 4) {
                let rows = first..<min(count, first + 4)
                let small = try decode(rows)
                for (x, y) in zip(small, large[(first * v)..<(rows.upperBound * v)]) {
                    XCTAssertEqual(x, y, accuracy: 1e-4, "tied: \(tied), normalized: \(normalized), rows \(rows)")
                }
            }
        }
    }

    /// A shortlist of every target id computes exactly what the whole output layer does, in
    /// fp32 and in 8 bits; a real shortlist writes one column per id of the batch's list, with
    /// probabilities that sum to 1 over them.
    func testShortlistOfEveryIdIsExactAndAShortOneRenormalizes() throws {
        for (tied, int8) in [(false, false), (true, false), (false, true)] {
            let config = GradientCheck.tinyConfig(tied: tied)
            let parameters = try Seq2SeqParameters.initialized(for: config, seed: 12)
            let v = config.targetVocabularySize
            let everything = try Shortlist(lists: Array(repeating: (0..<Int32(v)).map { $0 }, count: config.sourceVocabularySize),
                                           perSource: v, frequent: [])
            let few = try Shortlist(lists: (0..<config.sourceVocabularySize).map { [Int32(4 + $0 % 5)] }, perSource: 1,
                                    frequent: [9])
            func decode(_ shortlist: Shortlist?) throws -> (values: [Float], columns: [Int32]) {
                let inference = try Seq2SeqInference(config: config, parameters: parameters, int8: int8)
                inference.shortlist = shortlist
                try inference.begin(sources: [[5, 6, 3], [7, 3]])
                var out = [Float](repeating: 0, count: 2 * v)
                out.withUnsafeMutableBufferPointer { inference.step(previousTokens: [2, 2], logProbabilities: $0) }
                out.withUnsafeMutableBufferPointer { inference.step(previousTokens: [4, 8], logProbabilities: $0) }
                return (out, inference.outputColumns)
            }
            let whole = try decode(nil), listedEverything = try decode(everything)
            XCTAssertEqual(whole.columns, [])
            XCTAssertEqual(listedEverything.columns, (0..<Int32(v)).map { $0 })
            XCTAssertEqual(listedEverything.values, whole.values, "tied \(tied), int8 \(int8)")
            let restricted = try decode(few)
            let allowed = few.candidates(for: [[5, 6, 3], [7, 3]])
            XCTAssertEqual(restricted.columns, allowed)
            XCTAssertTrue(allowed.count < v)
            for row in 0..<2 {
                let total = restricted.values[(row * allowed.count)..<((row + 1) * allowed.count)]
                    .reduce(0.0) { $0 + exp(Double($1)) }
                XCTAssertEqual(total, 1, accuracy: 1e-5)
                // Each column is the whole layer's log-probability of its id, renormalized.
                let logMass = log(allowed.reduce(0.0) { $0 + exp(Double(whole.values[row * v + Int($1)])) })
                for (column, id) in allowed.enumerated() {
                    XCTAssertEqual(Double(restricted.values[row * allowed.count + column]),
                                   Double(whole.values[row * v + Int(id)]) - logMass, accuracy: 1e-4,
                                   "tied \(tied), int8 \(int8), row \(row), id \(id)")
                }
            }
        }
    }

    /// Greedy search begins with a whole stream of sentences and decodes a few at a time: the
    /// output columns then cover the rows' sentences and the next ones ahead, not the stream,
    /// and a sentence started later gets its list before its first step.
    func testShortlistColumnsFollowTheRowsSentences() throws {
        let config = GradientCheck.tinyConfig()
        let parameters = try Seq2SeqParameters.initialized(for: config, seed: 12)
        // Source piece 4 + k translates to target piece 4 + k only; no frequent pieces.
        let lists = (0..<config.sourceVocabularySize).map { [Int32(min($0, config.targetVocabularySize - 1))] }
        let shortlist = try Shortlist(lists: lists, perSource: 1, frequent: [])
        let inference = try Seq2SeqInference(config: config, parameters: parameters)
        inference.shortlist = shortlist
        let sources: [[Int32]] = (0..<6).map { [Int32(4 + $0), 3] }
        try inference.begin(sources: sources)
        inference.select(parents: [0])
        let v = config.targetVocabularySize
        var out = [Float](repeating: 0, count: 2 * v)
        out.withUnsafeMutableBufferPointer { inference.step(previousTokens: [2], logProbabilities: $0) }
        // Row 0 is sentence 0; one row, so sentence 1 is covered ahead and sentences 2… are not.
        XCTAssertEqual(inference.outputColumns, [0, 1, 2, 3, 4, 5])
        // Sentence 1 was covered ahead: starting it gathers nothing new.
        inference.start(sentences: [1])
        out.withUnsafeMutableBufferPointer { inference.step(previousTokens: [5, 2], logProbabilities: $0) }
        XCTAssertEqual(inference.outputColumns, [0, 1, 2, 3, 4, 5])
        inference.select(parents: [])
        inference.start(sentences: [4, 5])
        out.withUnsafeMutableBufferPointer { inference.step(previousTokens: [2, 2], logProbabilities: $0) }
        XCTAssertEqual(inference.outputColumns, [0, 1, 2, 3, 8, 9])
        for row in 0..<2 {
            XCTAssertEqual(out[(row * 6)..<(row * 6 + 6)].reduce(0.0) { $0 + exp(Double($1)) }, 1, accuracy: 1e-5)
        }
    }

    func testBadSourcesAreTypedErrors() throws {
        let config = GradientCheck.tinyConfig()
        let inference = try Seq2SeqInference(config: config, parameters: Seq2SeqParameters.initialized(for: config, seed: 1))
        XCTAssertThrowsError(try inference.begin(sources: []))
        XCTAssertThrowsError(try inference.begin(sources: [[]]))
        XCTAssertThrowsError(try inference.begin(sources: [[5, 99]]))
    }
}
