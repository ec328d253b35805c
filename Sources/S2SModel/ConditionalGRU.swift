import S2STensor

// The conditional GRU decoder (Nematus, Marian's `s2s`; docs/model.md). Each step i:
//   s'ᵢ = GRU₁(yᵢ₋₁, sᵢ₋₁)           the previous target word updates the state,
//   cᵢ  = Attention(s'ᵢ, h₁…h_S)      which then asks the annotations for a context,
//   sᵢ  = GRU₂(cᵢ, s'ᵢ)               and the context makes the step's state.
// `conditionalGRUStepForward` is that step for any set of rows: decoding calls it once per
// target token; training calls it for every step of a batch and keeps what its backward reads.

/// The decoder's tensors: GRU₁ (input E), the attention, GRU₂ (input C = 2H).
struct ConditionalGRUTensors<Tensor> {
    var gru1: GRUTensors<Tensor>
    var attention: AttentionTensors<Tensor>
    var gru2: GRUTensors<Tensor>

    func map<T>(_ transform: (Tensor) throws -> T) rethrows -> ConditionalGRUTensors<T> {
        ConditionalGRUTensors<T>(gru1: try gru1.map(transform), attention: try attention.map(transform),
                                 gru2: try gru2.map(transform))
    }

    /// Every tensor, in store order.
    var all: [Tensor] { gru1.all + attention.all + gru2.all }
}

extension ConditionalGRUTensors<TensorDeclaration> {
    init(config: ModelConfig) {
        let e = config.embeddingSize, h = config.hiddenSize, normalized = config.layerNormalization
        self.init(gru1: GRUTensors(prefix: "decoder.gru1", inputSize: e, hiddenSize: h, normalized: normalized),
                  attention: AttentionTensors(stateSize: h, contextSize: 2 * h, attentionSize: config.attentionSize),
                  gru2: GRUTensors(prefix: "decoder.gru2", inputSize: 2 * h, hiddenSize: h, normalized: normalized))
    }
}

typealias ConditionalGRUWeights = ConditionalGRUTensors<Weight>
typealias ConditionalGRUGradients = ConditionalGRUTensors<UnsafeMutablePointer<Float>>

/// Where one decoder step over R rows reads its input and writes its outputs.
struct ConditionalGRUStep {
    /// [R, 3H] GRU₁'s input projection of yᵢ₋₁ (computed before the step).
    var gx1: UnsafePointer<Float>
    /// [R, H] s'ᵢ, [R, 4H] GRU₁'s gate cache, [R, H] its recurrent input.
    var state1, cache1, recurrent1: UnsafeMutablePointer<Float>
    /// [R, C] the context cᵢ and [R, S] the attention weights αᵢ.
    var context, alpha: UnsafeMutablePointer<Float>
    /// [R, S, A] the attention's tanh activations, kept for a backward pass (nil when decoding).
    var hiddenTanh: UnsafeMutablePointer<Float>?
    /// [R, 3H] GRU₂'s input projection of cᵢ; [R, H] sᵢ, [R, 4H] its cache, [R, H] its recurrent input.
    var gx2, state2, cache2, recurrent2: UnsafeMutablePointer<Float>
    /// This step's layer-normalization statistics of GRU₁ and GRU₂ (training a normalized decoder).
    var norm1, norm2: GRUNormCaches?
    /// [R, A] and [R, 3H] scratch.
    var query, gh: UnsafeMutablePointer<Float>
}

/// One conditional-GRU step for R rows: hPrev sᵢ₋₁ [R, H] and step.gx1 → step.state2 sᵢ [R, H]
/// and step.context cᵢ [R, C]. stateMasks: GRU₁'s and GRU₂'s variational dropout masks [R, H]
/// (training), or nil.
func conditionalGRUStepForward(_ step: ConditionalGRUStep, hPrev: UnsafePointer<Float>, source: AttentionSource,
                               stateMasks: (gru1: UnsafePointer<Float>?, gru2: UnsafePointer<Float>?),
                               weights: ConditionalGRUWeights, rows r: Int, config: ModelConfig) {
    let h = config.hiddenSize, c = 2 * h, a = config.attentionSize
    gruStepForward(h: step.state1, cache: step.cache1, recurrentInput: step.recurrent1, gh: step.gh, hPrev: hPrev,
                   gx: step.gx1, mask: nil, stateMask: stateMasks.gru1, weights: weights.gru1,
                   norm: step.norm1?.recurrent, batch: r, hiddenSize: h)
    attentionStepForward(context: step.context, alpha: step.alpha, hiddenTanh: step.hiddenTanh, query: step.query,
                         state: step.state1, source: source, weights: weights.attention, rows: r, hiddenSize: h,
                         attentionSize: a, contextSize: c)
    gruInputForward(gx: step.gx2, x: step.context, weights: weights.gru2, norm: step.norm2?.input, rows: r,
                    inputSize: c, hiddenSize: h)
    gruStepForward(h: step.state2, cache: step.cache2, recurrentInput: step.recurrent2, gh: step.gh,
                   hPrev: step.state1, gx: step.gx2, mask: nil, stateMask: stateMasks.gru2, weights: weights.gru2,
                   norm: step.norm2?.recurrent, batch: r, hiddenSize: h)
}

/// The decoder's buffers for T steps of B rows (training), as its forward pass writes them.
struct ConditionalGRUActivations {
    /// [T, B, 3H] GRU₁'s input projections of every yᵢ₋₁, and GRU₂'s of every cᵢ.
    let gx1, gx2: UnsafeMutablePointer<Float>
    /// [T, B, H] s'ᵢ and sᵢ; [T, B, 4H] their gate caches; [T, B, H] their recurrent inputs.
    let states1, states2, cache1, cache2, recurrent1, recurrent2: UnsafeMutablePointer<Float>
    /// [T, B, C] contexts, [T, B, S] attention weights, [T, B, S, A] the attention's tanh.
    let contexts, alphas, hiddenTanh: UnsafeMutablePointer<Float>
    /// GRU₁'s and GRU₂'s layer-normalization statistics over [T·B] rows (normalized only).
    let norm1, norm2: GRUNormCaches?
    /// [B, A] and [B, 3H] scratch.
    let query, gh: UnsafeMutablePointer<Float>
    private let batch: Int, sourceLength: Int, hiddenSize: Int, attentionSize: Int

    init(_ carver: inout BufferCarver, config: ModelConfig, batch b: Int, sourceLength s: Int, targetLength t: Int) {
        let h = config.hiddenSize, a = config.attentionSize, n = t * b
        gx1 = carver.take(n * 3 * h)
        states1 = carver.take(n * h)
        states2 = carver.take(n * h)
        recurrent1 = carver.take(n * h)
        recurrent2 = carver.take(n * h)
        cache1 = carver.take(n * 4 * h)
        cache2 = carver.take(n * 4 * h)
        contexts = carver.take(n * 2 * h)
        alphas = carver.take(n * s)
        hiddenTanh = carver.take(n * s * a)
        query = carver.take(b * a)
        gx2 = carver.take(n * 3 * h)
        gh = carver.take(b * 3 * h)
        norm1 = config.layerNormalization ? GRUNormCaches(&carver, rows: n, hiddenSize: h) : nil
        norm2 = config.layerNormalization ? GRUNormCaches(&carver, rows: n, hiddenSize: h) : nil
        batch = b
        sourceLength = s
        hiddenSize = h
        attentionSize = a
    }

    /// The slices of step i.
    func step(_ i: Int) -> ConditionalGRUStep {
        let b = batch, h = hiddenSize, rows = i * b
        return ConditionalGRUStep(
            gx1: gx1 + rows * 3 * h, state1: states1 + rows * h, cache1: cache1 + rows * 4 * h,
            recurrent1: recurrent1 + rows * h, context: contexts + rows * 2 * h, alpha: alphas + rows * sourceLength,
            hiddenTanh: hiddenTanh + rows * sourceLength * attentionSize, gx2: gx2 + rows * 3 * h,
            state2: states2 + rows * h, cache2: cache2 + rows * 4 * h, recurrent2: recurrent2 + rows * h,
            norm1: norm1?.step(i, batch: b, hiddenSize: h), norm2: norm2?.step(i, batch: b, hiddenSize: h),
            query: query, gh: gh)
    }

    /// The state before step i: s₀ for the first step, else sᵢ₋₁.
    func previousState(_ i: Int, initialState: UnsafePointer<Float>) -> UnsafePointer<Float> {
        i == 0 ? initialState : UnsafePointer(states2 + (i - 1) * batch * hiddenSize)
    }
}

/// The buffers of the decoder's backward pass.
struct ConditionalGRUBackwardBuffers {
    /// [T, B, 3H] gradients of each GRU's input projections and recurrent pre-activations.
    let dgx1, dgx2, dgh1, dgh2: UnsafeMutablePointer<Float>
    /// [B, H] ∂L/∂s'ᵢ of the current step; [B, H] ∂L/∂sᵢ₋₁ carried to the step before (∂L/∂s₀
    /// after the last); [B, H] scratch.
    let dState1, carry, scratch: UnsafeMutablePointer<Float>
    /// [B, A] and [S] scratch of the attention's backward pass.
    let dQuery, dAlpha: UnsafeMutablePointer<Float>
    private let rowsPerStep: Int

    init(_ carver: inout BufferCarver, config: ModelConfig, batch b: Int, sourceLength s: Int, targetLength t: Int) {
        let h = config.hiddenSize, n = t * b
        dgx1 = carver.take(n * 3 * h)
        dgx2 = carver.take(n * 3 * h)
        carry = carver.take(b * h)
        dState1 = carver.take(b * h)
        dgh1 = carver.take(n * 3 * h)
        dgh2 = carver.take(n * 3 * h)
        dQuery = carver.take(b * config.attentionSize)
        dAlpha = carver.take(s)
        scratch = carver.take(b * h)
        rowsPerStep = b * h
    }

    /// Zeroes what the backward pass adds into before its first step.
    func zero() { carry.zero(rowsPerStep) }
}

/// The decoder over every step of a training batch, teacher-forced:
/// y: [T, B, E] embedded decoder inputs (<s> y₁ …), s₀: [B, H] → states2: [T, B, H], contexts: [T, B, C].
func conditionalGRUForward(_ d: ConditionalGRUActivations, y: UnsafePointer<Float>, initialState: UnsafePointer<Float>,
                           source: AttentionSource, stateMasks: (gru1: UnsafePointer<Float>?, gru2: UnsafePointer<Float>?),
                           weights: ConditionalGRUWeights, config: ModelConfig, batch b: Int, targetLength t: Int) {
    let e = config.embeddingSize, h = config.hiddenSize
    gruInputForward(gx: d.gx1, x: y, weights: weights.gru1, norm: d.norm1?.input, rows: t * b, inputSize: e, hiddenSize: h)
    for i in 0..<t {
        conditionalGRUStepForward(d.step(i), hPrev: d.previousState(i, initialState: initialState), source: source,
                                  stateMasks: stateMasks, weights: weights, rows: b, config: config)
    }
}

/// Backward of `conditionalGRUForward`, in exact reverse order. dStates2 [T, B, H] and
/// dContexts [T, B, C] (the gradients from the deep output; consumed) → dy [T, B, E] (+=),
/// dKeys [S, B, A] (+=), dAnnotations [S, B, C] (+=), g.carry = ∂L/∂s₀, and the decoder's
/// gradients (+=). `g` is zeroed first by the caller (`ConditionalGRUBackwardBuffers.zero`).
func conditionalGRUBackward(dy: UnsafeMutablePointer<Float>, dKeys: UnsafeMutablePointer<Float>,
                            dAnnotations: UnsafeMutablePointer<Float>, _ g: ConditionalGRUBackwardBuffers,
                            dStates2: UnsafeMutablePointer<Float>, dContexts: UnsafeMutablePointer<Float>,
                            _ d: ConditionalGRUActivations, y: UnsafePointer<Float>, initialState: UnsafePointer<Float>,
                            source: AttentionSource, stateMasks: (gru1: UnsafePointer<Float>?, gru2: UnsafePointer<Float>?),
                            weights: ConditionalGRUWeights, gradients: ConditionalGRUGradients, config: ModelConfig,
                            batch b: Int, targetLength t: Int) {
    let e = config.embeddingSize, h = config.hiddenSize, c = 2 * h, n = t * b
    for i in stride(from: t - 1, through: 0, by: -1) {
        conditionalGRUStepBackward(step: i, g, dStates2: dStates2, dContexts: dContexts, dKeys: dKeys,
                                   dAnnotations: dAnnotations, d, initialState: initialState, source: source,
                                   stateMasks: stateMasks, weights: weights, gradients: gradients, config: config, batch: b)
    }
    // Both GRUs' recurrent weights, and GRU₂'s input weights, over all steps at once (GRU₂'s
    // dx went to dContexts step by step).
    gruRecurrentBackward(gradients: gradients.gru2, dgh: g.dgh2, recurrentInputs: d.recurrent2, weights: weights.gru2,
                         rows: n, hiddenSize: h)
    gruInputBackward(dx: nil, gradients: gradients.gru2, dgx: g.dgx2, x: d.contexts, weights: weights.gru2,
                     rows: n, inputSize: c, hiddenSize: h)
    gruRecurrentBackward(gradients: gradients.gru1, dgh: g.dgh1, recurrentInputs: d.recurrent1, weights: weights.gru1,
                         rows: n, hiddenSize: h)
    gruInputBackward(dx: dy, gradients: gradients.gru1, dgx: g.dgx1, x: y, weights: weights.gru1,
                     rows: n, inputSize: e, hiddenSize: h)
}

/// Backward of step i of `conditionalGRUForward`: GRU₂, the attention, then GRU₁. On entry
/// g.carry holds ∂L/∂sᵢ from step i + 1; on exit, ∂L/∂sᵢ₋₁.
private func conditionalGRUStepBackward(step i: Int, _ g: ConditionalGRUBackwardBuffers,
                                        dStates2: UnsafeMutablePointer<Float>, dContexts: UnsafeMutablePointer<Float>,
                                        dKeys: UnsafeMutablePointer<Float>, dAnnotations: UnsafeMutablePointer<Float>,
                                        _ d: ConditionalGRUActivations, initialState: UnsafePointer<Float>,
                                        source: AttentionSource,
                                        stateMasks: (gru1: UnsafePointer<Float>?, gru2: UnsafePointer<Float>?),
                                        weights: ConditionalGRUWeights, gradients: ConditionalGRUGradients,
                                        config: ModelConfig, batch b: Int) {
    let h = config.hiddenSize, c = 2 * h, a = config.attentionSize, rows = i * b
    let step = d.step(i)
    let dState2 = dStates2 + rows * h, dgx2 = g.dgx2 + rows * 3 * h
    BLAS.axpy(count: b * h, alpha: 1, x: g.carry, y: dState2)
    g.dState1.zero(b * h)
    gruStepBackward(dhPrev: g.dState1, dgx: dgx2, dgh: g.dgh2 + rows * 3 * h, scratch: g.scratch, dh: dState2,
                    cache: step.cache2, hPrev: step.state1, mask: nil, stateMask: stateMasks.gru2,
                    weights: weights.gru2, gradients: gradients.gru2, norm: step.norm2, batch: b, hiddenSize: h)
    // cᵢ feeds GRU₂'s input projection as well as the deep output (dgx2 is ∂(cᵢ·W) now).
    BLAS.gemm(transB: true, m: b, n: c, k: 3 * h, a: dgx2, lda: 3 * h, b: weights.gru2.W.values,
              ldb: 3 * h, packedB: weights.gru2.W.packedTransposed, beta: 1, c: dContexts + rows * c, ldc: c)
    attentionStepBackward(dState: g.dState1, dKeys: dKeys, dAnnotations: dAnnotations, dQuery: g.dQuery,
                          dAlpha: g.dAlpha, gradients: gradients.attention, dContext: dContexts + rows * c,
                          alpha: step.alpha, hiddenTanh: step.hiddenTanh!, state: step.state1, source: source,
                          weights: weights.attention, rows: b, hiddenSize: h, attentionSize: a, contextSize: c)
    g.carry.zero(b * h)
    gruStepBackward(dhPrev: g.carry, dgx: g.dgx1 + rows * 3 * h, dgh: g.dgh1 + rows * 3 * h, scratch: g.scratch,
                    dh: g.dState1, cache: step.cache1, hPrev: d.previousState(i, initialState: initialState),
                    mask: nil, stateMask: stateMasks.gru1, weights: weights.gru1, gradients: gradients.gru1,
                    norm: step.norm1, batch: b, hiddenSize: h)
}
