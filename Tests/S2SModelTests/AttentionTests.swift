import S2SCore
import S2STensor
import XCTest
@testable import S2SModel

/// Additive attention alone: keys once per batch, one decoder step; gradients of the query
/// state, the annotations and Wq, bq, Uk, v by central differences, with padded sources.
final class AttentionTests: XCTestCase {
    func testAttentionStepGradients() {
        let b = 3, s = 4, h = 5, a = 6, c = 7
        let lengths: [Int32] = [4, 2, 1]
        let attention = AttentionTensors(stateSize: h, contextSize: c, attentionSize: a)
        let store = ParameterStore(layout: [("state", [b, h]), ("annotations", [s * b, c])]
                                   + attention.all.map { ($0.name, $0.shape) })
        var rng = SeededRNG(seed: 17)
        for i in 0..<store.values.count { store.values[i] = 2 * rng.uniform() - 1 }
        let outputWeights = (0..<(b * c)).map { _ in 2 * rng.uniform() - 1 }
        let keys = FloatBuffer(capacity: s * b * a), context = FloatBuffer(capacity: b * c)
        let alpha = FloatBuffer(capacity: b * s), hiddenTanh = FloatBuffer(capacity: b * s * a)
        let query = FloatBuffer(capacity: b * a)

        func forward() -> Double {
            let weights = attention.map { store.weight($0) }
            attentionKeysForward(keys: keys.pointer, annotations: store.tensor("annotations").baseAddress!,
                                 weights: weights, rows: s * b, contextSize: c, attentionSize: a)
            lengths.withUnsafeBufferPointer { lengthPointer in
                let source = AttentionSource(timeMajorKeys: keys.pointer, annotations: store.tensor("annotations").baseAddress!,
                                             lengths: lengthPointer.baseAddress!, sourceBatch: b, sourceLength: s)
                attentionStepForward(context: context.pointer, alpha: alpha.pointer, hiddenTanh: hiddenTanh.pointer,
                                     query: query.pointer, state: store.tensor("state").baseAddress!, source: source,
                                     weights: weights, rows: b, hiddenSize: h, attentionSize: a, contextSize: c)
            }
            return (0..<(b * c)).reduce(0.0) { $0 + Double(outputWeights[$1] * context.pointer[$1]) }
        }

        _ = forward()
        for row in 0..<b {
            let sum = (0..<s).reduce(Float(0)) { $0 + alpha.pointer[row * s + $1] }
            XCTAssertEqual(sum, 1, accuracy: 1e-5)
            for j in Int(lengths[row])..<s { XCTAssertEqual(alpha.pointer[row * s + j], 0) }
        }
        let gradients = ParameterStore(sameLayoutAs: store)
        let dKeys = FloatBuffer(capacity: s * b * a), dQuery = FloatBuffer(capacity: b * a)
        let dAlpha = FloatBuffer(capacity: s)
        dKeys.zeroed(s * b * a)
        let weights = attention.map { store.weight($0) }
        lengths.withUnsafeBufferPointer { lengthPointer in
            let source = AttentionSource(timeMajorKeys: keys.pointer, annotations: store.tensor("annotations").baseAddress!,
                                         lengths: lengthPointer.baseAddress!, sourceBatch: b, sourceLength: s)
            attentionStepBackward(dState: gradients.tensor("state").baseAddress!, dKeys: dKeys.pointer,
                                  dAnnotations: gradients.tensor("annotations").baseAddress!, dQuery: dQuery.pointer,
                                  dAlpha: dAlpha.pointer, gradients: attention.map { gradients.pointer($0) },
                                  dContext: outputWeights, alpha: alpha.pointer, hiddenTanh: hiddenTanh.pointer,
                                  state: store.tensor("state").baseAddress!, source: source, weights: weights,
                                  rows: b, hiddenSize: h, attentionSize: a, contextSize: c)
        }
        attentionKeysBackward(dAnnotations: gradients.tensor("annotations").baseAddress!,
                              gradients: attention.map { gradients.pointer($0) }, dKeys: dKeys.pointer,
                              annotations: store.tensor("annotations").baseAddress!, weights: weights,
                              rows: s * b, contextSize: c, attentionSize: a)
        let (mismatches, checked) = GradientCheck.check(store: store, analytic: gradients, samples: 40, step: 1e-2,
                                                        relative: 1e-2, absolute: 1e-4, objective: forward)
        XCTAssertTrue(mismatches.isEmpty, mismatches.map(\.description).joined(separator: "\n"))
        XCTAssertGreaterThan(checked, 100)
    }
}
