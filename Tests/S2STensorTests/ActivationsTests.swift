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
}
