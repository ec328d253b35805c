@testable import S2SDecoding
import XCTest

final class TopKTests: XCTestCase {
    /// Partial selection must equal a full sort (score descending, index ascending), ties and
    /// -∞/NaN included, for several k and for values offered in several slices.
    func testMatchesFullSortIncludingTiesAndNonFinite() {
        var state: UInt64 = 7
        for trial in 0..<40 {
            let count = 1 + trial * 13
            var values = (0..<count).map { _ -> Float in
                state = mix(state)
                return Float(state % 7) - 3  // few distinct values: many ties
            }
            if count > 4 { values[1] = -.infinity; values[3] = .nan }
            for k in [1, 2, 5, 10, 64] {
                var selector = TopK(k: k)
                let half = count / 2
                values.withUnsafeBufferPointer { all in
                    selector.offer(UnsafeBufferPointer(rebasing: all[0..<half]), bias: 0.5, indexOffset: 0)
                    selector.offer(UnsafeBufferPointer(rebasing: all[half...]), bias: 0.5, indexOffset: half)
                }
                let expected = values.enumerated()
                    .filter { $0.element.isFinite }
                    .sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }
                    .prefix(k)
                let got = selector.sorted()
                XCTAssertEqual(got.map(\.index), expected.map(\.offset), "trial \(trial), k \(k)")
                XCTAssertEqual(got.map(\.score), expected.map { $0.element + 0.5 }, "trial \(trial), k \(k)")
            }
        }
    }
}

final class ArgmaxTests: XCTestCase {
    /// The SIMD-skipping argmax equals a plain first-maximum scan, NaN and -∞ included.
    func testMatchesPlainScan() {
        var state: UInt64 = 99
        for trial in 0..<60 {
            let count = 1 + trial * 7
            var values = (0..<count).map { _ -> Float in
                state = mix(state)
                return Float(state % 11) - 5
            }
            if trial % 3 == 0 { for i in stride(from: 0, to: count, by: 5) { values[i] = .nan } }
            if trial % 4 == 0 { for i in stride(from: 1, to: count, by: 3) { values[i] = -.infinity } }
            var expected: Int?
            var best = -Float.infinity
            for (i, value) in values.enumerated() where value > best { best = value; expected = i }
            let got = values.withUnsafeBufferPointer { argmax($0) }
            XCTAssertEqual(got, expected, "trial \(trial)")
        }
        let allBad: [Float] = [.nan, -.infinity, .nan]
        XCTAssertNil(allBad.withUnsafeBufferPointer { argmax($0) }, "a broken row has no best value")
    }
}
