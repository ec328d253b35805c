import S2STensor

// The GRU cell in PyTorch's two-bias form (docs/model.md), split as Marian splits it:
// `applyInput` (one GEMM over every time step) and `applyState` (one GEMM per step for the whole
// batch), with a fused SIMD kernel for the gates and the masked carry
// h = m·h' + (1 − m)·h_prev that lets padded positions leave the state untouched.
//
// Per-step cache layout [B, 4H]: r | z | n | gh_n (the recurrent pre-activation of the
// candidate, which the backward pass needs for ∂n/∂r).
//
// With layer normalization (LayerNorm.swift) gx = LN(x·W)·g_W + b and gh = LN(x̃·U)·g_U + c:
// the biases become the normalizations' shifts and each GRU gains two [3H] gain vectors.

/// The tensors of one GRU. W: [In, 3H], b: [3H], U: [H, 3H], c: [3H]; with layer
/// normalization also the gains g_W, g_U: [3H] (nil without).
struct GRUTensors<Tensor> {
    var W, b, U, c: Tensor
    var inputGain, recurrentGain: Tensor?

    func map<T>(_ transform: (Tensor) throws -> T) rethrows -> GRUTensors<T> {
        GRUTensors<T>(W: try transform(W), b: try transform(b), U: try transform(U), c: try transform(c),
                      inputGain: try inputGain.map(transform), recurrentGain: try recurrentGain.map(transform))
    }

    /// Every tensor, in store order.
    var all: [Tensor] { [W, b, U, c] + [inputGain, recurrentGain].compactMap { $0 } }

    /// Whether the GRU layer-normalizes its projections.
    var isNormalized: Bool { inputGain != nil }
}

extension GRUTensors<TensorDeclaration> {
    /// The GRU named `prefix` over inputs of `inputSize`: orthogonal gate blocks in U (early
    /// gradients neither explode nor vanish through time), Glorot W, zero biases, unit gains.
    init(prefix: String, inputSize: Int, hiddenSize h: Int, normalized: Bool) {
        self.init(W: .matrix("\(prefix).W", inputSize, 3 * h), b: .bias("\(prefix).b", 3 * h),
                  U: .matrix("\(prefix).U", h, 3 * h, .orthogonalBlocks(gates: 3)), c: .bias("\(prefix).c", 3 * h),
                  inputGain: normalized ? .gain("\(prefix).W.gain", 3 * h) : nil,
                  recurrentGain: normalized ? .gain("\(prefix).U.gain", 3 * h) : nil)
    }
}

/// A GRU's tensors as the forward pass reads them.
typealias GRUWeights = GRUTensors<Weight>
/// A GRU's gradients, added into.
typealias GRUGradients = GRUTensors<UnsafeMutablePointer<Float>>

/// The layer-normalization statistics of one normalized GRU, rows laid out like gx
/// (time-major [T·B] for a sequence): `input` of x·W, `recurrent` of x̃·U.
struct GRUNormCaches {
    var input, recurrent: LayerNormCache

    /// Buffers for the statistics of `rows` rows.
    init(_ carver: inout BufferCarver, rows: Int, hiddenSize: Int) {
        input = LayerNormCache(normalized: carver.take(rows * 3 * hiddenSize), inverseDeviation: carver.take(rows))
        recurrent = LayerNormCache(normalized: carver.take(rows * 3 * hiddenSize), inverseDeviation: carver.take(rows))
    }

    init(input: LayerNormCache, recurrent: LayerNormCache) {
        self.input = input
        self.recurrent = recurrent
    }

    /// The caches of time step `step` of a [T, B] sequence.
    func step(_ step: Int, batch: Int, hiddenSize: Int) -> GRUNormCaches {
        GRUNormCaches(input: input.fromRow(step * batch, width: 3 * hiddenSize),
                      recurrent: recurrent.fromRow(step * batch, width: 3 * hiddenSize))
    }
}

/// Input projection over all rows at once (Marian's applyInput).
/// x: [rows, In] → gx: [rows, 3H] = x·W + b, or LN(x·W)·g_W + b for a normalized GRU, which
/// keeps its statistics in `norm` (nil when decoding: no backward pass follows).
func gruInputForward(gx: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, weights: GRUWeights,
                     norm: LayerNormCache?, rows: Int, inputSize: Int, hiddenSize: Int) {
    gateProjection(gx, x: x, matrix: weights.W, bias: weights.b.values, gain: weights.inputGain?.values, norm: norm,
                   rows: rows, inputSize: inputSize, hiddenSize: hiddenSize)
}

/// y = x·M + bias, or LN(x·M)·gain + bias when `gain` is given (the shared form of both GRU
/// projections). x: [rows, In], M: [In, 3H] → y: [rows, 3H].
private func gateProjection(_ y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, matrix: Weight,
                            bias: UnsafePointer<Float>, gain: UnsafePointer<Float>?, norm: LayerNormCache?,
                            rows: Int, inputSize: Int, hiddenSize: Int) {
    let g = 3 * hiddenSize
    if let gain {
        matrix.product(m: rows, n: g, k: inputSize, a: x, lda: inputSize, ldb: g, beta: 0, c: y, ldc: g)
        layerNormForward(values: y, gain: gain, shift: bias, cache: norm, rows: rows, width: g)
    } else {
        broadcastRows(y, bias: bias, rows: rows, cols: g)
        matrix.product(m: rows, n: g, k: inputSize, a: x, lda: inputSize, ldb: g, beta: 1, c: y, ldc: g)
    }
}

/// Backward of `gruInputForward`: dW += xᵀ·dgx, db += Σ_rows dgx, dx += dgx·Wᵀ.
/// dgx: [rows, 3H], x: [rows, In], dx: [rows, In] (nil when x is not trainable).
/// For a normalized GRU, dgx is ∂L/∂(x·W): `gruStepBackward` has already taken it back through
/// the normalization and accumulated b's and g_W's gradients.
func gruInputBackward(dx: UnsafeMutablePointer<Float>?, gradients: GRUGradients,
                      dgx: UnsafePointer<Float>, x: UnsafePointer<Float>, weights: GRUWeights,
                      rows: Int, inputSize: Int, hiddenSize: Int) {
    let g = 3 * hiddenSize
    BLAS.gemm(transA: true, m: inputSize, n: g, k: rows, a: x, lda: inputSize,
              b: dgx, ldb: g, beta: 1, c: gradients.W, ldc: g)
    if !weights.isNormalized { addColumnSums(gradients.b, of: dgx, rows: rows, cols: g) }
    if let dx {
        BLAS.gemm(transB: true, m: rows, n: inputSize, k: g, a: dgx, lda: g,
                  b: weights.W.values, ldb: g, beta: 1, c: dx, ldc: inputSize)
    }
}

/// One recurrent step for the whole batch (Marian's applyState).
///
/// gh = x̃·U + c (normalized: LN(x̃·U)·g_U + c, statistics kept in `norm`) with x̃ = h_prev ⊙ d,
/// d the variational state-dropout mask (nil: no dropout);
/// r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r ⊙ gh_n), h' = (1 − z) ⊙ n + z ⊙ h_prev,
/// h = m·h' + (1 − m)·h_prev with m the row's padding mask (nil: every row real).
/// h: [B, H] out, cache: [B, 4H] out, recurrentInput: [B, H] out (x̃, kept so the backward pass
/// forms ∂U for all steps in one GEMM), gh: [B, 3H] scratch,
/// hPrev: [B, H], gx: [B, 3H], mask: [B], stateMask: [B, H].
func gruStepForward(h: UnsafeMutablePointer<Float>, cache: UnsafeMutablePointer<Float>,
                    recurrentInput: UnsafeMutablePointer<Float>, gh: UnsafeMutablePointer<Float>,
                    hPrev: UnsafePointer<Float>, gx: UnsafePointer<Float>,
                    mask: UnsafePointer<Float>?, stateMask: UnsafePointer<Float>?,
                    weights: GRUWeights, norm: LayerNormCache?, batch: Int, hiddenSize: Int) {
    let hs = hiddenSize, g = 3 * hs
    recurrentInput.update(from: hPrev, count: batch * hs)
    if let stateMask { multiplyInPlace(recurrentInput, by: stateMask, count: batch * hs) }
    gateProjection(gh, x: recurrentInput, matrix: weights.U, bias: weights.c.values, gain: weights.recurrentGain?.values,
                   norm: norm, rows: batch, inputSize: hs, hiddenSize: hs)
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
/// dh: [B, H] gradient of the step's output → dhPrev: [B, H] (+=); writes the step's
/// pre-activation gradients dgx: [B, 3H] and dgh: [B, 3H] (∂gh, kept for
/// `gruRecurrentBackward`, which forms ∂U and ∂c for all steps at once). scratch: [B, H].
/// A normalized GRU takes dgx and dgh back through both normalizations here (they become
/// ∂(x·W) and ∂(x̃·U)), adding into b, c, g_W and g_U's gradients; `norm` is the step's
/// statistics.
func gruStepBackward(dhPrev: UnsafeMutablePointer<Float>, dgx: UnsafeMutablePointer<Float>,
                     dgh: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                     dh: UnsafePointer<Float>, cache: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
                     mask: UnsafePointer<Float>?, stateMask: UnsafePointer<Float>?,
                     weights: GRUWeights, gradients: GRUGradients, norm: GRUNormCaches?,
                     batch: Int, hiddenSize: Int) {
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
                storeLanes(loadLanes(dhPrevRow + k, w) + ((one - m) * dhTotal + dCandidate * z), dhPrevRow + k, w)
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
    if let inputGain = weights.inputGain, let recurrentGain = weights.recurrentGain {
        guard let norm, let dInputGain = gradients.inputGain, let dRecurrentGain = gradients.recurrentGain else {
            preconditionFailure("gruStepBackward: a normalized GRU needs its statistics and gain gradients")
        }
        layerNormBackward(gradient: dgx, dGain: dInputGain, dShift: gradients.b, cache: norm.input,
                          gain: inputGain.values, rows: batch, width: g)
        layerNormBackward(gradient: dgh, dGain: dRecurrentGain, dShift: gradients.c, cache: norm.recurrent,
                          gain: recurrentGain.values, rows: batch, width: g)
    }
    if let stateMask {
        // ∂/∂h_prev through the recurrent product, then through the dropout mask.
        BLAS.gemm(transB: true, m: batch, n: hs, k: g, a: dgh, lda: g, b: weights.U.values, ldb: g,
                  packedB: weights.U.packedTransposed, beta: 0, c: scratch, ldc: hs)
        multiplyInPlace(scratch, by: stateMask, count: batch * hs)
        BLAS.axpy(count: batch * hs, alpha: 1, x: scratch, y: dhPrev)
    } else {
        BLAS.gemm(transB: true, m: batch, n: hs, k: g, a: dgh, lda: g, b: weights.U.values, ldb: g,
                  packedB: weights.U.packedTransposed, beta: 1, c: dhPrev, ldc: hs)
    }
}

/// The recurrent weights' gradients over every step at once (one GEMM with k = T·B instead of
/// T GEMMs with k = B): dU += x̃ᵀ·dgh, dc += Σ dgh (a normalized GRU's dc was formed step by
/// step in `gruStepBackward`). dgh: [N, 3H], recurrentInputs x̃: [N, H].
func gruRecurrentBackward(gradients: GRUGradients, dgh: UnsafePointer<Float>,
                          recurrentInputs: UnsafePointer<Float>, weights: GRUWeights, rows: Int, hiddenSize: Int) {
    let hs = hiddenSize, g = 3 * hs
    if !weights.isNormalized { addColumnSums(gradients.c, of: dgh, rows: rows, cols: g) }
    BLAS.gemm(transA: true, m: hs, n: g, k: rows, a: recurrentInputs, lda: hs, b: dgh, ldb: g,
              beta: 1, c: gradients.U, ldc: g)
}

/// A whole GRU over a time-major sequence, left to right or right to left, from h = 0.
///
/// gx: [T, B, 3H] (input projections), masks: [T, B] → states: [T, B, H], cache: [T, B, 4H],
/// recurrentInputs: [T, B, H] (each step's h_prev ⊙ d). zero: [B, H] of zeros; gh: [B, 3H] scratch.
/// norm: a normalized GRU's statistics over all steps (nil when decoding). Without
/// `keepsEveryStep` (decoding) every step writes its cache and recurrent input over the last
/// step's, so both are [B, ·] and nothing is kept for a backward pass.
func gruSequenceForward(states: UnsafeMutablePointer<Float>, cache: UnsafeMutablePointer<Float>,
                        recurrentInputs: UnsafeMutablePointer<Float>, gh: UnsafeMutablePointer<Float>,
                        gx: UnsafePointer<Float>, masks: UnsafePointer<Float>, zero: UnsafePointer<Float>,
                        stateMask: UnsafePointer<Float>?, weights: GRUWeights, norm: GRUNormCaches?,
                        keepsEveryStep: Bool = true, reverse: Bool, steps: Int, batch: Int, hiddenSize: Int) {
    let hs = hiddenSize
    for s in 0..<steps {
        let t = reverse ? steps - 1 - s : s
        let previous = s == 0 ? zero : UnsafePointer(states + (reverse ? t + 1 : t - 1) * batch * hs)
        let slot = keepsEveryStep ? t : 0
        gruStepForward(h: states + t * batch * hs, cache: cache + slot * batch * 4 * hs,
                       recurrentInput: recurrentInputs + slot * batch * hs, gh: gh,
                       hPrev: previous, gx: gx + t * batch * 3 * hs, mask: masks + t * batch,
                       stateMask: stateMask, weights: weights,
                       norm: norm?.step(t, batch: batch, hiddenSize: hs).recurrent, batch: batch, hiddenSize: hs)
    }
}

/// Backward of `gruSequenceForward`, in exact reverse time order.
///
/// dStates: [T, B, H] gradient reaching each output state from outside (consumed: each step's
/// gradient to the state before it is added in); writes dgx, dgh: [T, B, 3H]; adds into the
/// GRU's gradients. carry and scratch: [B, H] workspace.
func gruSequenceBackward(dgx: UnsafeMutablePointer<Float>, dStates: UnsafeMutablePointer<Float>,
                         carry: UnsafeMutablePointer<Float>, dgh: UnsafeMutablePointer<Float>,
                         scratch: UnsafeMutablePointer<Float>, gradients: GRUGradients,
                         cache: UnsafePointer<Float>, states: UnsafePointer<Float>,
                         recurrentInputs: UnsafePointer<Float>, masks: UnsafePointer<Float>,
                         zero: UnsafePointer<Float>, stateMask: UnsafePointer<Float>?, weights: GRUWeights,
                         norm: GRUNormCaches?, reverse: Bool, steps: Int, batch: Int, hiddenSize: Int) {
    let hs = hiddenSize, size = batch * hs
    for s in stride(from: steps - 1, through: 0, by: -1) {
        let t = reverse ? steps - 1 - s : s
        let previousIndex = reverse ? t + 1 : t - 1
        let previous = s == 0 ? zero : states + previousIndex * size
        carry.zero(size)
        gruStepBackward(dhPrev: carry, dgx: dgx + t * batch * 3 * hs, dgh: dgh + t * batch * 3 * hs,
                        scratch: scratch, dh: dStates + t * size, cache: cache + t * batch * 4 * hs,
                        hPrev: previous, mask: masks + t * batch, stateMask: stateMask,
                        weights: weights, gradients: gradients, norm: norm?.step(t, batch: batch, hiddenSize: hs),
                        batch: batch, hiddenSize: hs)
        if s > 0 { BLAS.axpy(count: size, alpha: 1, x: carry, y: dStates + previousIndex * size) }
    }
    gruRecurrentBackward(gradients: gradients, dgh: dgh, recurrentInputs: recurrentInputs, weights: weights,
                         rows: steps * batch, hiddenSize: hs)
}
