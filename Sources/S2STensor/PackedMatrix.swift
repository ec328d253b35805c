import Dispatch

/// A weight matrix copied once into the layout a product with only a few rows wants, for
/// decoding: beam search over one sentence multiplies 5 rows by each decoder matrix per step.
///
/// Why: for such products OpenBLAS re-packs the whole weight matrix on every call and then
/// streams it with a stride of one matrix row per k, which defeats the hardware prefetchers;
/// the product runs at 8–12 GB/s when it could run at the speed memory streams weights.
/// Packed once into column panels, each panel is one contiguous stream read exactly once per
/// product, and the rows of A stay in registers (measured 2.7–3.5× faster than cblas_sgemm for
/// 1–12 rows; BENCHMARKS.md, "Small-batch products").
///
/// Layout: op(B) [k, n] is cut into ⌈n/16⌉ panels of 16 columns (the last one zero-padded);
/// panel p holds op(B)[:, 16p ..< 16p + 16] as [k, 16], row after row.
///
/// Each output element is the sum over k in increasing order of one row of A against one
/// column, the same whatever the number of rows: a row's result does not depend on which
/// other rows share its product (unlike OpenBLAS, whose blocking can depend on m).
public final class PackedMatrix: @unchecked Sendable {
    /// Products with at most this many rows use the packed layout; larger ones go to OpenBLAS,
    /// whose cache blocking wins once each weight is reused by enough rows (crossover measured
    /// between 16 and 32 rows).
    public static let rowLimit = 16
    /// Columns per panel: two 8-lane vectors (AVX2).
    static let panelWidth = 16

    /// op(B)'s shape: [k, n].
    public let k: Int, n: Int
    let panelCount: Int
    private let storage: UnsafeMutableBufferPointer<Float>

    /// Packs op(B) [k, n], where B is stored row-major with leading dimension `ldb` as [k, n]
    /// (or as [n, k] when `transposed`, e.g. a tied output layer reading the embedding matrix).
    public init(_ b: UnsafePointer<Float>, k: Int, n: Int, ldb: Int, transposed: Bool = false) {
        precondition(k > 0 && n > 0, "PackedMatrix needs a non-empty matrix")
        self.k = k
        self.n = n
        panelCount = (n + Self.panelWidth - 1) / Self.panelWidth
        storage = .allocate(capacity: panelCount * k * Self.panelWidth)
        storage.initialize(repeating: 0)
        let width = Self.panelWidth
        for panel in 0..<panelCount {
            let columns = min(width, n - panel * width)
            let destination = storage.baseAddress! + panel * k * width
            for row in 0..<k {
                for column in 0..<columns {
                    let j = panel * width + column
                    destination[row * width + column] = transposed ? b[j * ldb + row] : b[row * ldb + j]
                }
            }
        }
    }

    deinit { storage.deallocate() }

    /// Bytes held by the packed copy.
    public var byteCount: Int { storage.count * MemoryLayout<Float>.stride }

    /// C ← A·op(B) + β·C for m ≤ `rowLimit` rows, split over `threads` threads by panels when
    /// the matrix is big enough for that to pay. A: [m, k] (leading dimension lda), C: [m, n].
    func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float,
                  c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        // Below ~1M weights a second thread costs more to wake than it saves (measured).
        let parts = k * n >= 1 << 20 ? min(threads, panelCount) : 1
        if parts <= 1 {
            multiply(m: m, a: a, lda: lda, beta: beta, c: c, ldc: ldc, panels: 0..<panelCount)
            return
        }
        let shared = SharedOperands(a: a, c: c)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            // Disjoint panels write disjoint columns of C.
            let panels = (panelCount * part / parts)..<(panelCount * (part + 1) / parts)
            self.multiply(m: m, a: shared.a, lda: lda, beta: beta, c: shared.c, ldc: ldc, panels: panels)
        }
    }

    private func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float,
                          c: UnsafeMutablePointer<Float>, ldc: Int, panels: Range<Int>) {
        let width = Self.panelWidth
        for panel in panels {
            let weights = UnsafePointer(storage.baseAddress! + panel * k * width)
            let columns = min(width, n - panel * width)
            var row = 0
            while row < m {
                let rows = min(6, m - row)
                let out = c + row * ldc + panel * width
                if rows == 1 {
                    productOneRow(a: a + row * lda, panel: weights, c: out, columns: columns, beta: beta)
                } else {
                    productSixRows(rows: rows, a: a + row * lda, lda: lda, panel: weights, c: out, ldc: ldc,
                                   columns: columns, beta: beta)
                }
                row += rows
            }
        }
    }

    private typealias Lanes = SIMD8<Float>

    /// Up to six rows of A against one panel: 12 accumulators, two panel vectors and a
    /// broadcast fill the 16 AVX2 registers. Missing rows read row 0 and are not stored.
    @inline(__always)
    private func productSixRows(rows: Int, a: UnsafePointer<Float>, lda: Int, panel: UnsafePointer<Float>,
                                c: UnsafeMutablePointer<Float>, ldc: Int, columns: Int, beta: Float) {
        let a0 = a, a1 = a + (rows > 1 ? lda : 0), a2 = a + (rows > 2 ? 2 * lda : 0)
        let a3 = a + (rows > 3 ? 3 * lda : 0), a4 = a + (rows > 4 ? 4 * lda : 0), a5 = a + (rows > 5 ? 5 * lda : 0)
        var c00 = Lanes(), c01 = Lanes(), c10 = Lanes(), c11 = Lanes(), c20 = Lanes(), c21 = Lanes()
        var c30 = Lanes(), c31 = Lanes(), c40 = Lanes(), c41 = Lanes(), c50 = Lanes(), c51 = Lanes()
        var w = panel
        for i in 0..<k {
            let w0 = load(w), w1 = load(w + 8)
            var x = Lanes(repeating: a0[i]); c00.addProduct(x, w0); c01.addProduct(x, w1)
            x = Lanes(repeating: a1[i]); c10.addProduct(x, w0); c11.addProduct(x, w1)
            x = Lanes(repeating: a2[i]); c20.addProduct(x, w0); c21.addProduct(x, w1)
            x = Lanes(repeating: a3[i]); c30.addProduct(x, w0); c31.addProduct(x, w1)
            x = Lanes(repeating: a4[i]); c40.addProduct(x, w0); c41.addProduct(x, w1)
            x = Lanes(repeating: a5[i]); c50.addProduct(x, w0); c51.addProduct(x, w1)
            w += 16
        }
        store(c00, c01, to: c, columns: columns, beta: beta)
        if rows > 1 { store(c10, c11, to: c + ldc, columns: columns, beta: beta) }
        if rows > 2 { store(c20, c21, to: c + 2 * ldc, columns: columns, beta: beta) }
        if rows > 3 { store(c30, c31, to: c + 3 * ldc, columns: columns, beta: beta) }
        if rows > 4 { store(c40, c41, to: c + 4 * ldc, columns: columns, beta: beta) }
        if rows > 5 { store(c50, c51, to: c + 5 * ldc, columns: columns, beta: beta) }
    }

    /// One row of A against one panel, in the same order of summation as `productSixRows`.
    @inline(__always)
    private func productOneRow(a: UnsafePointer<Float>, panel: UnsafePointer<Float>,
                               c: UnsafeMutablePointer<Float>, columns: Int, beta: Float) {
        var c0 = Lanes(), c1 = Lanes()
        var w = panel
        for i in 0..<k {
            let x = Lanes(repeating: a[i])
            c0.addProduct(x, load(w)); c1.addProduct(x, load(w + 8))
            w += 16
        }
        store(c0, c1, to: c, columns: columns, beta: beta)
    }

    @inline(__always)
    private func load(_ p: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    /// C[0..<columns] ← (low, high) + β·C.
    @inline(__always)
    private func store(_ low: Lanes, _ high: Lanes, to c: UnsafeMutablePointer<Float>, columns: Int, beta: Float) {
        if columns == Self.panelWidth {
            var low = low, high = high
            if beta != 0 {
                low.addProduct(Lanes(repeating: beta), load(c))
                high.addProduct(Lanes(repeating: beta), load(c + 8))
            }
            UnsafeMutableRawPointer(c).storeBytes(of: low, as: Lanes.self)
            UnsafeMutableRawPointer(c + 8).storeBytes(of: high, as: Lanes.self)
        } else {
            for j in 0..<columns {
                let value = j < 8 ? low[j] : high[j - 8]
                c[j] = beta == 0 ? value : value.addingProduct(beta, c[j])
            }
        }
    }
}

/// The operand pointers handed to `concurrentPerform`; the parts write disjoint columns.
private struct SharedOperands: @unchecked Sendable {
    let a: UnsafePointer<Float>
    let c: UnsafeMutablePointer<Float>
}
