import S2STensor

// The GRU cell in PyTorch's two-bias form (docs/model.md), split as Marian splits it:
// `applyInput` (one GEMM over every time step) and `applyState` (one GEMM per step for the whole
// batch), with a fused SIMD kernel for the gates and the masked carry
// h = m·h' + (1 − m)·h_prev that lets padded positions leave the state untouched.
//
// Per-step cache layout [B, 4H]: r | z | n | gh_n (the recurrent pre-activation of the
// candidate, which the backward pass needs for ∂n/∂r).

/// The four tensors of one GRU, read-only.
struct GRUWeights {
    /// W: [In, 3H], b: [3H], U: [H, 3H], c: [3H].
    var W, b, U, c: UnsafePointer<Float>
    init(_ store: ParameterStore, _ prefix: String) {
        W = UnsafePointer(store.tensor("\(prefix).W").baseAddress!)
        b = UnsafePointer(store.tensor("\(prefix).b").baseAddress!)
        U = UnsafePointer(store.tensor("\(prefix).U").baseAddress!)
        c = UnsafePointer(store.tensor("\(prefix).c").baseAddress!)
    }
}

/// The gradients of one GRU's four tensors, accumulated into.
struct GRUGradients {
    var dW, db, dU, dc: UnsafeMutablePointer<Float>
    init(_ store: ParameterStore, _ prefix: String) {
        dW = store.tensor("\(prefix).W").baseAddress!
        db = store.tensor("\(prefix).b").baseAddress!
        dU = store.tensor("\(prefix).U").baseAddress!
        dc = store.tensor("\(prefix).c").baseAddress!
    }
}

/// Input projection over all rows at once (Marian's applyInput).
/// x: [rows, In] → gx: [rows, 3H] = x·W + b.
func gruInputForward(gx: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, weights: GRUWeights,
                     rows: Int, inputSize: Int, hiddenSize: Int) {
    broadcastRows(gx, bias: weights.b, rows: rows, cols: 3 * hiddenSize)
    BLAS.gemm(m: rows, n: 3 * hiddenSize, k: inputSize, a: x, lda: inputSize,
              b: weights.W, ldb: 3 * hiddenSize, beta: 1, c: gx, ldc: 3 * hiddenSize)
}

/// Backward of `gruInputForward`: dW += xᵀ·dgx, db += Σ_rows dgx, dx += dgx·Wᵀ.
/// dgx: [rows, 3H], x: [rows, In], dx: [rows, In] (nil when x is not trainable).
func gruInputBackward(dx: UnsafeMutablePointer<Float>?, gradients: GRUGradients,
                      dgx: UnsafePointer<Float>, x: UnsafePointer<Float>, weights: GRUWeights,
                      rows: Int, inputSize: Int, hiddenSize: Int) {
    let g = 3 * hiddenSize
    BLAS.gemm(transA: true, m: inputSize, n: g, k: rows, a: x, lda: inputSize,
              b: dgx, ldb: g, beta: 1, c: gradients.dW, ldc: g)
    addColumnSums(gradients.db, of: dgx, rows: rows, cols: g)
    if let dx {
        BLAS.gemm(transB: true, m: rows, n: inputSize, k: g, a: dgx, lda: g,
                  b: weights.W, ldb: g, beta: 1, c: dx, ldc: inputSize)
    }
}

/// One recurrent step for the whole batch (Marian's applyState).
///
/// gh = x̃·U + c with x̃ = h_prev ⊙ d, d the variational state-dropout mask (nil: no dropout);
/// r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r ⊙ gh_n), h' = (1 − z) ⊙ n + z ⊙ h_prev,
/// h = m·h' + (1 − m)·h_prev with m the row's padding mask (nil: every row real).
/// h: [B, H] out, cache: [B, 4H] out, recurrentInput: [B, H] out (x̃, kept so the backward pass
/// forms ∂U for all steps in one GEMM), gh: [B, 3H] scratch,
/// hPrev: [B, H], gx: [B, 3H] (row stride `gxStride`), mask: [B], stateMask: [B, H].
func gruStepForward(h: UnsafeMutablePointer<Float>, cache: UnsafeMutablePointer<Float>,
                    recurrentInput: UnsafeMutablePointer<Float>, gh: UnsafeMutablePointer<Float>,
                    hPrev: UnsafePointer<Float>, gx: UnsafePointer<Float>,
                    mask: UnsafePointer<Float>?, stateMask: UnsafePointer<Float>?,
                    weights: GRUWeights, batch: Int, hiddenSize: Int) {
    let hs = hiddenSize, g = 3 * hs
    recurrentInput.update(from: hPrev, count: batch * hs)
    if let stateMask { multiplyInPlace(recurrentInput, by: stateMask, count: batch * hs) }
    broadcastRows(gh, bias: weights.c, rows: batch, cols: g)
    BLAS.gemm(m: batch, n: g, k: hs, a: recurrentInput, lda: hs, b: weights.U, ldb: g, beta: 1, c: gh, ldc: g)
    let one = Lanes(repeating: 1)
    forEachRowChunk(rows: batch) { _, chunk in
        for row in chunk {
            let gxRow = gx + row * g, ghRow = gh + row * g, cacheRow = cache + row * 4 * hs
            let hPrevRow = hPrev + row * hs, hRow = h + row * hs
            let m = Lanes(repeating: mask?[row] ?? 1)
            var k = 0
            while k < hs {
                let w = min(16, hs - k)
                let r = Activations.sigmoid(loadLanes(gxRow + k, w) + loadLanes(ghRow + k, w))
                let z = Activations.sigmoid(loadLanes(gxRow + hs + k, w) + loadLanes(ghRow + hs + k, w))
                let ghn = loadLanes(ghRow + 2 * hs + k, w)
                let n = Activations.tanh(loadLanes(gxRow + 2 * hs + k, w) + r * ghn)
                let previous = loadLanes(hPrevRow + k, w)
                let candidate = (one - z) * n + z * previous
                storeLanes(previous + m * (candidate - previous), hRow + k, w)
                storeLanes(r, cacheRow + k, w)
                storeLanes(z, cacheRow + hs + k, w)
                storeLanes(n, cacheRow + 2 * hs + k, w)
                storeLanes(ghn, cacheRow + 3 * hs + k, w)
                k += 16
            }
        }
    }
}

/// Backward of `gruStepForward`.
///
/// dh: [B, H] gradient of the step's output; writes dgx: [B, 3H], dgh: [B, 3H] (∂gh, kept for
/// `gruRecurrentBackward`, which forms ∂U and ∂c for all steps at once) and dhPrev: [B, H]
/// (overwritten). scratch: [B, H].
func gruStepBackward(dhPrev: UnsafeMutablePointer<Float>, dgx: UnsafeMutablePointer<Float>,
                     dgh: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                     dh: UnsafePointer<Float>, cache: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
                     mask: UnsafePointer<Float>?, stateMask: UnsafePointer<Float>?,
                     weights: GRUWeights, batch: Int, hiddenSize: Int) {
    let hs = hiddenSize, g = 3 * hs
    let one = Lanes(repeating: 1)
    forEachRowChunk(rows: batch) { _, chunk in
        for row in chunk {
            let cacheRow = cache + row * 4 * hs, dhRow = dh + row * hs, hPrevRow = hPrev + row * hs
            let dgxRow = dgx + row * g, dghRow = dgh + row * g, dhPrevRow = dhPrev + row * hs
            let m = Lanes(repeating: mask?[row] ?? 1)
            var k = 0
            while k < hs {
                let w = min(16, hs - k)
                let r = loadLanes(cacheRow + k, w), z = loadLanes(cacheRow + hs + k, w)
                let n = loadLanes(cacheRow + 2 * hs + k, w), ghn = loadLanes(cacheRow + 3 * hs + k, w)
                let previous = loadLanes(hPrevRow + k, w)
                let dhTotal = loadLanes(dhRow + k, w)
                let dCandidate = m * dhTotal
                let dn = dCandidate * (one - z)
                let dz = dCandidate * (previous - n)
                let dnPre = dn * (one - n * n)
                let dr = dnPre * ghn
                let drPre = dr * r * (one - r)
                let dzPre = dz * z * (one - z)
                storeLanes((one - m) * dhTotal + dCandidate * z, dhPrevRow + k, w)
                storeLanes(drPre, dgxRow + k, w)
                storeLanes(dzPre, dgxRow + hs + k, w)
                storeLanes(dnPre, dgxRow + 2 * hs + k, w)
                storeLanes(drPre, dghRow + k, w)
                storeLanes(dzPre, dghRow + hs + k, w)
                storeLanes(dnPre * r, dghRow + 2 * hs + k, w)
                k += 16
            }
        }
    }
    if let stateMask {
        // ∂/∂h_prev through the recurrent product, then through the dropout mask.
        BLAS.gemm(transB: true, m: batch, n: hs, k: g, a: dgh, lda: g, b: weights.U, ldb: g,
                  beta: 0, c: scratch, ldc: hs)
        multiplyInPlace(scratch, by: stateMask, count: batch * hs)
        BLAS.axpy(count: batch * hs, alpha: 1, x: scratch, y: dhPrev)
    } else {
        BLAS.gemm(transB: true, m: batch, n: hs, k: g, a: dgh, lda: g, b: weights.U, ldb: g,
                  beta: 1, c: dhPrev, ldc: hs)
    }
}

/// The recurrent weights' gradients over every step at once (one GEMM with k = T·B instead of
/// T GEMMs with k = B): dU += x̃ᵀ·dgh, dc += Σ dgh. dgh: [N, 3H], recurrentInputs x̃: [N, H].
func gruRecurrentBackward(gradients: GRUGradients, dgh: UnsafePointer<Float>,
                          recurrentInputs: UnsafePointer<Float>, rows: Int, hiddenSize: Int) {
    let hs = hiddenSize, g = 3 * hs
    addColumnSums(gradients.dc, of: dgh, rows: rows, cols: g)
    BLAS.gemm(transA: true, m: hs, n: g, k: rows, a: recurrentInputs, lda: hs, b: dgh, ldb: g,
              beta: 1, c: gradients.dU, ldc: g)
}

/// A whole GRU over a time-major sequence, left to right or right to left, from h = 0.
///
/// gx: [T, B, 3H] (input projections), masks: [T, B] → states: [T, B, H], cache: [T, B, 4H],
/// recurrentInputs: [T, B, H] (each step's h_prev ⊙ d). zero: [B, H] of zeros; gh: [B, 3H] scratch.
func gruSequenceForward(states: UnsafeMutablePointer<Float>, cache: UnsafeMutablePointer<Float>,
                        recurrentInputs: UnsafeMutablePointer<Float>, gh: UnsafeMutablePointer<Float>,
                        gx: UnsafePointer<Float>, masks: UnsafePointer<Float>, zero: UnsafePointer<Float>,
                        stateMask: UnsafePointer<Float>?, weights: GRUWeights, reverse: Bool,
                        steps: Int, batch: Int, hiddenSize: Int) {
    let hs = hiddenSize
    for s in 0..<steps {
        let t = reverse ? steps - 1 - s : s
        let previous = s == 0 ? zero : UnsafePointer(states + (reverse ? t + 1 : t - 1) * batch * hs)
        gruStepForward(h: states + t * batch * hs, cache: cache + t * batch * 4 * hs,
                       recurrentInput: recurrentInputs + t * batch * hs, gh: gh,
                       hPrev: previous, gx: gx + t * batch * 3 * hs, mask: masks + t * batch,
                       stateMask: stateMask, weights: weights, batch: batch, hiddenSize: hs)
    }
}

/// Backward of `gruSequenceForward`, in exact reverse time order.
///
/// dStates: [T, B, H] gradient reaching each output state from outside (consumed: it is used
/// as the running carry); writes dgx: [T, B, 3H]; accumulates dU, dc. dgh: [T, B, 3H],
/// carry and scratch: [B, H] workspace.
func gruSequenceBackward(dgx: UnsafeMutablePointer<Float>, dStates: UnsafeMutablePointer<Float>,
                         carry: UnsafeMutablePointer<Float>, dgh: UnsafeMutablePointer<Float>,
                         scratch: UnsafeMutablePointer<Float>, gradients: GRUGradients,
                         cache: UnsafePointer<Float>, states: UnsafePointer<Float>,
                         recurrentInputs: UnsafePointer<Float>, masks: UnsafePointer<Float>,
                         zero: UnsafePointer<Float>, stateMask: UnsafePointer<Float>?, weights: GRUWeights,
                         reverse: Bool, steps: Int, batch: Int, hiddenSize: Int) {
    let hs = hiddenSize, size = batch * hs
    for s in stride(from: steps - 1, through: 0, by: -1) {
        let t = reverse ? steps - 1 - s : s
        let previousIndex = reverse ? t + 1 : t - 1
        let previous = s == 0 ? zero : states + previousIndex * size
        gruStepBackward(dhPrev: carry, dgx: dgx + t * batch * 3 * hs, dgh: dgh + t * batch * 3 * hs,
                        scratch: scratch, dh: dStates + t * size, cache: cache + t * batch * 4 * hs,
                        hPrev: previous, mask: masks + t * batch, stateMask: stateMask,
                        weights: weights, batch: batch, hiddenSize: hs)
        if s > 0 { BLAS.axpy(count: size, alpha: 1, x: carry, y: dStates + previousIndex * size) }
    }
    gruRecurrentBackward(gradients: gradients, dgh: dgh, recurrentInputs: recurrentInputs, rows: steps * batch,
                         hiddenSize: hs)
}
