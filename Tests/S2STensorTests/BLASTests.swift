import S2SCore
import XCTest
@testable import S2STensor

final class BLASTests: XCTestCase {
    /// gemm against a naive triple loop for every transpose combination.
    func testGemmMatchesNaive() {
        var rng = SeededRNG(seed: 7)
        let m = 5, n = 7, k = 3
        for transA in [false, true] {
            for transB in [false, true] {
                let a = (0..<(m * k)).map { _ in rng.normal() }
                let b = (0..<(k * n)).map { _ in rng.normal() }
                var c = (0..<(m * n)).map { _ in rng.normal() }
                let c0 = c
                func aAt(_ i: Int, _ p: Int) -> Float { transA ? a[p * m + i] : a[i * k + p] }
                func bAt(_ p: Int, _ j: Int) -> Float { transB ? b[j * k + p] : b[p * n + j] }
                BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 2,
                          a: a, lda: transA ? m : k, b: b, ldb: transB ? k : n, beta: 0.5, c: &c, ldc: n)
                for i in 0..<m {
                    for j in 0..<n {
                        var sum: Float = 0
                        for p in 0..<k { sum += aAt(i, p) * bAt(p, j) }
                        XCTAssertEqual(c[i * n + j], 2 * sum + 0.5 * c0[i * n + j], accuracy: 1e-5,
                                       "transA \(transA) transB \(transB) at (\(i),\(j))")
                    }
                }
            }
        }
    }

    func testOrthonormalColumns() throws {
        var rng = SeededRNG(seed: 3)
        let rows = 8, cols = 5
        var q = (0..<(rows * cols)).map { _ in rng.normal() }
        try q.withUnsafeMutableBufferPointer { try BLAS.orthonormalizeColumns($0.baseAddress!, rows: rows, cols: cols) }
        for i in 0..<cols {
            for j in 0..<cols {
                var dot: Float = 0
                for r in 0..<rows { dot += q[r * cols + i] * q[r * cols + j] }
                XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-5, "QᵀQ at (\(i),\(j))")
            }
        }
    }

    /// The kernel choice for CPUs OpenBLAS 0.3.21 does not know: AVX-512 kernels on Intel,
    /// AVX2 ones on AMD (Zen 4 splits 512-bit work), nothing without AVX2 + FMA, and never
    /// overriding a core OpenBLAS recognised itself.
    func testRecommendedCoreType() {
        let avx2: Set<String> = ["sse4_2", "avx", "avx2", "fma"]
        let avx512 = avx2.union(["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"])
        XCTAssertEqual(BLAS.recommendedCoreType(currentCore: "Prescott", vendor: "GenuineIntel", cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLAS.recommendedCoreType(currentCore: "Prescott", vendor: "AuthenticAMD", cpuFlags: avx512), "Haswell")
        XCTAssertEqual(BLAS.recommendedCoreType(currentCore: "Prescott", vendor: "GenuineIntel", cpuFlags: avx2), "Haswell")
        XCTAssertEqual(BLAS.recommendedCoreType(currentCore: "Prescott", vendor: "GenuineIntel",
                                                cpuFlags: avx512.subtracting(["avx512bw"])), "Haswell")
        XCTAssertNil(BLAS.recommendedCoreType(currentCore: "Prescott", vendor: "GenuineIntel", cpuFlags: ["sse4_2", "avx"]))
        XCTAssertNil(BLAS.recommendedCoreType(currentCore: "Cooperlake", vendor: "GenuineIntel", cpuFlags: avx512))
    }

    func testRNGIsDeterministicAndResumable() {
        var a = SeededRNG(seed: 42)
        for _ in 0..<10 { _ = a.next() }
        var b = a
        XCTAssertEqual((0..<5).map { _ in a.next() }, (0..<5).map { _ in b.next() })
        let encoded = try! JSONEncoder().encode(a)
        var c = try! JSONDecoder().decode(SeededRNG.self, from: encoded)
        XCTAssertEqual(a.next(), c.next())
        XCTAssertNotEqual(SeededRNG(seed: 1).state, SeededRNG(seed: 2).state)
    }
}
import Foundation
