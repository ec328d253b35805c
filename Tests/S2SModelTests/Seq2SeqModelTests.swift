import S2SCore
import S2STensor
import XCTest
@testable import S2SModel

/// The whole network: gradients of every parameter tensor against central differences, padding
/// invariance, and the typed errors for bad configurations and batches.
final class Seq2SeqModelTests: XCTestCase {
    private let sourceLengths = [5, 3, 1], targetLengths = [4, 6, 2]

    /// Gradients of the mean loss for every tensor; with dropout (`training`), every evaluation
    /// draws the same masks from the same `DropoutDraw`.
    private func checkAllTensors(config: ModelConfig, training: Bool, file: StaticString = #filePath,
                                 line: UInt = #line) throws -> Int {
        let model = try Seq2SeqModel(config: config, seed: 7)
        let batch = GradientCheck.batch(sourceLengths: sourceLengths, targetLengths: targetLengths,
                                        config: config, seed: 3)
        let draw = training ? DropoutDraw(seed: 5, update: 1) : nil
        model.zeroGradients()
        _ = try model.forwardBackward(batch: batch, dropout: draw)
        let analytic = ParameterStore(sameLayoutAs: model.parameters)
        analytic.copy(from: model.gradients)
        // A step of 4e-3: at 1e-2 the central difference's own truncation error reaches the
        // tolerance for a few elements of the layer-normalized GRUs.
        let (mismatches, checked) = try GradientCheck.check(store: model.parameters, analytic: analytic, step: 4e-3) {
            let loss = try model.forwardBackward(batch: batch, dropout: draw)
            return loss.totalLoss / Double(loss.targetTokens)
        }
        XCTAssertTrue(mismatches.isEmpty, "gradient mismatches:\n" + mismatches.map(\.description).joined(separator: "\n"),
                      file: file, line: line)
        return checked
    }

    func testEveryParameterGradientMatchesFiniteDifferencesUntied() throws {
        let checked = try checkAllTensors(config: GradientCheck.tinyConfig(), training: false)
        XCTAssertGreaterThan(checked, 200)
    }

    func testEveryParameterGradientMatchesFiniteDifferencesTied() throws {
        let checked = try checkAllTensors(config: GradientCheck.tinyConfig(tied: true), training: false)
        XCTAssertGreaterThan(checked, 200)
    }

    /// Widths above 16 run the kernels' full SIMD16 lanes as well as their tails (the tiny
    /// config's widths are all below 16, so it exercises only the tails).
    func testGradientsMatchWithWidthsAcrossSIMDLanes() throws {
        var config = ModelConfig(sourceVocabularySize: 37, targetVocabularySize: 35)
        config.embeddingSize = 18
        config.hiddenSize = 20
        config.attentionSize = 17
        config.labelSmoothing = 0.1
        _ = try checkAllTensors(config: config, training: false)
    }

    func testGradientsMatchWithDropoutMasksReplayed() throws {
        _ = try checkAllTensors(config: GradientCheck.tinyConfig(dropout: 0.3), training: true)
    }

    /// Layer normalization in all four GRUs: every tensor, the eight gains included, with
    /// dropout masks replayed, at the tiny widths and across SIMD lanes (3H = 60).
    func testLayerNormalizedGradientsMatchFiniteDifferences() throws {
        let checked = try checkAllTensors(config: GradientCheck.tinyConfig(dropout: 0.2, layerNormalization: true),
                                          training: true)
        XCTAssertGreaterThan(checked, 250)
        var config = ModelConfig(sourceVocabularySize: 37, targetVocabularySize: 35)
        config.embeddingSize = 18
        config.hiddenSize = 20
        config.attentionSize = 17
        config.layerNormalization = true
        _ = try checkAllTensors(config: config, training: false)
    }

    /// The check must be able to fail: a gradient with one flipped sign or one missing term
    /// (here: a whole tensor's gradient halved, and one element negated) is caught.
    func testGradientCheckDetectsABrokenGradient() throws {
        let config = GradientCheck.tinyConfig()
        let model = try Seq2SeqModel(config: config, seed: 7)
        let batch = GradientCheck.batch(sourceLengths: sourceLengths, targetLengths: targetLengths, config: config, seed: 3)
        model.zeroGradients()
        _ = try model.forwardBackward(batch: batch, dropout: nil)
        for name in ["attention.v", "encoder.backward.U", "decoder.gru2.W"] {
            let broken = ParameterStore(sameLayoutAs: model.parameters)
            broken.copy(from: model.gradients)
            let tensor = broken.tensor(name)
            for i in 0..<tensor.count { tensor[i] = -tensor[i] }
            let (mismatches, _) = try GradientCheck.check(store: model.parameters, analytic: broken, names: [name]) {
                try model.evaluate(batch: batch).totalLoss / Double(batch.target.tokenCount)
            }
            XCTAssertFalse(mismatches.isEmpty, "a sign-flipped gradient of \(name) passed the check")
        }
    }

    /// Each sentence alone and inside a padded batch: same loss, and the batch gradient is the
    /// token-weighted sum of the single-sentence gradients.
    func testPaddedBatchMatchesSentencesAlone() throws {
        let config = GradientCheck.tinyConfig()
        let model = try Seq2SeqModel(config: config, seed: 11)
        let batch = GradientCheck.batch(sourceLengths: [6, 2, 4], targetLengths: [3, 7, 5], config: config, seed: 5)
        model.zeroGradients()
        let batchLoss = try model.forwardBackward(batch: batch, dropout: nil)
        let batchGradient = ParameterStore(sameLayoutAs: model.parameters)
        batchGradient.copy(from: model.gradients)
        BLAS.scale(count: batchGradient.values.count, alpha: Float(batchLoss.targetTokens),
                   x: batchGradient.values.baseAddress!)

        let summed = ParameterStore(sameLayoutAs: model.parameters)
        var totalLoss: Double = 0
        for row in 0..<3 {
            let alone = Batch(source: TokenMatrix(padding: [Array(batch.source.sequence(row))]),
                              target: TokenMatrix(padding: [Array(batch.target.sequence(row))]), pairIndices: [row])
            model.zeroGradients()
            let loss = try model.forwardBackward(batch: alone, dropout: nil)
            totalLoss += loss.totalLoss
            BLAS.axpy(count: summed.values.count, alpha: Float(loss.targetTokens),
                      x: model.gradients.values.baseAddress!, y: summed.values.baseAddress!)
        }
        XCTAssertEqual(batchLoss.totalLoss, totalLoss, accuracy: 1e-5 * abs(totalLoss))
        var worst: Float = 0
        for i in 0..<summed.values.count {
            let difference = abs(summed.values[i] - batchGradient.values[i])
            worst = max(worst, difference / (abs(summed.values[i]) + 1e-3))
        }
        XCTAssertLessThan(worst, 1e-3)
    }

    /// The memory estimate the trainer checks before its first update counts exactly the
    /// floats a training step reserves, for a few shapes (tied and untied, dropout on and off).
    func testTrainingWorkspaceEstimateMatchesWhatAStepReserves() throws {
        for (tied, dropout, normalized, lengths) in [(false, Float(0), false, ([17, 9, 20], [18, 25, 4])),
                                                     (true, 0.2, false, ([30, 16], [16, 19])),
                                                     (false, 0.1, true, ([17, 7], [9, 14]))] {
            var config = GradientCheck.tinyConfig()
            config.tiedEmbeddings = tied
            config.layerNormalization = normalized
            config.hiddenSize = 8  // buffers are at least 16 floats: keep every B·H, B·A at 16 or more
            config.attentionSize = 8
            config.embeddingDropout = dropout
            config.stateDropout = dropout
            config.outputDropout = dropout
            let model = try Seq2SeqModel(config: config, seed: 1)
            let batch = GradientCheck.batch(sourceLengths: lengths.0, targetLengths: lengths.1, config: config, seed: 2)
            _ = try model.forwardBackward(batch: batch, dropout: DropoutDraw(seed: 1, update: 1))
            let estimate = Seq2SeqModel.trainingWorkspaceFloats(config: config, batchSize: lengths.0.count,
                                                                sourceLength: lengths.0.max()!, targetLength: lengths.1.max()!)
            XCTAssertEqual(estimate, model.arena.capacity, "tied \(tied), dropout \(dropout), normalized \(normalized)")
        }
    }

    /// Rows split across threads (GRU gates, attention, loss) give the same loss and gradients
    /// as one thread, on a batch large enough to be split.
    func testThreadedKernelsMatchSingleThreaded() throws {
        let config = GradientCheck.tinyConfig()
        let lengths = (0..<24).map { 1 + $0 % 6 }
        let batch = GradientCheck.batch(sourceLengths: lengths, targetLengths: lengths.reversed(), config: config, seed: 6)
        let savedThreads = BLAS.threads
        defer { BLAS.setThreads(savedThreads) }
        var results: [(BatchLoss, [Float])] = []
        for threads in [1, 2] {
            BLAS.setThreads(threads)
            let model = try Seq2SeqModel(config: config, seed: 12)
            model.zeroGradients()
            let loss = try model.forwardBackward(batch: batch, dropout: nil)
            results.append((loss, model.gradients.elements))
        }
        XCTAssertEqual(results[0].0.totalLoss, results[1].0.totalLoss, accuracy: 1e-9 * results[0].0.totalLoss + 1e-6)
        for (a, b) in zip(results[0].1, results[1].1) { XCTAssertEqual(a, b, accuracy: 1e-6 + 1e-4 * abs(a)) }
    }

    func testInitializationIsSeededAndRecurrentBlocksAreOrthogonal() throws {
        var config = GradientCheck.tinyConfig()
        config.hiddenSize = 8
        let a = try Seq2SeqParameters.initialized(for: config, seed: 1)
        let b = try Seq2SeqParameters.initialized(for: config, seed: 1)
        XCTAssertEqual(a.elements, b.elements)
        let h = 8
        let u = a.tensor("decoder.gru1.U")
        for gate in 0..<3 {
            for i in 0..<h {
                for j in 0..<h {
                    var dot: Float = 0
                    for row in 0..<h { dot += u[row * 3 * h + gate * h + i] * u[row * 3 * h + gate * h + j] }
                    XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-5)
                }
            }
        }
        XCTAssertTrue(a.tensor("decoder.gru1.b").allSatisfy { $0 == 0 })
        XCTAssertEqual(a.entry("output.Wo")?.shape, [config.embeddingSize, config.targetVocabularySize])
        config.tiedEmbeddings = true
        XCTAssertNil(try Seq2SeqParameters.initialized(for: config, seed: 1).entry("output.Wo"))
        XCTAssertNil(a.entry("decoder.gru1.W.gain"))
        // Layer normalization adds two gains per GRU, starting at 1 (the identity scale).
        config.layerNormalization = true
        let normalized = try Seq2SeqParameters.initialized(for: config, seed: 1)
        for gru in ["encoder.forward", "encoder.backward", "decoder.gru1", "decoder.gru2"] {
            for side in ["W", "U"] {
                let gain = try XCTUnwrap(normalized.entry("\(gru).\(side).gain"), "\(gru).\(side).gain")
                XCTAssertEqual(gain.shape, [3 * h])
                XCTAssertTrue(normalized.tensor(gain.name).allSatisfy { $0 == 1 })
            }
        }
        XCTAssertEqual(normalized.entries.count, a.entries.count - 1 + 8)
    }

    /// A fresh model's first loss is near ln V, tied or not: its first logits have about unit
    /// variance (a tied target embedding starts at N(0, 1/E), not N(0, 1)).
    func testFirstLossIsNearTheUniformLoss() throws {
        for tied in [false, true] {
            var config = ModelConfig(sourceVocabularySize: 500, targetVocabularySize: 500)
            config.embeddingSize = 128
            config.hiddenSize = 64
            config.attentionSize = 64
            config.tiedEmbeddings = tied
            config.labelSmoothing = 0
            let model = try Seq2SeqModel(config: config, seed: 3)
            let batch = GradientCheck.batch(sourceLengths: [9, 7, 12, 5], targetLengths: [8, 11, 6, 9], config: config, seed: 4)
            let loss = Double(try model.evaluate(batch: batch).meanLoss)
            XCTAssertEqual(loss, log(500), accuracy: 1.0, "tied \(tied)")
        }
    }

    func testBadConfigurationsAreTypedErrors() {
        var config = GradientCheck.tinyConfig()
        config.hiddenSize = 0
        XCTAssertThrowsError(try Seq2SeqModel(config: config, seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("hiddenSize"), "\(error)")
        }
        config = GradientCheck.tinyConfig()
        config.embeddingSize = -3
        XCTAssertThrowsError(try Seq2SeqModel(config: config, seed: 1))
        config = GradientCheck.tinyConfig()
        config.outputDropout = 1
        XCTAssertThrowsError(try Seq2SeqModel(config: config, seed: 1))
        config = GradientCheck.tinyConfig()
        config.targetVocabularySize = 3
        XCTAssertThrowsError(try Seq2SeqModel(config: config, seed: 1))
    }

    func testOutOfRangeIdsAndBadBatchesAreTypedErrors() throws {
        let config = GradientCheck.tinyConfig()
        let model = try Seq2SeqModel(config: config, seed: 1)
        let good = GradientCheck.batch(sourceLengths: [3], targetLengths: [3], config: config, seed: 1)
        var bad = good
        bad.target.ids[0] = Int32(config.targetVocabularySize)
        XCTAssertThrowsError(try model.forwardBackward(batch: bad, dropout: nil)) { error in
            XCTAssertEqual(error as? ModelError,
                           .tokenOutOfRange(side: "target", id: Int32(config.targetVocabularySize), vocabularySize: 11))
        }
        bad = good
        bad.source.ids[1] = -1
        XCTAssertThrowsError(try model.evaluate(batch: bad))
        bad = good
        bad.source.lengths[0] = 0
        XCTAssertThrowsError(try model.evaluate(batch: bad))
        let wrongLayout = try Seq2SeqParameters.initialized(for: GradientCheck.tinyConfig(tied: true), seed: 1)
        XCTAssertThrowsError(try Seq2SeqModel(config: config, parameters: wrongLayout))
    }

    func testGradientsAccumulateAcrossCalls() throws {
        let config = GradientCheck.tinyConfig()
        let model = try Seq2SeqModel(config: config, seed: 2)
        let batch = GradientCheck.batch(sourceLengths: [4, 2], targetLengths: [3, 5], config: config, seed: 2)
        model.zeroGradients()
        _ = try model.forwardBackward(batch: batch, dropout: nil)
        let once = model.gradients.elements
        _ = try model.forwardBackward(batch: batch, dropout: nil)
        for (twice, single) in zip(model.gradients.values, once) {
            XCTAssertEqual(twice, 2 * single, accuracy: 1e-6 + 1e-5 * abs(single))
        }
        XCTAssertTrue(once.contains { $0 != 0 })
    }
}
