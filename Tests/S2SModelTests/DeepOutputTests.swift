import S2SCore
import S2STensor
import XCTest
@testable import S2SModel

/// Deep output → output projection → label-smoothed cross-entropy, untied and tied; gradients
/// by central differences, and the loss against the formula computed directly in Double.
final class DeepOutputTests: XCTestCase {
    private func check(tied: Bool) {
        let n = 5, h = 3, e = 4, c = 6, v = 7
        let smoothing: Float = 0.2
        let deep = DeepOutputTensors(hiddenSize: h, embeddingSize: e, contextSize: c)
        let projection = OutputTensors(embeddingSize: e, vocabularySize: v, tied: tied)
        var layout: [(name: String, shape: [Int])] = [("states", [n, h]), ("embeddings", [n, e]), ("contexts", [n, c])]
        layout += (deep.all + projection.all).map { ($0.name, $0.shape) }
        if tied { layout.append(("table", [v, e])) }
        let store = ParameterStore(layout: layout)
        var rng = SeededRNG(seed: tied ? 3 : 4)
        for i in 0..<store.values.count { store.values[i] = 2 * rng.uniform() - 1 }
        let targets: [Int32] = [3, 0, 6, 2, 5]
        let weights: [Float] = [1, 1, 0, 1, 1]
        let t = FloatBuffer(capacity: n * e), logits = FloatBuffer(capacity: n * v), sums = FloatBuffer(capacity: n)
        var logitsBeforeLoss = [Float](repeating: 0, count: n * v)
        let deepWeights = deep.map { store.weight($0) }
        func output() -> OutputMatrix {
            OutputMatrix(matrix: projection.Wo.map { store.weight($0) } ?? Weight(values: store.tensor("table").baseAddress!, packed: nil),
                         tied: tied, bias: store.pointer(projection.bo))
        }
        func forward(gradient: Bool) -> Double {
            deepOutputForward(t: t.pointer, states: store.tensor("states").baseAddress!,
                              embeddings: store.tensor("embeddings").baseAddress!,
                              contexts: store.tensor("contexts").baseAddress!, weights: deepWeights,
                              rows: n, hiddenSize: h, embeddingSize: e, contextSize: c)
            outputProjectionForward(logits: logits.pointer, t: t.pointer, output: output(), rows: n,
                                    embeddingSize: e, vocabularySize: v)
            for i in 0..<(n * v) { logitsBeforeLoss[i] = logits.pointer[i] }
            let loss = crossEntropyForward(logits: logits.pointer, expSums: sums.pointer, targets: targets,
                                           weights: weights, smoothing: smoothing, rows: n, vocabularySize: v)
            if gradient {
                crossEntropyBackward(logits: logits.pointer, expSums: sums.pointer, targets: targets, weights: weights,
                                     smoothing: smoothing, scale: 1, rows: n, vocabularySize: v)
            }
            return loss.smoothed
        }
        // The loss against the formula in Double.
        let loss = forward(gradient: false)
        var freshLogits = logitsBeforeLoss  // the loss leaves its logits as scratch
        let plain = crossEntropyForward(logits: &freshLogits, expSums: sums.pointer, targets: targets, weights: weights,
                                        smoothing: smoothing, rows: n, vocabularySize: v).negativeLogLikelihood
        var expected = 0.0, expectedPlain = 0.0
        for r in 0..<n where weights[r] == 1 {
            let row = (0..<v).map { Double(logitsBeforeLoss[r * v + $0]) }
            let logZ = log(row.map { exp($0) }.reduce(0, +))
            let nll = logZ - row[Int(targets[r])]
            let uniform = row.map { logZ - $0 }.reduce(0, +) / Double(v)
            expected += (1 - Double(smoothing)) * nll + Double(smoothing) * uniform
            expectedPlain += nll
        }
        XCTAssertEqual(loss, expected, accuracy: 1e-5 * expected)
        XCTAssertEqual(plain, expectedPlain, accuracy: 1e-5 * expectedPlain)
        XCTAssertNotEqual(plain, loss, accuracy: 1e-3 * expected, "ε > 0 must make the two sums differ")

        _ = forward(gradient: true)
        let gradients = ParameterStore(sameLayoutAs: store)
        let dT = FloatBuffer(capacity: n * e)
        dT.zeroed(n * e)
        outputProjectionBackward(dT: dT.pointer, dMatrix: gradients.tensor(tied ? "table" : "output.Wo").baseAddress!,
                                 dBias: gradients.pointer(projection.bo), dLogits: logits.pointer,
                                 t: t.pointer, output: output(), rows: n, embeddingSize: e, vocabularySize: v)
        deepOutputBackward(dStates: gradients.tensor("states").baseAddress!,
                           dEmbeddings: gradients.tensor("embeddings").baseAddress!,
                           dContexts: gradients.tensor("contexts").baseAddress!,
                           gradients: deep.map { gradients.pointer($0) }, dT: dT.pointer, t: t.pointer,
                           states: store.tensor("states").baseAddress!,
                           embeddings: store.tensor("embeddings").baseAddress!,
                           contexts: store.tensor("contexts").baseAddress!, weights: deepWeights,
                           rows: n, hiddenSize: h, embeddingSize: e, contextSize: c)
        let (mismatches, checked) = GradientCheck.check(store: store, analytic: gradients, samples: 40, step: 1e-2,
                                                        relative: 1e-2, absolute: 1e-4) { forward(gradient: false) }
        XCTAssertTrue(mismatches.isEmpty, "tied \(tied):\n" + mismatches.map(\.description).joined(separator: "\n"))
        XCTAssertGreaterThan(checked, 100)
        // A weight-0 row contributes no gradient at all.
        for k in 0..<h { XCTAssertEqual(gradients.tensor("states")[2 * h + k], 0) }
    }

    func testUntiedGradientsAndLoss() { check(tied: false) }
    func testTiedGradientsAndLoss() { check(tied: true) }

    /// Huge logits neither overflow nor produce NaN.
    func testLossIsStableForLargeLogits() {
        var logits: [Float] = [1000, -1000, 500, 0]
        var sum: Float = 0
        let loss = crossEntropyForward(logits: &logits, expSums: &sum, targets: [0], weights: [1], smoothing: 0.1,
                                       rows: 1, vocabularySize: 4).smoothed
        crossEntropyBackward(logits: &logits, expSums: &sum, targets: [0], weights: [1], smoothing: 0.1, scale: 1,
                             rows: 1, vocabularySize: 4)
        XCTAssertTrue(loss.isFinite)
        XCTAssertTrue(logits.allSatisfy(\.isFinite))
        XCTAssertEqual(logits.reduce(0, +), 0, accuracy: 1e-5)
    }
}
