import S2SInt8Kernels

/// A weight matrix in 8 bits for decoding (`translate --int8`, `s2s quantize`): each output
/// column j is quantized symmetrically, w[k][j] ≈ s_j · q[k][j] with q ∈ [−127, 127] and
/// s_j = max_k |w[k][j]| / 127, and packed for the integer kernels. A product quantizes each
/// row of A the same way (dynamically, s_i = max |a_i| / 127), sums the integer products
/// exactly in 32 bits, and scales back: C[i][j] ≈ s_i · s_j · Σ_k q_a[i][k] · q[k][j].
///
/// Four times fewer bytes to stream than fp32 — what bounds a decoder step at few rows.
public final class Int8Matrix: @unchecked Sendable {
    /// The integer kernels.
    public enum Kernel: Sendable {
        /// Scalar C, the reference the others are checked against.
        case reference
        /// vpmaddubsw / vpmaddwd (any CPU with AVX2).
        case avx2
        /// vpdpbusd (AVX-512 VNNI), where the CPU has it.
        case avx512vnni

        /// The fastest this CPU runs.
        public static let best: Kernel = CPUFeatures.hasAVX512VNNI ? .avx512vnni : .avx2
    }

    /// op(B)'s shape: [k, n].
    public let k: Int, n: Int
    /// Bytes of a quantized row of A: k rounded up to a multiple of 4.
    let rowBytes: Int
    private let packed: UnsafeMutablePointer<Int8>
    private let columnSums: UnsafeMutablePointer<Int32>
    /// s_j per column.
    let scales: UnsafeMutablePointer<Float>

    /// Quantizes op(B) [k, n], B stored row-major with leading dimension `ldb` as [k, n] (or
    /// as [n, k] when `transposed`).
    public init(_ b: UnsafePointer<Float>, k: Int, n: Int, ldb: Int, transposed: Bool = false) {
        precondition(k > 0 && n > 0, "Int8Matrix needs a non-empty matrix")
        self.k = k
        self.n = n
        rowBytes = (k + 3) / 4 * 4
        scales = .allocate(capacity: n)
        columnSums = .allocate(capacity: n)
        let packedBytes = s2s_int8_packed_size(Int32(k), Int32(n))
        packed = TensorMemory.allocate(byteCount: packedBytes).bindMemory(to: Int8.self, capacity: packedBytes)
        let quantized = UnsafeMutablePointer<Int8>.allocate(capacity: k * n)
        defer { quantized.deallocate() }
        s2s_int8_quantize_columns(b, Int32(k), Int32(n), Int32(ldb), transposed ? 1 : 0, scales, quantized)
        s2s_int8_pack(quantized, Int32(k), Int32(n), Int32(n), packed, columnSums)
    }

    deinit {
        TensorMemory.deallocate(packed)
        columnSums.deallocate()
        scales.deallocate()
    }

    /// Bytes held: the packed weights, their scales and column sums.
    public var byteCount: Int { Int(s2s_int8_packed_size(Int32(k), Int32(n))) + 8 * n }

    /// The largest error of one element of an int8 product against the fp32 one, for row i of
    /// A with scale s_i: Σ_k (s_i/2 · |w[k][j]| + s_j/2 · |a[i][k]| + s_i s_j / 4), the
    /// rounding of both operands (`Int8MatrixTests` checks products against it).
    public func errorBound(row a: UnsafePointer<Float>, column j: Int, weights b: UnsafePointer<Float>, ldb: Int) -> Float {
        var largest: Float = 0
        for index in 0..<k { largest = max(largest, abs(a[index])) }
        let rowScale = largest > 0 ? largest / 127 : 1, columnScale = scales[j]
        var bound: Float = 0
        for index in 0..<k {
            bound += rowScale / 2 * abs(b[index * ldb + j]) + columnScale / 2 * abs(a[index]) + rowScale * columnScale / 4
        }
        return bound
    }

    /// C ← A·op(B) + β·C (β 0 or 1) with A's rows quantized into `scratch` (rounded to nearest,
    /// ties to even). A: [m, k] (leading
    /// dimension lda), C: [m, n] (leading dimension ldc).
    public func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float, c: UnsafeMutablePointer<Float>,
                         ldc: Int, scratch: Int8Scratch, kernel: Kernel = .best) {
        precondition(kernel != .avx512vnni || CPUFeatures.hasAVX512VNNI, "the VNNI kernel needs a CPU with AVX-512 VNNI")
        let (rows, rowScales, sums) = scratch.reserve(rows: m, rowBytes: rowBytes, columns: n)
        for i in 0..<m {
            rowScales[i] = s2s_int8_quantize_row(a + i * lda, Int32(k), rows + i * rowBytes, Int32(rowBytes))
        }
        integerProduct(m: m, rows: rows, sums: sums, kernel: kernel)
        for i in 0..<m {
            s2s_int8_dequantize_row(sums + i * n, Int32(n), rowScales[i], scales, beta == 0 ? 0 : 1, c + i * ldc)
        }
    }

    /// The exact integer sums C[m][n] = Σ_k rows[i][k] · q[k][j] (int8 rows of `rowBytes`).
    public func integerProduct(m: Int, rows: UnsafePointer<Int8>, sums: UnsafeMutablePointer<Int32>, kernel: Kernel = .best) {
        let (mm, nn, kk, lda) = (Int32(m), Int32(n), Int32(k), Int32(rowBytes))
        switch kernel {
        case .reference: s2s_int8_gemm_reference(mm, nn, kk, rows, lda, packed, sums, nn)
        case .avx2: s2s_int8_gemm_avx2(mm, nn, kk, rows, lda, packed, sums, nn)
        case .avx512vnni: s2s_int8_gemm_avx512vnni(mm, nn, kk, rows, lda, packed, columnSums, sums, nn)
        }
    }
}

/// One decoder's scratch for int8 products: its quantized rows, their scales and the integer
/// sums; grown to the largest product and reused, so a step allocates nothing.
public final class Int8Scratch {
    private var rows = UnsafeMutablePointer<Int8>.allocate(capacity: 1), rowCapacity = 1
    private var rowScales = UnsafeMutablePointer<Float>.allocate(capacity: 1), scaleCapacity = 1
    private var sums = UnsafeMutablePointer<Int32>.allocate(capacity: 1), sumCapacity = 1

    public init() {}

    deinit {
        rows.deallocate()
        rowScales.deallocate()
        sums.deallocate()
    }

    func reserve(rows m: Int, rowBytes: Int, columns n: Int)
        -> (UnsafeMutablePointer<Int8>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Int32>) {
        if m * rowBytes > rowCapacity {
            rows.deallocate()
            rowCapacity = m * rowBytes
            rows = .allocate(capacity: rowCapacity)
        }
        if m > scaleCapacity {
            rowScales.deallocate()
            scaleCapacity = m
            rowScales = .allocate(capacity: m)
        }
        if m * n > sumCapacity {
            sums.deallocate()
            sumCapacity = m * n
            sums = .allocate(capacity: sumCapacity)
        }
        return (rows, rowScales, sums)
    }
}
