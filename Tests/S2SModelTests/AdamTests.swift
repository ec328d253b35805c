import XCTest
@testable import S2SModel
import S2STensor
import S2STraining

/// Adam, clipping and the full training step.
final class AdamTests: XCTestCase {
    /// A handful of sentence pairs are memorized: the loss (ε = 0, no dropout) falls near zero.
    func testTrainStepOverfitsASmallBatch() throws {
        var config = GradientCheck.tinyConfig()
        config.embeddingSize = 16
        config.hiddenSize = 16
        config.attentionSize = 16
        config.labelSmoothing = 0
        let model = try Seq2SeqModel(config: config, seed: 3)
        let batch = GradientCheck.batch(sourceLengths: [5, 3, 6, 4], targetLengths: [4, 6, 3, 5], config: config, seed: 9)
        let trainer = try GradientCheck.trainer(model, learningRate: 0.02, clipNorm: 5)
        let first = try trainer.trainStep(batches: [batch], update: 1)
        var last = first
        for update in 2...251 { last = try trainer.trainStep(batches: [batch], update: update) }
        XCTAssertEqual(trainer.optimizer.step, 251)
        XCTAssertEqual(first.targetTokens, batch.target.tokenCount)
        XCTAssertGreaterThan(first.loss, 1.5)
        XCTAssertLessThan(try model.evaluate(batch: batch).meanLoss, 0.05, "first loss \(first.loss), last \(last.loss)")
    }

    /// Same seed, same batches: bit-identical parameters and moments after training with
    /// dropout on (what resuming from a checkpoint relies on).
    func testTrainingWithDropoutIsDeterministic() throws {
        let config = GradientCheck.tinyConfig(dropout: 0.2)
        let batch = GradientCheck.batch(sourceLengths: [4, 2], targetLengths: [3, 5], config: config, seed: 4)
        var results: [[Float]] = []
        for _ in 0..<2 {
            let model = try Seq2SeqModel(config: config, seed: 8)
            let trainer = try GradientCheck.trainer(model, learningRate: 0.01)
            for update in 1...3 { _ = try trainer.trainStep(batches: [batch], update: update) }
            results.append(model.parameters.elements + trainer.optimizer.secondMoment.elements)
        }
        XCTAssertEqual(results[0], results[1])
        let fresh = try Seq2SeqParameters.initialized(for: config, seed: 8)
        XCTAssertNotEqual(fresh.elements, Array(results[0].prefix(fresh.values.count)))
    }

    /// One Adam step against the formula written out by hand.
    func testAdamStepMatchesTheFormula() {
        let parameters = ParameterStore(layout: [("w", [3])])
        let gradients = ParameterStore(sameLayoutAs: parameters)
        let w = parameters.tensor("w"), g = gradients.tensor("w")
        w[0] = 1; w[1] = -2; w[2] = 0.5
        g[0] = 0.1; g[1] = -0.3; g[2] = 0
        let adam = Adam(parameters: parameters, learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                        weightDecay: 0.1)
        adam.update(parameters: parameters, gradients: gradients)
        adam.update(parameters: parameters, gradients: gradients)
        var expected: [Double] = [1, -2, 0.5]
        var m = [Double](repeating: 0, count: 3), v = m
        for t in 1...2 {
            for i in 0..<3 {
                let grad = Double(g[i])
                m[i] = 0.9 * m[i] + 0.1 * grad
                v[i] = 0.999 * v[i] + 0.001 * grad * grad
                let mHat = m[i] / (1 - pow(0.9, Double(t))), vHat = v[i] / (1 - pow(0.999, Double(t)))
                expected[i] = expected[i] * (1 - 0.01 * 0.1) - 0.01 * mHat / (vHat.squareRoot() + 1e-8)
            }
        }
        for i in 0..<3 { XCTAssertEqual(Double(w[i]), expected[i], accuracy: 1e-6) }
        XCTAssertEqual(adam.step, 2)
        XCTAssertEqual(Double(adam.firstMoment.tensor("w")[1]), m[1], accuracy: 1e-7)
        XCTAssertEqual(Double(adam.secondMoment.tensor("w")[1]), v[1], accuracy: 1e-4 * v[1])
    }

    func testClippingScalesToTheMaximumNorm() {
        let gradients = ParameterStore(layout: [("a", [2]), ("b", [1])])
        gradients.tensor("a")[0] = 3
        gradients.tensor("b")[0] = 4
        XCTAssertEqual(GradientClipping.clip(gradients, maxNorm: 1), 5, accuracy: 1e-6)
        XCTAssertEqual(GradientClipping.globalNorm(gradients), 1, accuracy: 1e-6)
        XCTAssertEqual(gradients.tensor("a")[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(GradientClipping.clip(gradients, maxNorm: 10), 1, accuracy: 1e-6)
        XCTAssertEqual(gradients.tensor("b")[0], 0.8, accuracy: 1e-6)
    }

    /// A NaN in the parameters is reported with the step number, and no update is applied.
    func testNonFiniteLossIsATypedErrorWithTheStep() throws {
        let config = GradientCheck.tinyConfig()
        let model = try Seq2SeqModel(config: config, seed: 3)
        let batch = GradientCheck.batch(sourceLengths: [3], targetLengths: [3], config: config, seed: 1)
        let trainer = try GradientCheck.trainer(model, learningRate: 0.01)
        _ = try trainer.trainStep(batches: [batch], update: 1)
        model.parameters.tensor("output.bo")[5] = .nan
        XCTAssertThrowsError(try trainer.trainStep(batches: [batch], update: 2)) { error in
            guard case let TrainingError.nonFinite(step, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(step, 2)
        }
        XCTAssertEqual(trainer.optimizer.step, 1)
    }
}
