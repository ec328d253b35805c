import Foundation
import XCTest
@testable import S2STensor

final class ActivationsTests: XCTestCase {
    /// Sweeps the whole useful range and compares with libm in Double.
    func testAgainstLibm() {
        var x: Float = -30
        var worstExp: Double = 0, worstSigmoid: Double = 0, worstTanh: Double = 0
        while x <= 30 {
            let e = Double(Activations.exp(x)), reference = Foundation.exp(Double(x))
            worstExp = max(worstExp, abs(e - reference) / reference)
            worstSigmoid = max(worstSigmoid, abs(Double(Activations.sigmoid(x)) - 1 / (1 + Foundation.exp(-Double(x)))))
            worstTanh = max(worstTanh, abs(Double(Activations.tanh(x)) - Foundation.tanh(Double(x))))
            x += 0.0137
        }
        XCTAssertLessThan(worstExp, 4e-7, "exp relative error")
        XCTAssertLessThan(worstSigmoid, 3e-7, "sigmoid absolute error")
        XCTAssertLessThan(worstTanh, 4e-7, "tanh absolute error")
    }

    func testTanhIsAccurateNearZero() {
        for x: Float in [1e-8, -3e-5, 0.01, -0.06, 0.0625, 0.07] {
            let relative = abs(Double(Activations.tanh(x)) - Foundation.tanh(Double(x))) / abs(Foundation.tanh(Double(x)))
            XCTAssertLessThan(relative, 2e-6, "tanh(\(x))")
        }
    }

    func testExtremesStayFinite() {
        for x: Float in [-1e30, -1000, -88, 88, 89, 1000, 1e30] {
            XCTAssertTrue(Activations.exp(x).isFinite, "exp(\(x))")
            let s = Activations.sigmoid(x)
            XCTAssertTrue(s >= 0 && s <= 1, "sigmoid(\(x)) = \(s)")
            let t = Activations.tanh(x)
            XCTAssertTrue(t >= -1 && t <= 1, "tanh(\(x)) = \(t)")
        }
    }

    func testApplyHandlesTails() {
        for count in [0, 1, 15, 16, 17, 33] {
            var values = (0..<count).map { Float($0) * 0.1 - 1 }
            let expected = values.map { Activations.tanh($0) }
            values.withUnsafeMutableBufferPointer { Activations.tanhInPlace($0) }
            XCTAssertEqual(values, expected, "count \(count)")
        }
    }

    /// `select` copies bits, so NaN, ±∞ and −0 come through unchanged, lane by lane.
    func testSelectCopiesLanesBitExactly() {
        let specials: [Float] = [.nan, .infinity, -.infinity, -0.0, 0, 1, -1, .leastNonzeroMagnitude]
        var a = Activations.Vector(repeating: 0), b = Activations.Vector(repeating: 0)
        for lane in 0..<16 {
            a[lane] = specials[lane % specials.count]
            b[lane] = -Float(lane) - 0.5
        }
        let takeA = Activations.Vector((0..<16).map { Float($0 % 3) }) .== Activations.Vector(repeating: 0)
        let chosen = Activations.select(takeA, a, b)
        for lane in 0..<16 {
            let expected = takeA[lane] ? a[lane] : b[lane]
            XCTAssertEqual(chosen[lane].bitPattern, expected.bitPattern, "lane \(lane)")
        }
    }

    /// One vector mixing clamped, tiny-argument and polynomial lanes: every lane must be computed as
    /// if it were alone (the selects must not leak between lanes) and match libm.
    func testMixedLanesAreIndependent() {
        let inputs: [Float] = [-1e30, -100, -88, -20, -1, -0.07, -0.0625, -0.01,
                               0, 1e-8, 0.05, 0.0625, 0.5, 9, 89, .infinity]
        let x = Activations.Vector(inputs)
        let e = Activations.exp(x), s = Activations.sigmoid(x), t = Activations.tanh(x)
        for (lane, value) in inputs.enumerated() {
            XCTAssertEqual(e[lane], Activations.exp(value), "exp lane \(lane) (x = \(value))")
            XCTAssertEqual(s[lane], Activations.sigmoid(value), "sigmoid lane \(lane) (x = \(value))")
            XCTAssertEqual(t[lane], Activations.tanh(value), "tanh lane \(lane) (x = \(value))")
            let reference = Foundation.tanh(Double(value))
            XCTAssertLessThan(abs(Double(t[lane]) - reference), 4e-7, "tanh(\(value))")
            XCTAssertLessThan(abs(Double(s[lane]) - 1 / (1 + Foundation.exp(-Double(value)))), 3e-7, "sigmoid(\(value))")
        }
    }

    /// ±∞ take the clamp path: exp stays finite and positive, σ and tanh saturate exactly.
    func testInfinitiesSaturate() {
        XCTAssertTrue(Activations.exp(Float.infinity).isFinite)
        XCTAssertGreaterThan(Activations.exp(Float.infinity), 1e38)
        XCTAssertGreaterThanOrEqual(Activations.exp(-Float.infinity), 0)
        XCTAssertLessThan(Activations.exp(-Float.infinity), 1e-37)
        XCTAssertEqual(Activations.sigmoid(Float.infinity), 1)
        XCTAssertEqual(Activations.sigmoid(-Float.infinity), 0, accuracy: 1e-37)
        XCTAssertEqual(Activations.tanh(Float.infinity), 1)
        XCTAssertEqual(Activations.tanh(-Float.infinity), -1)
    }

    /// The in-place buffer forms agree with the vector kernels for exp and σ too.
    func testInPlaceFormsMatchKernels() {
        let values = (0..<37).map { Float($0) * 0.7 - 12 }
        var exps = values, sigmoids = values
        exps.withUnsafeMutableBufferPointer { Activations.expInPlace($0) }
        sigmoids.withUnsafeMutableBufferPointer { Activations.sigmoidInPlace($0) }
        XCTAssertEqual(exps, values.map { Activations.exp($0) })
        XCTAssertEqual(sigmoids, values.map { Activations.sigmoid($0) })
    }

    /// NaN in, NaN out, whatever the NaN's sign bit: the sign-bit masks must not turn a NaN into
    /// a clamp bound and hide a diverging model.
    func testNaNPropagates() {
        for nan in [Float.nan, -Float.nan, Float(bitPattern: 0xFFC0_0000), Float(bitPattern: 0x7FA0_0001)] {
            XCTAssertTrue(Activations.exp(nan).isNaN, "exp(\(nan.bitPattern))")
            XCTAssertTrue(Activations.sigmoid(nan).isNaN, "sigmoid(\(nan.bitPattern))")
            XCTAssertTrue(Activations.tanh(nan).isNaN, "tanh(\(nan.bitPattern))")
        }
    }

    /// `maximum` agrees with `Swift.max` lane by lane, across signs, zeros, infinities and
    /// differences that overflow.
    func testMaximumMatchesScalarMax() {
        let values: [Float] = [-.infinity, -.greatestFiniteMagnitude, -1e30, -2, -0.5, 0, 0.5, 3,
                               1e30, .greatestFiniteMagnitude, .infinity, -7, 7, 1e-40, -1e-40, 42]
        for shift in 0..<16 {
            let a = Activations.Vector(values)
            let b = Activations.Vector((0..<16).map { values[($0 + shift) % 16] })
            let m = Activations.maximum(a, b)
            for lane in 0..<16 {
                XCTAssertEqual(m[lane], max(a[lane], b[lane]), "max(\(a[lane]), \(b[lane]))")
            }
        }
    }
}
