import CBLAS

/// The only caller of cblas and LAPACKE in s2s, and the owner of BLAS threading.
///
/// All matrices are row-major views over contiguous `Float` buffers: an `[rows, cols]` matrix
/// with leading dimension `ld` has element (r, c) at `pointer[r * ld + c]`.
public enum BLAS {
    /// Sets the number of threads OpenBLAS uses for every later call (`--threads`).
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The kernel family OpenBLAS chose for this CPU (e.g. "Haswell", "SkylakeX"). "Prescott"
    /// means it did not recognise the CPU and fell back to SSE3 kernels, several times slower; set
    /// OPENBLAS_CORETYPE (e.g. SkylakeX or Haswell) before starting the process.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The OPENBLAS_CORETYPE to start the process with when OpenBLAS (`currentCore`) fell back to
    /// its generic kernels on a CPU it does not know but that has AVX2 and FMA (OpenBLAS 0.3.21
    /// knows neither AMD Zen 4 nor Intel Sapphire/Emerald Rapids), or nil when its own choice
    /// stands. On Intel CPUs with AVX-512 the SkylakeX kernels are faster than Haswell's; on
    /// Zen 4, which splits 512-bit operations in two, Haswell's AVX2 kernels were as fast or
    /// faster (BENCHMARKS.md, "BLAS kernels"; ../shared/PLATFORM-NOTES.md).
    public static func recommendedCoreType(currentCore: String, vendor: String, cpuFlags: Set<String>) -> String? {
        let generic: Set<String> = ["prescott", "core2", "katmai", "coppermine", "northwood", "banias", "atom", "nano"]
        guard generic.contains(currentCore.lowercased()),
              cpuFlags.contains("avx2"), cpuFlags.contains("fma") else { return nil }
        if vendor == "GenuineIntel", CPUFeatures.avx512Subsets.allSatisfy(cpuFlags.contains) { return "SkylakeX" }
        return "Haswell"
    }

    /// C ← α·op(A)·op(B) + β·C.
    ///
    /// op(A): [m, k], op(B): [k, n], C: [m, n]. `transA` means A is stored as [k, m].
    /// `packedB`, a copy of op(B) packed for small products (decoding), is used instead of B
    /// when A is at most `PackedMatrix.rowLimit(threads:)` plain rows.
    @inline(__always)
    public static func gemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        packedB: PackedMatrix? = nil,
        beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if let packedB, m <= PackedMatrix.rowLimit(threads: threads), !transA, alpha == 1 {
            precondition(packedB.k == k && packedB.n == n, "gemm: packed matrix is [\(packedB.k), \(packedB.n)], product needs [\(k), \(n)]")
            packedB.multiply(m: m, a: a, lda: lda, beta: beta, c: c, ldc: ldc, threads: threads)
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }

    /// y ← α·op(A)·x + β·y, with A stored as [rows, cols] (op(A) = Aᵀ when `trans`).
    @inline(__always)
    public static func gemv(
        trans: Bool = false, rows: Int, cols: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, incX: Int = 1,
        beta: Float, y: UnsafeMutablePointer<Float>, incY: Int = 1
    ) {
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans,
                    Int32(rows), Int32(cols), alpha, a, Int32(lda),
                    x, Int32(incX), beta, y, Int32(incY))
    }

    /// y ← α·x + y over `count` elements.
    @inline(__always)
    public static func axpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }

    /// x ← α·x over `count` elements.
    @inline(__always)
    public static func scale(count: Int, alpha: Float, x: UnsafeMutablePointer<Float>) {
        cblas_sscal(Int32(count), alpha, x, 1)
    }

    /// Σ xᵢ·yᵢ over `count` elements.
    @inline(__always)
    public static func dot(count: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(count), x, 1, y, 1)
    }

    /// Overwrites the [rows, cols] matrix `q` (rows ≥ cols) with a matrix whose columns are
    /// orthonormal, spanning the same space as its current columns: Q of the QR decomposition,
    /// with signs fixed so R's diagonal is positive (so Q is Haar-distributed when the input is
    /// Gaussian — Saxe et al. 2014, as PyTorch's `orthogonal_`).
    public static func orthonormalizeColumns(_ q: UnsafeMutablePointer<Float>, rows: Int, cols: Int) throws {
        precondition(rows >= cols, "orthonormalizeColumns needs rows ≥ cols")
        var tau = [Float](repeating: 0, count: cols)
        var info = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, s2s_lapack_int(rows), s2s_lapack_int(cols),
                                  q, s2s_lapack_int(cols), &tau)
        guard info == 0 else { throw BLASError.lapack(routine: "sgeqrf", info: Int(info)) }
        // R's diagonal, before sorgqr overwrites it.
        var diagonalSigns = [Float](repeating: 1, count: cols)
        for i in 0..<cols where q[i * cols + i] < 0 { diagonalSigns[i] = -1 }
        info = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, s2s_lapack_int(rows), s2s_lapack_int(cols),
                              s2s_lapack_int(cols), q, s2s_lapack_int(cols), tau)
        guard info == 0 else { throw BLASError.lapack(routine: "sorgqr", info: Int(info)) }
        for r in 0..<rows {
            for c in 0..<cols { q[r * cols + c] *= diagonalSigns[c] }
        }
    }
}

/// A failure reported by LAPACK.
public enum BLASError: Error, CustomStringConvertible {
    case lapack(routine: String, info: Int)

    public var description: String {
        switch self {
        case let .lapack(routine, info): return "LAPACK \(routine) failed (info \(info))"
        }
    }
}
