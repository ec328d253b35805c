import S2SCore
import S2STensor
import XCTest
@testable import S2SModel

/// Layer normalization alone: the forward pass against the formula in Double, and the input,
/// gain and shift gradients against central differences, at widths below, at and across the
/// 16-float SIMD lanes and with rows split across threads.
final class LayerNormTests: XCTestCase {
    private func random(_ count: Int, scale: Float, offset: Float, rng: inout SeededRNG) -> [Float] {
        (0..<count).map { _ in offset + scale * (2 * rng.uniform() - 1) }
    }

    func testForwardMatchesTheFormula() {
        var rng = SeededRNG(seed: 3)
        for width in [5, 16, 37] {
            let rows = 20
            // A large common offset: the two-pass variance must not cancel it away.
            let input = random(rows * width, scale: 2, offset: 30, rng: &rng)
            let gain = random(width, scale: 0.5, offset: 1, rng: &rng), shift = random(width, scale: 1, offset: 0, rng: &rng)
            var values = input
            let normalized = FloatBuffer(capacity: rows * width), inverse = FloatBuffer(capacity: rows)
            values.withUnsafeMutableBufferPointer { v in
                layerNormForward(values: v.baseAddress!, gain: gain, shift: shift,
                                 cache: LayerNormCache(normalized: normalized.pointer, inverseDeviation: inverse.pointer),
                                 rows: rows, width: width)
            }
            for row in 0..<rows {
                let x = input[(row * width)..<((row + 1) * width)].map(Double.init)
                let mean = x.reduce(0, +) / Double(width)
                let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(width)
                let inverseDeviation = 1 / (variance + Double(layerNormEpsilon)).squareRoot()
                XCTAssertEqual(Double(inverse.pointer[row]), inverseDeviation, accuracy: 1e-4 * inverseDeviation)
                for k in 0..<width {
                    let expected = Double(gain[k]) * (x[k] - mean) * inverseDeviation + Double(shift[k])
                    XCTAssertEqual(Double(values[row * width + k]), expected, accuracy: 1e-4, "width \(width) [\(row), \(k)]")
                    XCTAssertEqual(Double(normalized.pointer[row * width + k]), (x[k] - mean) * inverseDeviation,
                                   accuracy: 1e-4)
                }
            }
        }
    }

    /// Without a cache (decoding) the output is the same.
    func testForwardWithoutCacheGivesTheSameOutput() {
        var rng = SeededRNG(seed: 4)
        let rows = 9, width = 21
        let input = random(rows * width, scale: 1, offset: 0.3, rng: &rng)
        let gain = random(width, scale: 0.5, offset: 1, rng: &rng), shift = random(width, scale: 1, offset: 0, rng: &rng)
        var cached = input, uncached = input
        let normalized = FloatBuffer(capacity: rows * width), inverse = FloatBuffer(capacity: rows)
        cached.withUnsafeMutableBufferPointer {
            layerNormForward(values: $0.baseAddress!, gain: gain, shift: shift,
                             cache: LayerNormCache(normalized: normalized.pointer, inverseDeviation: inverse.pointer),
                             rows: rows, width: width)
        }
        uncached.withUnsafeMutableBufferPointer {
            layerNormForward(values: $0.baseAddress!, gain: gain, shift: shift, cache: nil, rows: rows, width: width)
        }
        XCTAssertEqual(cached, uncached)
    }

    func testGradientsMatchFiniteDifferences() throws {
        for width in [5, 16, 37] {
            let rows = 18
            let store = ParameterStore(layout: [("v", [rows, width]), ("gain", [width]), ("shift", [width])])
            var rng = SeededRNG(seed: UInt64(width))
            for i in 0..<store.values.count { store.values[i] = 2 * rng.uniform() - 1 }
            let gainValues = store.tensor("gain")
            for i in 0..<width { gainValues[i] += 1 }
            let outputWeights = random(rows * width, scale: 1, offset: 0, rng: &rng)
            let output = FloatBuffer(capacity: rows * width)
            let normalized = FloatBuffer(capacity: rows * width), inverse = FloatBuffer(capacity: rows)
            let cache = LayerNormCache(normalized: normalized.pointer, inverseDeviation: inverse.pointer)
            func objective() -> Double {
                output.pointer.update(from: store.tensor("v").baseAddress!, count: rows * width)
                layerNormForward(values: output.pointer, gain: store.tensor("gain").baseAddress!,
                                 shift: store.tensor("shift").baseAddress!, cache: cache, rows: rows, width: width)
                return (0..<(rows * width)).reduce(0.0) { $0 + Double(outputWeights[$1] * output.pointer[$1]) }
            }
            _ = objective()
            let gradients = ParameterStore(sameLayoutAs: store)
            let dv = gradients.tensor("v").baseAddress!
            dv.update(from: outputWeights, count: rows * width)
            layerNormBackward(gradient: dv, dGain: gradients.tensor("gain").baseAddress!,
                              dShift: gradients.tensor("shift").baseAddress!, cache: cache,
                              gain: store.tensor("gain").baseAddress!, rows: rows, width: width)
            let (mismatches, checked) = GradientCheck.check(store: store, analytic: gradients, samples: 40, step: 1e-2,
                                                            relative: 1e-2, absolute: 1e-3, objective: objective)
            XCTAssertTrue(mismatches.isEmpty, "width \(width):\n" + mismatches.map(\.description).joined(separator: "\n"))
            XCTAssertGreaterThan(checked, 40)
            // A normalized row is invariant to adding a constant: its input gradient sums to zero.
            for row in 0..<rows {
                let sum = (0..<width).reduce(Float(0)) { $0 + dv[row * width + $1] }
                XCTAssertEqual(sum, 0, accuracy: 1e-4)
            }
        }
    }
}
