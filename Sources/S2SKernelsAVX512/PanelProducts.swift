// The AVX-512 kernels of `PackedMatrix` (S2STensor), in a module of their own because it alone
// is compiled for AVX-512 (Package.swift): every function here may execute AVX-512
// instructions, so callers reach them only after checking the CPU has them
// (`CPUFeatures.hasAVX512`). Each computes a block of rows of A times one panel of a packed
// matrix: C[r, 0..<columns] = Σ_i A[r, i]·panel[i, ·] + β·C[r, ·], summed over i in increasing
// order with one fused multiply-add per term, exactly as the AVX2 kernels do, so a row's
// result is the same bits whichever kernel or block computed it.
//
// A panel is [k, 32]: 32 columns, two 16-lane vectors per row of the panel.

public typealias WideLanes = SIMD16<Float>

@inline(__always)
private func load(_ p: UnsafePointer<Float>) -> WideLanes {
    UnsafeRawPointer(p).loadUnaligned(as: WideLanes.self)
}

/// C[0..<columns] ← (low, high) + β·C, the 32 (or fewer) results of one row.
@inline(__always)
private func store(_ low: WideLanes, _ high: WideLanes, to c: UnsafeMutablePointer<Float>, columns: Int, beta: Float) {
    if columns == 32 {
        var low = low, high = high
        if beta != 0 {
            low.addProduct(WideLanes(repeating: beta), load(c))
            high.addProduct(WideLanes(repeating: beta), load(c + 16))
        }
        UnsafeMutableRawPointer(c).storeBytes(of: low, as: WideLanes.self)
        UnsafeMutableRawPointer(c + 16).storeBytes(of: high, as: WideLanes.self)
    } else {
        for j in 0..<columns {
            let value = j < 16 ? low[j] : high[j - 16]
            c[j] = beta == 0 ? value : value.addingProduct(beta, c[j])
        }
    }
}

/// Up to 12 rows against one panel: 24 accumulators, two panel vectors and a broadcast in the
/// 32 AVX-512 registers. Rows beyond `rows` repeat the last row and are not stored.
public func panelProduct12(rows: Int, k: Int, a: UnsafePointer<Float>, lda: Int, panel: UnsafePointer<Float>,
                           c: UnsafeMutablePointer<Float>, ldc: Int, columns: Int, beta: Float) {
    @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> { a + min(r, rows - 1) * lda }
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
    store(c00, c01, to: c, columns: columns, beta: beta)
    if rows > 1 { store(c10, c11, to: c + ldc, columns: columns, beta: beta) }
    if rows > 2 { store(c20, c21, to: c + 2 * ldc, columns: columns, beta: beta) }
    if rows > 3 { store(c30, c31, to: c + 3 * ldc, columns: columns, beta: beta) }
    if rows > 4 { store(c40, c41, to: c + 4 * ldc, columns: columns, beta: beta) }
    if rows > 5 { store(c50, c51, to: c + 5 * ldc, columns: columns, beta: beta) }
    if rows > 6 { store(c60, c61, to: c + 6 * ldc, columns: columns, beta: beta) }
    if rows > 7 { store(c70, c71, to: c + 7 * ldc, columns: columns, beta: beta) }
    if rows > 8 { store(c80, c81, to: c + 8 * ldc, columns: columns, beta: beta) }
    if rows > 9 { store(c90, c91, to: c + 9 * ldc, columns: columns, beta: beta) }
    if rows > 10 { store(c100, c101, to: c + 10 * ldc, columns: columns, beta: beta) }
    if rows > 11 { store(c110, c111, to: c + 11 * ldc, columns: columns, beta: beta) }
}

/// Up to 6 rows against one panel (the tail of a block of 12, and beam search's few rows):
/// half the multiply-adds of `panelProduct12` per panel row where that one would idle.
/// Rows beyond `rows` repeat the last row and are not stored.
public func panelProduct6(rows: Int, k: Int, a: UnsafePointer<Float>, lda: Int, panel: UnsafePointer<Float>,
                          c: UnsafeMutablePointer<Float>, ldc: Int, columns: Int, beta: Float) {
    @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> { a + min(r, rows - 1) * lda }
    let a0 = row(0), a1 = row(1), a2 = row(2), a3 = row(3), a4 = row(4), a5 = row(5)
    var c00 = WideLanes(), c01 = WideLanes(), c10 = WideLanes(), c11 = WideLanes()
    var c20 = WideLanes(), c21 = WideLanes(), c30 = WideLanes(), c31 = WideLanes()
    var c40 = WideLanes(), c41 = WideLanes(), c50 = WideLanes(), c51 = WideLanes()
    var w = panel
    for i in 0..<k {
        let w0 = load(w), w1 = load(w + 16)
        var x = WideLanes(repeating: a0[i]); c00.addProduct(x, w0); c01.addProduct(x, w1)
        x = WideLanes(repeating: a1[i]); c10.addProduct(x, w0); c11.addProduct(x, w1)
        x = WideLanes(repeating: a2[i]); c20.addProduct(x, w0); c21.addProduct(x, w1)
        x = WideLanes(repeating: a3[i]); c30.addProduct(x, w0); c31.addProduct(x, w1)
        x = WideLanes(repeating: a4[i]); c40.addProduct(x, w0); c41.addProduct(x, w1)
        x = WideLanes(repeating: a5[i]); c50.addProduct(x, w0); c51.addProduct(x, w1)
        w += 32
    }
    store(c00, c01, to: c, columns: columns, beta: beta)
    if rows > 1 { store(c10, c11, to: c + ldc, columns: columns, beta: beta) }
    if rows > 2 { store(c20, c21, to: c + 2 * ldc, columns: columns, beta: beta) }
    if rows > 3 { store(c30, c31, to: c + 3 * ldc, columns: columns, beta: beta) }
    if rows > 4 { store(c40, c41, to: c + 4 * ldc, columns: columns, beta: beta) }
    if rows > 5 { store(c50, c51, to: c + 5 * ldc, columns: columns, beta: beta) }
}

/// One row against one panel (greedy search over one sentence, the encoder's recurrent steps
/// for one sentence).
public func panelProduct1(k: Int, a: UnsafePointer<Float>, panel: UnsafePointer<Float>,
                          c: UnsafeMutablePointer<Float>, columns: Int, beta: Float) {
    var c0 = WideLanes(), c1 = WideLanes()
    var w = panel
    for i in 0..<k {
        let x = WideLanes(repeating: a[i])
        c0.addProduct(x, load(w)); c1.addProduct(x, load(w + 16))
        w += 32
    }
    store(c0, c1, to: c, columns: columns, beta: beta)
}
