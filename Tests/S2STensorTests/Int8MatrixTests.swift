import S2SCore
import XCTest
@testable import S2STensor

/// 8-bit products: every kernel computes the same exact integer sums, and a whole product
/// agrees with fp32 within the bound its scales imply.
final class Int8MatrixTests: XCTestCase {
    private func random(_ count: Int, _ rng: inout SeededRNG, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in rng.normal() * scale }
    }

    func testKernelsGiveIdenticalIntegerSums() {
        var rng = SeededRNG(seed: 11)
        for (k, n) in [(37, 50), (64, 16), (5, 3), (256, 130)] {
            let b = random(k * n, &rng)
            let matrix = b.withUnsafeBufferPointer { Int8Matrix($0.baseAddress!, k: k, n: n, ldb: n) }
            for m in [1, 3, 4, 5, 9] {
                let rows = (0..<(m * matrix.rowBytes)).map { index in
                    index % matrix.rowBytes < k ? Int8(Int(rng.next() % 255) - 127) : 0
                }
                var kernels: [Int8Matrix.Kernel] = [.reference, .avx2]
                if CPUFeatures.hasAVX512VNNI { kernels.append(.avx512vnni) }
                let sums = kernels.map { kernel -> [Int32] in
                    var out = [Int32](repeating: -1, count: m * n)
                    rows.withUnsafeBufferPointer { matrix.integerProduct(m: m, rows: $0.baseAddress!, sums: &out, kernel: kernel) }
                    return out
                }
                for (kernel, result) in zip(kernels.dropFirst(), sums.dropFirst()) {
                    XCTAssertEqual(result, sums[0], "\(kernel) k \(k) n \(n) m \(m)")
                }
                // The reference itself against sums written out in full.
                let q = (0..<(k * n)).map { Int32((b[$0] / matrix.scales[$0 % n]).rounded(.toNearestOrEven)) }
                for i in 0..<m {
                    for j in 0..<n {
                        let expected = (0..<k).reduce(Int32(0)) { $0 + Int32(rows[i * matrix.rowBytes + $1]) * q[$1 * n + j] }
                        XCTAssertEqual(sums[0][i * n + j], expected)
                    }
                }
            }
        }
    }

    /// B stored as [n, k] (`transposed`: the tied output layer) quantizes exactly as the same
    /// matrix stored as [k, n] with a padded leading dimension: the same scales (1 for an
    /// all-zero column) and the same integer sums.
    func testTransposedStorageQuantizesLikeThePlainOne() {
        var rng = SeededRNG(seed: 9)
        let k = 37, n = 21, ldb = n + 3, zeroColumn = 4
        var b = random(k * ldb, &rng)
        for r in 0..<k { b[r * ldb + zeroColumn] = 0 }
        let stored = (0..<(n * k)).map { index in b[(index % k) * ldb + index / k] }  // [n, k]
        let plain = b.withUnsafeBufferPointer { Int8Matrix($0.baseAddress!, k: k, n: n, ldb: ldb) }
        let transposed = stored.withUnsafeBufferPointer { Int8Matrix($0.baseAddress!, k: k, n: n, ldb: k, transposed: true) }
        let plainScales = (0..<n).map { plain.scales[$0] }
        XCTAssertEqual(plainScales, (0..<n).map { transposed.scales[$0] })
        XCTAssertEqual(plainScales[zeroColumn], 1)
        XCTAssertEqual(plainScales[0], (0..<k).map { abs(b[$0 * ldb]) }.max()! / 127)
        let m = 3
        let rows = (0..<(m * plain.rowBytes)).map { index in
            index % plain.rowBytes < k ? Int8(Int(rng.next() % 255) - 127) : 0
        }
        var plainSums = [Int32](repeating: -1, count: m * n), transposedSums = plainSums
        rows.withUnsafeBufferPointer { rows in
            plain.integerProduct(m: m, rows: rows.baseAddress!, sums: &plainSums, kernel: .reference)
            transposed.integerProduct(m: m, rows: rows.baseAddress!, sums: &transposedSums, kernel: .reference)
        }
        XCTAssertEqual(plainSums, transposedSums)
        XCTAssertTrue((0..<m).allSatisfy { plainSums[$0 * n + zeroColumn] == 0 })
    }

    func testProductsAgreeWithFloatWithinTheScalesBound() {
        var rng = SeededRNG(seed: 5)
        let k = 96, n = 70, m = 6
        let b = random(k * n, &rng, scale: 0.2), a = random(m * k, &rng)
        let matrix = b.withUnsafeBufferPointer { Int8Matrix($0.baseAddress!, k: k, n: n, ldb: n) }
        var exact = [Float](repeating: 0, count: m * n), quantized = [Float](repeating: 0.5, count: m * n)
        BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: 0, c: &exact, ldc: n)
        let scratch = Int8Scratch()
        a.withUnsafeBufferPointer { rows in
            matrix.multiply(m: m, a: rows.baseAddress!, lda: k, beta: 0, c: &quantized, ldc: n, scratch: scratch)
        }
        var largestRatio: Float = 0
        for i in 0..<m {
            for j in 0..<n {
                let bound = a.withUnsafeBufferPointer { rows in
                    b.withUnsafeBufferPointer { matrix.errorBound(row: rows.baseAddress! + i * k, column: j, weights: $0.baseAddress!, ldb: n) }
                }
                let error = abs(quantized[i * n + j] - exact[i * n + j])
                XCTAssertLessThanOrEqual(error, bound, "(\(i), \(j))")
                largestRatio = max(largestRatio, error / bound)
            }
        }
        XCTAssertGreaterThan(largestRatio, 0, "an 8-bit product is not exact: the bound is what is checked")
        // β = 1 adds to C.
        var accumulated = [Float](repeating: 1, count: m * n)
        a.withUnsafeBufferPointer { rows in
            matrix.multiply(m: m, a: rows.baseAddress!, lda: k, beta: 1, c: &accumulated, ldc: n, scratch: scratch)
        }
        for (x, y) in zip(accumulated, quantized) { XCTAssertEqual(x, y + 1, accuracy: 1e-5) }
    }
}
