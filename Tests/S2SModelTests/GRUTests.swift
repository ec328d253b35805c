import S2SCore
import S2STensor
import XCTest
@testable import S2SModel

/// The GRU layer alone: input projection + recurrence, forward and backward in time, with padding
/// masks, a variational state-dropout mask and layer normalization; gradients of x, W, b, U, c
/// (and the gains) by central differences.
final class GRUTests: XCTestCase {
    private let steps = 4, batch = 3, inputSize = 3, hiddenSize = 5
    /// Real lengths per row (row 2 is mostly padding).
    private let lengths = [4, 2, 1]

    private func randomStore(_ layout: [(name: String, shape: [Int])], seed: UInt64) -> ParameterStore {
        let store = ParameterStore(layout: layout)
        var rng = SeededRNG(seed: seed)
        for i in 0..<store.values.count { store.values[i] = 2 * rng.uniform() - 1 }
        return store
    }

    private func checkSequence(reverse: Bool, dropout: Bool, normalized: Bool = false) {
        let t = steps, b = batch, h = hiddenSize, input = inputSize
        let gru = GRUTensors(prefix: "gru", inputSize: input, hiddenSize: h, normalized: normalized)
        let store = randomStore([("x", [t * b, input])] + gru.all.map { ($0.name, $0.shape) }, seed: reverse ? 1 : 2)
        if normalized {
            for name in ["gru.W.gain", "gru.U.gain"] {
                let gain = store.tensor(name)
                for i in 0..<gain.count { gain[i] = 1 + 0.5 * gain[i] }
            }
        }
        let normBuffers = (0..<4).map { FloatBuffer(capacity: t * b * ($0 % 2 == 0 ? 3 * h : 1)) }
        // `norm` holds raw pointers into the buffers: keep them alive to the end of the test.
        defer { withExtendedLifetime(normBuffers) {} }
        let norm = normalized
            ? GRUNormCaches(input: LayerNormCache(normalized: normBuffers[0].pointer, inverseDeviation: normBuffers[1].pointer),
                            recurrent: LayerNormCache(normalized: normBuffers[2].pointer, inverseDeviation: normBuffers[3].pointer))
            : nil
        var masks = [Float](repeating: 0, count: t * b)
        for step in 0..<t { for row in 0..<b where step < lengths[row] { masks[step * b + row] = 1 } }
        var rng = SeededRNG(seed: 5)
        let outputWeights = (0..<(t * b * h)).map { _ in 2 * rng.uniform() - 1 }
        let stateMask = (0..<(b * h)).map { _ in rng.uniform() < 0.3 ? Float(0) : Float(1 / 0.7) }
        let gx = FloatBuffer(capacity: t * b * 3 * h), states = FloatBuffer(capacity: t * b * h)
        let cache = FloatBuffer(capacity: t * b * 4 * h), gh = FloatBuffer(capacity: b * 3 * h)
        let recurrentInputs = FloatBuffer(capacity: t * b * h), scratch = FloatBuffer(capacity: b * h)
        let zero = FloatBuffer(capacity: b * h)

        func forward() -> Double {
            let weights = gru.map { store.weight($0) }
            XCTAssertEqual(weights.isNormalized, normalized)
            gruInputForward(gx: gx.pointer, x: store.tensor("x").baseAddress!, weights: weights, norm: norm?.input,
                            rows: t * b, inputSize: input, hiddenSize: h)
            stateMask.withUnsafeBufferPointer { stateMaskPointer in
                gruSequenceForward(states: states.pointer, cache: cache.pointer, recurrentInputs: recurrentInputs.pointer,
                                   gh: gh.pointer,
                                   gx: gx.pointer, masks: masks, zero: zero.pointer,
                                   stateMask: dropout ? stateMaskPointer.baseAddress! : nil, weights: weights,
                                   norm: norm, reverse: reverse, steps: t, batch: b, hiddenSize: h)
            }
            return (0..<(t * b * h)).reduce(0.0) { $0 + Double(outputWeights[$1] * states.pointer[$1]) }
        }

        _ = forward()
        let gradients = ParameterStore(sameLayoutAs: store)
        let dStates = FloatBuffer(capacity: t * b * h), dgx = FloatBuffer(capacity: t * b * 3 * h)
        let carry = FloatBuffer(capacity: b * h), dgh = FloatBuffer(capacity: t * b * 3 * h)
        dStates.pointer.update(from: outputWeights, count: t * b * h)
        let weights = gru.map { store.weight($0) }
        stateMask.withUnsafeBufferPointer { stateMaskPointer in
            gruSequenceBackward(dgx: dgx.pointer, dStates: dStates.pointer, carry: carry.pointer, dgh: dgh.pointer,
                                scratch: scratch.pointer, gradients: gru.map { gradients.pointer($0) },
                                cache: cache.pointer, states: states.pointer,
                                recurrentInputs: recurrentInputs.pointer, masks: masks, zero: zero.pointer,
                                stateMask: dropout ? stateMaskPointer.baseAddress! : nil, weights: weights,
                                norm: norm, reverse: reverse, steps: t, batch: b, hiddenSize: h)
        }
        gruInputBackward(dx: gradients.tensor("x").baseAddress!, gradients: gru.map { gradients.pointer($0) },
                         dgx: dgx.pointer, x: store.tensor("x").baseAddress!, weights: weights, rows: t * b,
                         inputSize: input, hiddenSize: h)
        let (mismatches, checked) = GradientCheck.check(store: store, analytic: gradients, samples: 40, step: 1e-2,
                                                        relative: 1e-2, absolute: 1e-4, objective: forward)
        XCTAssertTrue(mismatches.isEmpty, "reverse \(reverse) dropout \(dropout) normalized \(normalized):\n"
                      + mismatches.map(\.description).joined(separator: "\n"))
        XCTAssertGreaterThan(checked, normalized ? 130 : 100)

        // Padded inputs get no gradient, and padded steps carry the state unchanged.
        let dx = gradients.tensor("x")
        for step in 0..<t {
            for row in 0..<b where masks[step * b + row] == 0 {
                for k in 0..<input { XCTAssertEqual(dx[(step * b + row) * input + k], 0) }
            }
        }
        if !reverse {
            // Row 1 has length 2: its state at step 3 equals its state at step 1.
            for k in 0..<h { XCTAssertEqual(states.pointer[(3 * b + 1) * h + k], states.pointer[(1 * b + 1) * h + k]) }
        } else {
            // Right to left from each row's own end: padded positions stay at the zero state.
            for k in 0..<h { XCTAssertEqual(states.pointer[(3 * b + 2) * h + k], 0) }
        }
    }

    func testLeftToRightGradients() { checkSequence(reverse: false, dropout: false) }
    func testRightToLeftGradients() { checkSequence(reverse: true, dropout: false) }
    func testGradientsWithVariationalStateDropout() {
        checkSequence(reverse: false, dropout: true)
        checkSequence(reverse: true, dropout: true)
    }
    func testLayerNormalizedGradients() {
        for reverse in [false, true] {
            for dropout in [false, true] { checkSequence(reverse: reverse, dropout: dropout, normalized: true) }
        }
    }
}
