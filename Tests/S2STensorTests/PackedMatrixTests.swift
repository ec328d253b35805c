import S2SCore
import XCTest
@testable import S2STensor

final class PackedMatrixTests: XCTestCase {
    /// The kernels this CPU runs: AVX2 always, AVX-512 where the CPU has it.
    private let kernels: [PackedMatrix.Kernel] = CPUFeatures.hasAVX512 ? [.avx2, .avx512] : [.avx2]

    /// Every row count from 1 to past two blocks of 12, widths that leave a partial panel, strided A and C,
    /// β 0 and 1, and B stored plainly or transposed: the product of a naive double-precision loop.
    func testProductMatchesNaive() {
        var rng = SeededRNG(seed: 11)
        for (k, n) in [(1, 1), (7, 16), (37, 45), (64, 100)] {
            for transposed in [false, true] {
                let ldb = (transposed ? k : n) + 3
                let b = (0..<((transposed ? n : k) * ldb)).map { _ in rng.normal() }
                let packed = b.withUnsafeBufferPointer {
                    PackedMatrix($0.baseAddress!, k: k, n: n, ldb: ldb, transposed: transposed)
                }
                func bAt(_ p: Int, _ j: Int) -> Float { transposed ? b[j * ldb + p] : b[p * ldb + j] }
                for m in 1...30 {
                    for beta: Float in [0, 1] {
                      for kernel in kernels {
                        let lda = k + 2, ldc = n + 5
                        let a = (0..<(m * lda)).map { _ in rng.normal() }
                        var c = (0..<(m * ldc)).map { _ in rng.normal() }
                        let before = c
                        a.withUnsafeBufferPointer { a in
                            c.withUnsafeMutableBufferPointer { c in
                                packed.multiply(m: m, a: a.baseAddress!, lda: lda, beta: beta, c: c.baseAddress!,
                                                ldc: ldc, threads: 1, kernel: kernel)
                            }
                        }
                        for i in 0..<m {
                            for j in 0..<ldc {
                                guard j < n else {
                                    XCTAssertEqual(c[i * ldc + j], before[i * ldc + j], "column \(j) beyond n written")
                                    continue
                                }
                                var sum = Double(beta) * Double(before[i * ldc + j])
                                for p in 0..<k { sum += Double(a[i * lda + p]) * Double(bAt(p, j)) }
                                XCTAssertEqual(Double(c[i * ldc + j]), sum, accuracy: 1e-4 * (1 + abs(sum)),
                                               "\(kernel) k \(k) n \(n) m \(m) β \(beta) transposed \(transposed) at (\(i),\(j))")
                            }
                        }
                      }
                    }
                }
            }
        }
    }

    /// A row's result is bit-for-bit the same whatever rows share its product, however many
    /// threads split it and whichever kernel runs it: decoding a sentence alone or in a batch,
    /// on one thread or two, gives one answer.
    func testRowsAreIndependentOfTheirNeighboursThreadsAndKernels() {
        var rng = SeededRNG(seed: 5)
        let k = 256, n = 4096 + 7  // over the size at which the product is split over threads
        let b = (0..<(k * n)).map { _ in rng.normal() }
        let packed = b.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, k: k, n: n, ldb: n) }
        let m = 29
        let a = (0..<(m * k)).map { _ in rng.normal() }
        func product(rows: Range<Int>, threads: Int, kernel: PackedMatrix.Kernel) -> [Float] {
            var c = [Float](repeating: 0, count: rows.count * n)
            a.withUnsafeBufferPointer { a in
                c.withUnsafeMutableBufferPointer { c in
                    packed.multiply(m: rows.count, a: a.baseAddress! + rows.lowerBound * k, lda: k, beta: 0,
                                    c: c.baseAddress!, ldc: n, threads: threads, kernel: kernel)
                }
            }
            return c
        }
        let all = product(rows: 0..<m, threads: 1, kernel: .avx2)
        for kernel in kernels {
            XCTAssertEqual(product(rows: 0..<m, threads: 1, kernel: kernel), all, "\(kernel)")
            XCTAssertEqual(product(rows: 0..<m, threads: 2, kernel: kernel), all, "\(kernel), 2 threads")
            for row in [0, 5, m - 1] {
                XCTAssertEqual(product(rows: row..<(row + 1), threads: 2, kernel: kernel),
                               Array(all[(row * n)..<((row + 1) * n)]), "\(kernel), row \(row) alone")
            }
            XCTAssertEqual(product(rows: 3..<10, threads: 1, kernel: kernel), Array(all[(3 * n)..<(10 * n)]), "\(kernel)")
        }
    }

    /// BLAS.gemm hands products of up to `rowLimit` rows to the packed copy and larger ones to
    /// OpenBLAS; both give the same product.
    func testGemmWithAPackedCopyAgreesWithOpenBLAS() {
        var rng = SeededRNG(seed: 9)
        let k = 33, n = 50
        let b = (0..<(k * n)).map { _ in rng.normal() }
        let packed = b.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, k: k, n: n, ldb: n) }
        for m in [1, 16, 17, 40] {
            let a = (0..<(m * k)).map { _ in rng.normal() }
            var plain = [Float](repeating: 0, count: m * n), viaPacked = plain
            BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: 0, c: &plain, ldc: n)
            BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, packedB: packed, beta: 0, c: &viaPacked, ldc: n)
            for (x, y) in zip(plain, viaPacked) { XCTAssertEqual(x, y, accuracy: 1e-4 * (1 + abs(x)), "m \(m)") }
            if m > PackedMatrix.rowLimit(threads: BLAS.threads) { XCTAssertEqual(plain, viaPacked, "m \(m): OpenBLAS, not the packed copy") }
        }
    }
}
