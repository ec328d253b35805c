import Dispatch
import S2SPanelKernels

/// A weight matrix copied once into the layout our own matrix-product kernels stream, for
/// decoding, where the weights never change.
///
/// Why: OpenBLAS copies ("packs") the whole weight matrix into its kernel's layout on every
/// call. In a decoder step that copy is a sizeable part of the time at 64 rows, and at beam
/// search's few rows it dominates: the product then runs well below the speed at which memory
/// streams weights. Packed once, each panel is one contiguous stream. `s2s bench products`
/// times both paths (BENCHMARKS.md, "decoding").
///
/// Layout: op(B) [k, n] is cut into ⌈n/32⌉ panels of 32 columns (the last one zero-padded);
/// panel p holds op(B)[:, 32p ..< 32p + 32] as [k, 32], row after row.
///
/// Kernels (S2SPanelKernels): with AVX-512, blocks of 12, 6 or 1 rows × one panel; without,
/// blocks of 6 or 1 rows × half a panel in AVX2 registers, which only beats OpenBLAS for a few rows
/// (`rowLimit(threads:)`). Every output element is the sum over k in increasing order with one fused
/// multiply-add per term, so a row's result is the same bits whichever kernel, block or
/// thread computed it and whatever other rows shared the product.
public final class PackedMatrix: @unchecked Sendable {
    /// The kernels a product runs on.
    public enum Kernel: Sendable {
        /// 6 rows × 16 columns in 8-lane vectors (any x86-64 CPU with AVX2 and FMA).
        case avx2
        /// 12 rows × 32 columns in 16-lane vectors (only where `CPUFeatures.hasAVX512`).
        case avx512

        /// The fastest this CPU runs.
        public static let best: Kernel = CPUFeatures.hasAVX512 ? .avx512 : .avx2
    }

    /// `BLAS.gemm` uses the packed copy for products of at most this many rows and OpenBLAS
    /// for larger ones: the row count up to which the packed kernels measured faster on this
    /// machine with `threads` threads (`ProductPaths`), or `S2S_PACKED_ROW_LIMIT` when set.
    public static func rowLimit(threads: Int) -> Int { ProductPaths.packedRowLimit(threads: threads) }
    /// Columns per panel: two 16-lane vectors.
    static let panelWidth = 32

    /// op(B)'s shape: [k, n].
    public let k: Int, n: Int
    /// How B is laid out: its leading dimension, and whether op(B) = Bᵀ.
    let ldb: Int, transposed: Bool
    let panelCount: Int
    private let storage: UnsafeMutableBufferPointer<Float>

    /// Packs op(B) [k, n], where B is stored row-major with leading dimension `ldb` as [k, n]
    /// (or as [n, k] when `transposed`, e.g. a tied output layer reading the embedding matrix).
    public init(_ b: UnsafePointer<Float>, k: Int, n: Int, ldb: Int, transposed: Bool = false) {
        precondition(k > 0 && n > 0, "PackedMatrix needs a non-empty matrix")
        self.k = k
        self.n = n
        self.ldb = ldb
        self.transposed = transposed
        panelCount = (n + Self.panelWidth - 1) / Self.panelWidth
        let count = panelCount * k * Self.panelWidth
        storage = UnsafeMutableBufferPointer(start: TensorMemory.allocateFloats(count), count: count)
        storage.initialize(repeating: 0)
        repack(from: b)
    }

    /// Packs B again into the same storage (after an update changed it): B has the shape and
    /// layout the copy was made with.
    public func repack(from b: UnsafePointer<Float>) {
        let width = Self.panelWidth
        // op(B)[row, j] is at b + row·rowStride + j·columnStride.
        let rowStride = transposed ? 1 : ldb, columnStride = transposed ? ldb : 1
        for panel in 0..<panelCount {
            let columns = min(width, n - panel * width)
            let destination = storage.baseAddress! + panel * k * width
            for row in 0..<k {
                let source = b + row * rowStride + panel * width * columnStride
                for column in 0..<columns { destination[row * width + column] = source[column * columnStride] }
            }
        }
    }

    deinit { TensorMemory.deallocate(storage.baseAddress!) }

    /// Bytes held by the packed copy.
    public var byteCount: Int { storage.count * MemoryLayout<Float>.stride }

    /// C ← A·op(B) + β·C, split over `threads` threads by panels when the product is big enough
    /// for that to pay. A: [m, k] (leading dimension lda), C: [m, n] (leading dimension ldc).
    public func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float,
                         c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int, kernel: Kernel = .best) {
        precondition(kernel == .avx2 || CPUFeatures.hasAVX512, "the AVX-512 kernels need a CPU with AVX-512")
        // Waking a second thread costs tens of microseconds: worth it only from about 1M weights
        // (streamed from cache at few rows) or 8M multiply-adds (many rows).
        let large = k * n >= 1 << 20 || m * k * n >= 1 << 23
        let parts = large ? min(threads, panelCount) : 1
        if parts <= 1 {
            multiply(m: m, a: a, lda: lda, beta: beta, c: c, ldc: ldc, panels: 0..<panelCount, kernel: kernel)
            return
        }
        let shared = SharedOperands(a: a, c: c)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            // Disjoint panels write disjoint columns of C.
            let panels = (panelCount * part / parts)..<(panelCount * (part + 1) / parts)
            self.multiply(m: m, a: shared.a, lda: lda, beta: beta, c: shared.c, ldc: ldc, panels: panels, kernel: kernel)
        }
    }

    private func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float,
                          c: UnsafeMutablePointer<Float>, ldc: Int, panels: Range<Int>, kernel: Kernel) {
        let width = Self.panelWidth
        // Rows in chunks whose A (~512 KB) stays in L2 while every panel streams past it.
        let chunkRows = max(12, (1 << 17) / k / 12 * 12)
        for chunk in stride(from: 0, to: m, by: chunkRows) {
            let chunkEnd = min(m, chunk + chunkRows)
            for panel in panels {
                let weights = UnsafePointer(storage.baseAddress! + panel * k * width)
                let columns = min(width, n - panel * width)
                switch kernel {
                case .avx512:
                    var row = chunk
                    while row < chunkEnd {
                        let rows = min(12, chunkEnd - row)
                        let aRows = a + row * lda, out = c + row * ldc + panel * width
                        if rows > 6 {
                            panelProduct12AVX512(rows: rows, k: k, a: aRows, lda: lda, panel: weights, c: out,
                                                 ldc: ldc, columns: columns, beta: beta)
                        } else if rows > 1 {
                            panelProduct6AVX512(rows: rows, k: k, a: aRows, lda: lda, panel: weights, c: out,
                                                ldc: ldc, columns: columns, beta: beta)
                        } else {
                            panelProduct1AVX512(k: k, a: aRows, panel: weights, c: out, columns: columns, beta: beta)
                        }
                        row += rows
                    }
                case .avx2:
                    for half in 0..<2 where half * 16 < columns {
                        var row = chunk
                        while row < chunkEnd {
                            let rows = min(6, chunkEnd - row)
                            let aRows = a + row * lda, out = c + row * ldc + panel * width + half * 16
                            let halfColumns = min(16, columns - half * 16)
                            if rows == 1 {
                                panelProductOne(SIMD8<Float>.self, k: k, a: aRows, panel: weights + half * 16,
                                                panelStride: width, c: out, columns: halfColumns, beta: beta)
                            } else {
                                panelProductSix(SIMD8<Float>.self, rows: rows, k: k, a: aRows, lda: lda,
                                                panel: weights + half * 16, panelStride: width, c: out, ldc: ldc,
                                                columns: halfColumns, beta: beta)
                            }
                            row += rows
                        }
                    }
                }
            }
        }
    }
}

/// The operand pointers handed to `concurrentPerform`; the parts write disjoint columns.
private struct SharedOperands: @unchecked Sendable {
    let a: UnsafePointer<Float>
    let c: UnsafeMutablePointer<Float>
}
