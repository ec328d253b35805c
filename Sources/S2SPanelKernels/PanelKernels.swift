// The kernels of `PackedMatrix` (S2STensor): a block of rows of A times one panel of a packed
// matrix, C[r, 0..<columns] = Σ_i A[r, i]·panel[i, ·] + β·C[r, ·], summed over i in increasing
// order with one fused multiply-add per term, so a row's result is the same bits whichever
// kernel, vector width or block computed it.
//
// A panel row holds two vectors of `Lanes` (the panel is [k, 2·width] with rows `panelStride`
// floats apart). The kernels are generic over the vector type and inlinable: S2STensor inlines
// them with 8-lane vectors under its AVX2 target, and this module, the one compiled for AVX-512
// (Package.swift), instantiates them with 16-lane vectors in the `…AVX512` functions below, which
// callers reach only on CPUs that have AVX-512 (`CPUFeatures.hasAVX512`).

@inlinable @inline(__always)
func loadLanes<Lanes: SIMD>(_ p: UnsafePointer<Float>, as: Lanes.Type) -> Lanes where Lanes.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
}

/// C[0..<columns] ← (low, high) + β·C: the (up to) two vectors of results of one row.
@inlinable @inline(__always)
func storeRow<Lanes: SIMD>(_ low: Lanes, _ high: Lanes, to c: UnsafeMutablePointer<Float>, columns: Int,
                           beta: Float) where Lanes.Scalar == Float {
    let width = Lanes.scalarCount
    if columns == 2 * width {
        var low = low, high = high
        if beta != 0 {
            low.addProduct(Lanes(repeating: beta), loadLanes(c, as: Lanes.self))
            high.addProduct(Lanes(repeating: beta), loadLanes(c + width, as: Lanes.self))
        }
        UnsafeMutableRawPointer(c).storeBytes(of: low, as: Lanes.self)
        UnsafeMutableRawPointer(c + width).storeBytes(of: high, as: Lanes.self)
    } else {
        for j in 0..<columns {
            let value = j < width ? low[j] : high[j - width]
            c[j] = beta == 0 ? value : value.addingProduct(beta, c[j])
        }
    }
}

/// Up to 6 rows against one panel: 12 accumulators, two panel vectors and a broadcast (the 16
/// AVX2 registers; with AVX-512, beam search's few rows and the tail of a block of 12). Rows
/// beyond `rows` repeat the last row and are not stored.
@inlinable @inline(__always)
public func panelProductSix<Lanes: SIMD>(
    _: Lanes.Type, rows: Int, k: Int, a: UnsafePointer<Float>, lda: Int, panel: UnsafePointer<Float>,
    panelStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, columns: Int, beta: Float
) where Lanes.Scalar == Float {
    let width = Lanes.scalarCount
    @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> { a + min(r, rows - 1) * lda }
    let a0 = row(0), a1 = row(1), a2 = row(2), a3 = row(3), a4 = row(4), a5 = row(5)
    var c00 = Lanes(), c01 = Lanes(), c10 = Lanes(), c11 = Lanes(), c20 = Lanes(), c21 = Lanes()
    var c30 = Lanes(), c31 = Lanes(), c40 = Lanes(), c41 = Lanes(), c50 = Lanes(), c51 = Lanes()
    var w = panel
    for i in 0..<k {
        let w0 = loadLanes(w, as: Lanes.self), w1 = loadLanes(w + width, as: Lanes.self)
        var x = Lanes(repeating: a0[i]); c00.addProduct(x, w0); c01.addProduct(x, w1)
        x = Lanes(repeating: a1[i]); c10.addProduct(x, w0); c11.addProduct(x, w1)
        x = Lanes(repeating: a2[i]); c20.addProduct(x, w0); c21.addProduct(x, w1)
        x = Lanes(repeating: a3[i]); c30.addProduct(x, w0); c31.addProduct(x, w1)
        x = Lanes(repeating: a4[i]); c40.addProduct(x, w0); c41.addProduct(x, w1)
        x = Lanes(repeating: a5[i]); c50.addProduct(x, w0); c51.addProduct(x, w1)
        w += panelStride
    }
    storeRow(c00, c01, to: c, columns: columns, beta: beta)
    if rows > 1 { storeRow(c10, c11, to: c + ldc, columns: columns, beta: beta) }
    if rows > 2 { storeRow(c20, c21, to: c + 2 * ldc, columns: columns, beta: beta) }
    if rows > 3 { storeRow(c30, c31, to: c + 3 * ldc, columns: columns, beta: beta) }
    if rows > 4 { storeRow(c40, c41, to: c + 4 * ldc, columns: columns, beta: beta) }
    if rows > 5 { storeRow(c50, c51, to: c + 5 * ldc, columns: columns, beta: beta) }
}

/// One row against one panel (greedy search over one sentence, the encoder's recurrent steps
/// for one sentence).
@inlinable @inline(__always)
public func panelProductOne<Lanes: SIMD>(
    _: Lanes.Type, k: Int, a: UnsafePointer<Float>, panel: UnsafePointer<Float>, panelStride: Int,
    c: UnsafeMutablePointer<Float>, columns: Int, beta: Float
) where Lanes.Scalar == Float {
    let width = Lanes.scalarCount
    var c0 = Lanes(), c1 = Lanes()
    var w = panel
    for i in 0..<k {
        let x = Lanes(repeating: a[i])
        c0.addProduct(x, loadLanes(w, as: Lanes.self)); c1.addProduct(x, loadLanes(w + width, as: Lanes.self))
        w += panelStride
    }
    storeRow(c0, c1, to: c, columns: columns, beta: beta)
}

// MARK: - AVX-512 (16-lane vectors, 32-column panels)

public typealias WideLanes = SIMD16<Float>

/// Up to 12 rows against one 32-column panel: 24 accumulators, two panel vectors and a
/// broadcast in the 32 AVX-512 registers. Rows beyond `rows` repeat the last row and are not
/// stored.
public func panelProduct12AVX512(rows: Int, k: Int, a: UnsafePointer<Float>, lda: Int, panel: UnsafePointer<Float>,
                                 c: UnsafeMutablePointer<Float>, ldc: Int, columns: Int, beta: Float) {
    @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> { a + min(r, rows - 1) * lda }
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> WideLanes { loadLanes(p, as: WideLanes.self) }
    let a0 = row(0), a1 = row(1), a2 = row(2), a3 = row(3), a4 = row(4), a5 = row(5)
    let a6 = row(6), a7 = row(7), a8 = row(8), a9 = row(9), a10 = row(10), a11 = row(11)
    var c00 = WideLanes(), c01 = WideLanes(), c10 = WideLanes(), c11 = WideLanes()
    var c20 = WideLanes(), c21 = WideLanes(), c30 = WideLanes(), c31 = WideLanes()
    var c40 = WideLanes(), c41 = WideLanes(), c50 = WideLanes(), c51 = WideLanes()
    var c60 = WideLanes(), c61 = WideLanes(), c70 = WideLanes(), c71 = WideLanes()
    var c80 = WideLanes(), c81 = WideLanes(), c90 = WideLanes(), c91 = WideLanes()
    var c100 = WideLanes(), c101 = WideLanes(), c110 = WideLanes(), c111 = WideLanes()
    var w = panel
    for i in 0..<k {
        let w0 = load(w), w1 = load(w + 16)
        var x = WideLanes(repeating: a0[i]); c00.addProduct(x, w0); c01.addProduct(x, w1)
        x = WideLanes(repeating: a1[i]); c10.addProduct(x, w0); c11.addProduct(x, w1)
        x = WideLanes(repeating: a2[i]); c20.addProduct(x, w0); c21.addProduct(x, w1)
        x = WideLanes(repeating: a3[i]); c30.addProduct(x, w0); c31.addProduct(x, w1)
        x = WideLanes(repeating: a4[i]); c40.addProduct(x, w0); c41.addProduct(x, w1)
        x = WideLanes(repeating: a5[i]); c50.addProduct(x, w0); c51.addProduct(x, w1)
        x = WideLanes(repeating: a6[i]); c60.addProduct(x, w0); c61.addProduct(x, w1)
        x = WideLanes(repeating: a7[i]); c70.addProduct(x, w0); c71.addProduct(x, w1)
        x = WideLanes(repeating: a8[i]); c80.addProduct(x, w0); c81.addProduct(x, w1)
        x = WideLanes(repeating: a9[i]); c90.addProduct(x, w0); c91.addProduct(x, w1)
        x = WideLanes(repeating: a10[i]); c100.addProduct(x, w0); c101.addProduct(x, w1)
        x = WideLanes(repeating: a11[i]); c110.addProduct(x, w0); c111.addProduct(x, w1)
        w += 32
    }
    storeRow(c00, c01, to: c, columns: columns, beta: beta)
    if rows > 1 { storeRow(c10, c11, to: c + ldc, columns: columns, beta: beta) }
    if rows > 2 { storeRow(c20, c21, to: c + 2 * ldc, columns: columns, beta: beta) }
    if rows > 3 { storeRow(c30, c31, to: c + 3 * ldc, columns: columns, beta: beta) }
    if rows > 4 { storeRow(c40, c41, to: c + 4 * ldc, columns: columns, beta: beta) }
    if rows > 5 { storeRow(c50, c51, to: c + 5 * ldc, columns: columns, beta: beta) }
    if rows > 6 { storeRow(c60, c61, to: c + 6 * ldc, columns: columns, beta: beta) }
    if rows > 7 { storeRow(c70, c71, to: c + 7 * ldc, columns: columns, beta: beta) }
    if rows > 8 { storeRow(c80, c81, to: c + 8 * ldc, columns: columns, beta: beta) }
    if rows > 9 { storeRow(c90, c91, to: c + 9 * ldc, columns: columns, beta: beta) }
    if rows > 10 { storeRow(c100, c101, to: c + 10 * ldc, columns: columns, beta: beta) }
    if rows > 11 { storeRow(c110, c111, to: c + 11 * ldc, columns: columns, beta: beta) }
}

/// `panelProductSix` with 16-lane vectors on a 32-column panel.
public func panelProduct6AVX512(rows: Int, k: Int, a: UnsafePointer<Float>, lda: Int, panel: UnsafePointer<Float>,
                                c: UnsafeMutablePointer<Float>, ldc: Int, columns: Int, beta: Float) {
    panelProductSix(WideLanes.self, rows: rows, k: k, a: a, lda: lda, panel: panel, panelStride: 32,
                    c: c, ldc: ldc, columns: columns, beta: beta)
}

/// `panelProductOne` with 16-lane vectors on a 32-column panel.
public func panelProduct1AVX512(k: Int, a: UnsafePointer<Float>, panel: UnsafePointer<Float>,
                                c: UnsafeMutablePointer<Float>, columns: Int, beta: Float) {
    panelProductOne(WideLanes.self, k: k, a: a, panel: panel, panelStride: 32, c: c, columns: columns, beta: beta)
}
