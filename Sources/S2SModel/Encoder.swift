import S2STensor

// The encoder (docs/model.md): a bidirectional GRU over the embedded source whose two state
// sequences, side by side, are the annotations h_j = [→h_j ; ←h_j] that attention reads; and
// the decoder's initial state s₀ = tanh(mean_j h_j · W_init + b_init). Training and decoding
// run the same forward functions; decoding keeps no per-step caches.

/// The encoder's tensors: the two directions' GRUs, and the initial state's W_init: [C, H]
/// and b_init: [H].
struct EncoderTensors<Tensor> {
    var forward, backward: GRUTensors<Tensor>
    var initialStateW, initialStateB: Tensor

    func map<T>(_ transform: (Tensor) throws -> T) rethrows -> EncoderTensors<T> {
        EncoderTensors<T>(forward: try forward.map(transform), backward: try backward.map(transform),
                          initialStateW: try transform(initialStateW), initialStateB: try transform(initialStateB))
    }

    /// Every tensor, in store order.
    var all: [Tensor] { forward.all + backward.all + [initialStateW, initialStateB] }
}

extension EncoderTensors<TensorDeclaration> {
    init(config: ModelConfig) {
        let e = config.embeddingSize, h = config.hiddenSize, normalized = config.layerNormalization
        self.init(forward: GRUTensors(prefix: "encoder.forward", inputSize: e, hiddenSize: h, normalized: normalized),
                  backward: GRUTensors(prefix: "encoder.backward", inputSize: e, hiddenSize: h, normalized: normalized),
                  initialStateW: .matrix("decoder.init.W", 2 * h, h), initialStateB: .bias("decoder.init.b", h))
    }
}

typealias EncoderWeights = EncoderTensors<Weight>
typealias EncoderGradients = EncoderTensors<UnsafeMutablePointer<Float>>

/// Which source positions are real: time-major [S·B] masks (1 real, 0 padding) and [B] lengths.
struct SourcePadding {
    var masks: UnsafePointer<Float>
    var lengths: UnsafePointer<Int32>
}

/// The encoder's buffers for a [B, S] source, as its forward pass writes them.
struct EncoderActivations {
    /// [S, B, 3H] input projections of each direction.
    let gxForward, gxBackward: UnsafeMutablePointer<Float>
    /// [S, B, H] states of each direction.
    let statesForward, statesBackward: UnsafeMutablePointer<Float>
    /// [K, B, 4H] gate caches and [K, B, H] recurrent inputs h_prev ⊙ d of each direction: every
    /// step's (K = S) for a backward pass, else the last step's only (K = 1).
    let cacheForward, cacheBackward, recurrentForward, recurrentBackward: UnsafeMutablePointer<Float>
    /// Layer-normalization statistics of each direction over [S·B] rows (training a normalized
    /// encoder only).
    let normForward, normBackward: GRUNormCaches?
    /// [S, B, C] annotations (0 at padding), [B, C] their mean over real positions, [B, H] s₀.
    let annotations, meanAnnotation, initialState: UnsafeMutablePointer<Float>
    /// [B, 3H] scratch of the recurrent products; [B, H] zeros, the state before the first step.
    let gh, zero: UnsafeMutablePointer<Float>

    /// `forBackward`: keep what a backward pass reads (every step's caches and statistics).
    init(_ carver: inout BufferCarver, config: ModelConfig, batch b: Int, sourceLength s: Int, forBackward: Bool) {
        let h = config.hiddenSize, kept = forBackward ? s : 1
        gxForward = carver.take(s * b * 3 * h)
        gxBackward = carver.take(s * b * 3 * h)
        statesForward = carver.take(s * b * h)
        statesBackward = carver.take(s * b * h)
        cacheForward = carver.take(kept * b * 4 * h)
        cacheBackward = carver.take(kept * b * 4 * h)
        recurrentForward = carver.take(kept * b * h)
        recurrentBackward = carver.take(kept * b * h)
        let normalized = forBackward && config.layerNormalization
        normForward = normalized ? GRUNormCaches(&carver, rows: s * b, hiddenSize: h) : nil
        normBackward = normalized ? GRUNormCaches(&carver, rows: s * b, hiddenSize: h) : nil
        annotations = carver.take(s * b * 2 * h)
        meanAnnotation = carver.take(b * 2 * h)
        initialState = carver.take(b * h)
        gh = carver.take(b * 3 * h)
        zero = carver.take(b * h)
    }
}

/// The buffers of the encoder's backward pass for a [B, S] source.
struct EncoderBackwardBuffers {
    /// [S, B, H] gradients reaching each direction's states; [S, B, 3H] of their input
    /// projections and of their recurrent pre-activations.
    let dStatesForward, dStatesBackward, dgxForward, dgxBackward, dgh: UnsafeMutablePointer<Float>
    /// [B, C] gradient of the mean annotation; [B, H] carry between steps and scratch.
    let dMeanAnnotation, carry, scratch: UnsafeMutablePointer<Float>
    private let batch: Int, sourceLength: Int, hiddenSize: Int

    init(_ carver: inout BufferCarver, config: ModelConfig, batch b: Int, sourceLength s: Int) {
        let h = config.hiddenSize
        dStatesForward = carver.take(s * b * h)
        dStatesBackward = carver.take(s * b * h)
        dgxForward = carver.take(s * b * 3 * h)
        dgxBackward = carver.take(s * b * 3 * h)
        dgh = carver.take(s * b * 3 * h)
        dMeanAnnotation = carver.take(b * 2 * h)
        carry = carver.take(b * h)
        scratch = carver.take(b * h)
        batch = b
        sourceLength = s
        hiddenSize = h
    }

    /// Zeroes what the backward pass adds into.
    func zero() {
        dStatesForward.zero(sourceLength * batch * hiddenSize)
        dStatesBackward.zero(sourceLength * batch * hiddenSize)
    }
}

/// The bidirectional GRU over an embedded [B, S] source.
/// x: [S, B, E] → annotations: [S, B, 2H] (in `a`, with both directions' states and caches).
/// stateMasks: each direction's variational dropout mask [B, H], or nil.
func encoderForward(_ a: EncoderActivations, x: UnsafePointer<Float>, padding: SourcePadding,
                    stateMasks: (forward: UnsafePointer<Float>?, backward: UnsafePointer<Float>?),
                    weights: EncoderWeights, keepsEveryStep: Bool, config: ModelConfig, batch b: Int, sourceLength s: Int) {
    let e = config.embeddingSize, h = config.hiddenSize
    a.zero.zero(b * h)
    gruInputForward(gx: a.gxForward, x: x, weights: weights.forward, norm: a.normForward?.input, rows: s * b,
                    inputSize: e, hiddenSize: h)
    gruInputForward(gx: a.gxBackward, x: x, weights: weights.backward, norm: a.normBackward?.input, rows: s * b,
                    inputSize: e, hiddenSize: h)
    gruSequenceForward(states: a.statesForward, cache: a.cacheForward, recurrentInputs: a.recurrentForward, gh: a.gh,
                       gx: a.gxForward, masks: padding.masks, zero: a.zero, stateMask: stateMasks.forward,
                       weights: weights.forward, norm: a.normForward, keepsEveryStep: keepsEveryStep, reverse: false,
                       steps: s, batch: b, hiddenSize: h)
    gruSequenceForward(states: a.statesBackward, cache: a.cacheBackward, recurrentInputs: a.recurrentBackward, gh: a.gh,
                       gx: a.gxBackward, masks: padding.masks, zero: a.zero, stateMask: stateMasks.backward,
                       weights: weights.backward, norm: a.normBackward, keepsEveryStep: keepsEveryStep, reverse: true,
                       steps: s, batch: b, hiddenSize: h)
    annotationsForward(annotations: a.annotations, forward: a.statesForward, backward: a.statesBackward,
                       masks: padding.masks, rows: s * b, hiddenSize: h)
}

/// Backward of `encoderForward`: dAnnotations [S, B, 2H] → dx [S, B, E] (+=), and the two
/// GRUs' gradients (+=). `g` is zeroed first by the caller (`EncoderBackwardBuffers.zero`).
func encoderBackward(dx: UnsafeMutablePointer<Float>, _ g: EncoderBackwardBuffers, dAnnotations: UnsafePointer<Float>,
                     _ a: EncoderActivations, x: UnsafePointer<Float>, padding: SourcePadding,
                     stateMasks: (forward: UnsafePointer<Float>?, backward: UnsafePointer<Float>?),
                     weights: EncoderWeights, gradients: EncoderGradients, config: ModelConfig,
                     batch b: Int, sourceLength s: Int) {
    let e = config.embeddingSize, h = config.hiddenSize
    annotationsBackward(dForward: g.dStatesForward, dBackward: g.dStatesBackward, dAnnotations: dAnnotations,
                        masks: padding.masks, rows: s * b, hiddenSize: h)
    gruSequenceBackward(dgx: g.dgxBackward, dStates: g.dStatesBackward, carry: g.carry, dgh: g.dgh, scratch: g.scratch,
                        gradients: gradients.backward, cache: a.cacheBackward, states: a.statesBackward,
                        recurrentInputs: a.recurrentBackward, masks: padding.masks, zero: a.zero,
                        stateMask: stateMasks.backward, weights: weights.backward, norm: a.normBackward,
                        reverse: true, steps: s, batch: b, hiddenSize: h)
    gruSequenceBackward(dgx: g.dgxForward, dStates: g.dStatesForward, carry: g.carry, dgh: g.dgh, scratch: g.scratch,
                        gradients: gradients.forward, cache: a.cacheForward, states: a.statesForward,
                        recurrentInputs: a.recurrentForward, masks: padding.masks, zero: a.zero,
                        stateMask: stateMasks.forward, weights: weights.forward, norm: a.normForward,
                        reverse: false, steps: s, batch: b, hiddenSize: h)
    gruInputBackward(dx: dx, gradients: gradients.backward, dgx: g.dgxBackward, x: x, weights: weights.backward,
                     rows: s * b, inputSize: e, hiddenSize: h)
    gruInputBackward(dx: dx, gradients: gradients.forward, dgx: g.dgxForward, x: x, weights: weights.forward,
                     rows: s * b, inputSize: e, hiddenSize: h)
}

/// The decoder's initial state from the annotations in `a`:
/// annotations [S, B, C] → mean [B, C] → s₀ = tanh(mean · W_init + b_init): [B, H].
func initialStateForward(_ a: EncoderActivations, padding: SourcePadding, weights: EncoderWeights,
                         config: ModelConfig, batch b: Int, sourceLength s: Int) {
    let h = config.hiddenSize, c = 2 * h
    meanAnnotationForward(mean: a.meanAnnotation, annotations: a.annotations, lengths: padding.lengths,
                          batch: b, sourceLength: s, contextSize: c)
    broadcastRows(a.initialState, bias: weights.initialStateB.values, rows: b, cols: h)
    weights.initialStateW.product(m: b, n: h, k: c, a: a.meanAnnotation, lda: c, ldb: h, beta: 1, c: a.initialState, ldc: h)
    Activations.tanhInPlace(UnsafeMutableBufferPointer(start: a.initialState, count: b * h))
}

/// Backward of `initialStateForward`: dInitialState [B, H] (consumed: overwritten with the
/// gradient before the tanh) → dAnnotations [S, B, C] (+=), and W_init, b_init's gradients (+=).
func initialStateBackward(dAnnotations: UnsafeMutablePointer<Float>, dInitialState: UnsafeMutablePointer<Float>,
                          _ g: EncoderBackwardBuffers, _ a: EncoderActivations, padding: SourcePadding,
                          weights: EncoderWeights, gradients: EncoderGradients, config: ModelConfig,
                          batch b: Int, sourceLength s: Int) {
    let h = config.hiddenSize, c = 2 * h
    let one = Lanes(repeating: 1)
    var k = 0
    while k < b * h {
        let width = min(16, b * h - k)
        let y = loadLanes(a.initialState + k, width)
        storeLanes(loadLanes(dInitialState + k, width) * (one - y * y), dInitialState + k, width)
        k += 16
    }
    addColumnSums(gradients.initialStateB, of: dInitialState, rows: b, cols: h)
    BLAS.gemm(transA: true, m: c, n: h, k: b, a: a.meanAnnotation, lda: c, b: dInitialState, ldb: h, beta: 1,
              c: gradients.initialStateW, ldc: h)
    BLAS.gemm(transB: true, m: b, n: c, k: h, a: dInitialState, lda: h, b: weights.initialStateW.values, ldb: h,
              beta: 0, c: g.dMeanAnnotation, ldc: c)
    meanAnnotationBackward(dAnnotations: dAnnotations, dMean: g.dMeanAnnotation, lengths: padding.lengths,
                           batch: b, sourceLength: s, contextSize: c)
}

// MARK: - The annotations and their mean

/// Annotation h_j = [→h_j ; ←h_j], zero at padded positions.
/// forward, backward: [S·B, H], masks: [S·B] → annotations: [S·B, 2H].
func annotationsForward(annotations: UnsafeMutablePointer<Float>, forward: UnsafePointer<Float>,
                        backward: UnsafePointer<Float>, masks: UnsafePointer<Float>, rows: Int, hiddenSize: Int) {
    let h = hiddenSize
    for r in 0..<rows {
        let out = annotations + r * 2 * h
        if masks[r] == 0 {
            out.update(repeating: 0, count: 2 * h)
        } else {
            out.update(from: forward + r * h, count: h)
            (out + h).update(from: backward + r * h, count: h)
        }
    }
}

/// Backward of `annotationsForward`: dAnnotations [S·B, 2H] → dForward, dBackward [S·B, H]
/// (+=; nothing at padded positions).
func annotationsBackward(dForward: UnsafeMutablePointer<Float>, dBackward: UnsafeMutablePointer<Float>,
                         dAnnotations: UnsafePointer<Float>, masks: UnsafePointer<Float>, rows: Int, hiddenSize: Int) {
    let h = hiddenSize
    for r in 0..<rows where masks[r] != 0 {
        BLAS.axpy(count: h, alpha: 1, x: dAnnotations + r * 2 * h, y: dForward + r * h)
        BLAS.axpy(count: h, alpha: 1, x: dAnnotations + r * 2 * h + h, y: dBackward + r * h)
    }
}

/// Mean of each sentence's real annotations. annotations: [S, B, C] → mean: [B, C].
func meanAnnotationForward(mean: UnsafeMutablePointer<Float>, annotations: UnsafePointer<Float>,
                           lengths: UnsafePointer<Int32>, batch: Int, sourceLength: Int, contextSize: Int) {
    mean.update(repeating: 0, count: batch * contextSize)
    for row in 0..<batch {
        let length = Int(lengths[row])
        for j in 0..<length {
            BLAS.axpy(count: contextSize, alpha: 1 / Float(length),
                      x: annotations + (j * batch + row) * contextSize, y: mean + row * contextSize)
        }
    }
}

/// Backward of `meanAnnotationForward`: dAnnotations[j, b] += dMean[b] / len_b for j < len_b.
func meanAnnotationBackward(dAnnotations: UnsafeMutablePointer<Float>, dMean: UnsafePointer<Float>,
                            lengths: UnsafePointer<Int32>, batch: Int, sourceLength: Int, contextSize: Int) {
    for row in 0..<batch {
        let length = Int(lengths[row])
        for j in 0..<length {
            BLAS.axpy(count: contextSize, alpha: 1 / Float(length), x: dMean + row * contextSize,
                      y: dAnnotations + (j * batch + row) * contextSize)
        }
    }
}
