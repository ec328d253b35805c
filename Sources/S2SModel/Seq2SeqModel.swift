import S2STensor

/// The loss of one batch.
public struct BatchLoss: Equatable, Sendable {
    /// Σ over real target tokens of the label-smoothed loss.
    public var totalLoss: Double
    /// Σ over real target tokens of −log p(y): the plain cross-entropy, without label smoothing.
    public var negativeLogLikelihood: Double
    /// Real target tokens in the batch (the divisor of the mean).
    public var targetTokens: Int
    /// totalLoss / targetTokens: the quantity whose gradient `forwardBackward` accumulates.
    public var meanLoss: Float { targetTokens > 0 ? Float(totalLoss / Double(targetTokens)) : 0 }
}

/// The bi-GRU encoder, conditional-GRU decoder with additive attention, and deep output of
/// docs/model.md, with its hand-written backward pass.
///
/// Internally everything is time-major ([T, B, ·]) so one step's rows are contiguous and each
/// per-step GEMM covers the whole batch. Workspaces grow to the largest batch shape seen and are
/// reused; no step of the recurrences allocates.
public final class Seq2SeqModel {
    /// The network's hyperparameters.
    public let config: ModelConfig
    /// Every parameter tensor, named as in the spec (see `Seq2SeqParameters.layout`).
    public let parameters: ParameterStore
    /// Gradients, same layout as `parameters`; `forwardBackward` adds into them.
    public let gradients: ParameterStore
    /// Draws the dropout masks; part of the training state a checkpoint stores.
    public var dropoutRNG: SeededRNG

    let work = Workspace()

    /// A freshly initialized model (`Seq2SeqParameters.initialized`); `seed` also seeds dropout.
    public convenience init(config: ModelConfig, seed: UInt64) throws {
        let parameters = try Seq2SeqParameters.initialized(for: config, seed: seed)
        try self.init(config: config, parameters: parameters, dropoutSeed: seed &+ 1)
    }

    /// A model over existing parameters (e.g. from a checkpoint); the store is used, not copied.
    public init(config: ModelConfig, parameters: ParameterStore, dropoutSeed: UInt64 = 0) throws {
        try config.validate()
        try Seq2SeqParameters.check(parameters, against: config)
        self.config = config
        self.parameters = parameters
        self.gradients = ParameterStore(sameLayoutAs: parameters)
        self.dropoutRNG = SeededRNG(seed: dropoutSeed)
    }

    /// Sets every gradient to zero (backward passes only ever add).
    public func zeroGradients() { gradients.zero() }

    /// Forward and backward over `batch`: returns the loss and ADDS ∂(mean loss)/∂θ into
    /// `gradients`. Dropout is applied when `training` is true.
    public func forwardBackward(batch: Batch, training: Bool = true) throws -> BatchLoss {
        try run(batch: batch, training: training, backward: true)
    }

    /// The loss of `batch` without dropout and without touching the gradients.
    public func evaluate(batch: Batch) throws -> BatchLoss {
        try run(batch: batch, training: false, backward: false)
    }

    /// Throws unless `batch` is well formed for this model's vocabularies.
    public func validate(batch: Batch) throws {
        try Self.validate(matrix: batch.source, side: "source", vocabularySize: config.sourceVocabularySize)
        try Self.validate(matrix: batch.target, side: "target", vocabularySize: config.targetVocabularySize)
        guard batch.source.batchSize == batch.target.batchSize, batch.source.batchSize > 0 else {
            throw ModelError.invalidBatch("source has \(batch.source.batchSize) rows, target \(batch.target.batchSize); need the same positive number")
        }
    }

    static func validate(matrix: TokenMatrix, side: String, vocabularySize: Int) throws {
        guard matrix.batchSize > 0, matrix.maxLength > 0,
              matrix.ids.count == matrix.batchSize * matrix.maxLength, matrix.lengths.count == matrix.batchSize else {
            throw ModelError.invalidBatch("\(side) matrix is empty or its sizes disagree")
        }
        for (row, length) in matrix.lengths.enumerated() where length < 1 || Int(length) > matrix.maxLength {
            throw ModelError.invalidBatch("\(side) row \(row) has length \(length), outside 1...\(matrix.maxLength)")
        }
        for id in matrix.ids where id < 0 || Int(id) >= vocabularySize {
            throw ModelError.tokenOutOfRange(side: side, id: id, vocabularySize: vocabularySize)
        }
    }

    // MARK: - The whole network

    private func run(batch: Batch, training: Bool, backward: Bool) throws -> BatchLoss {
        try validate(batch: batch)
        let b = batch.source.batchSize, s = batch.source.maxLength, t = batch.target.maxLength
        let e = config.embeddingSize, h = config.hiddenSize, c = 2 * h, a = config.attentionSize
        let v = config.targetVocabularySize
        let w = work
        w.prepare(batch: batch)

        let p = parameters
        let encoderForward = GRUWeights(p, "encoder.forward"), encoderBackward = GRUWeights(p, "encoder.backward")
        let gru1 = GRUWeights(p, "decoder.gru1"), gru2 = GRUWeights(p, "decoder.gru2")
        let attention = AttentionWeights(p)
        let deepOutput = DeepOutputWeights(p)
        let initW = UnsafePointer(p.tensor("decoder.init.W").baseAddress!)
        let targetEmbedding = UnsafePointer(p.tensor("target.embedding").baseAddress!)
        let output = OutputMatrix(
            matrix: config.tiedEmbeddings ? targetEmbedding : UnsafePointer(p.tensor("output.Wo").baseAddress!),
            tied: config.tiedEmbeddings, bias: UnsafePointer(p.tensor("output.bo").baseAddress!))

        // Dropout masks (training only): nil means "no dropout here".
        let embeddingDrop = training && config.embeddingDropout > 0
        let stateDrop = training && config.stateDropout > 0
        let outputDrop = training && config.outputDropout > 0
        let sourceEmbeddingMask = w.buffer(.sourceEmbeddingMask, s * b * e)
        let targetEmbeddingMask = w.buffer(.targetEmbeddingMask, t * b * e)
        let outputMask = w.buffer(.outputMask, t * b * e)
        let stateMasks = (0..<4).map { w.buffer(.stateMask($0), b * h) }
        if embeddingDrop {
            fillDropoutMask(sourceEmbeddingMask, count: s * b * e, rate: config.embeddingDropout, rng: &dropoutRNG)
            fillDropoutMask(targetEmbeddingMask, count: t * b * e, rate: config.embeddingDropout, rng: &dropoutRNG)
        }
        if stateDrop {
            for mask in stateMasks { fillDropoutMask(mask, count: b * h, rate: config.stateDropout, rng: &dropoutRNG) }
        }
        if outputDrop { fillDropoutMask(outputMask, count: t * b * e, rate: config.outputDropout, rng: &dropoutRNG) }
        let stateMask: [UnsafePointer<Float>?] = stateMasks.map { stateDrop ? UnsafePointer($0) : nil }

        // Scratch shared by the recurrent steps.
        let zero = w.zeroed(.zero, b * h)
        let gh = w.buffer(.gh, b * 3 * h), dropped = w.buffer(.dropped, b * h)

        // ---- Encoder and the decoder's initial state.
        let encoded = encodeSource(work: w, parameters: p, config: config, batch: b, sourceLength: s,
                                     embeddingMask: embeddingDrop ? UnsafePointer(sourceEmbeddingMask) : nil,
                                     stateMasks: (stateMask[0], stateMask[1]), forBackward: true)
        let xs = encoded.embedded, statesF = encoded.statesForward, statesB = encoded.statesBackward
        let cacheF = encoded.cacheForward, cacheB = encoded.cacheBackward, annotations = encoded.annotations
        let keys = encoded.keys, meanAnnotation = encoded.meanAnnotation, initialState = encoded.initialState
        let sourceMask = encoded.sourceMask, sourceLengths = encoded.sourceLengths

        // ---- Conditional GRU decoder over T steps.
        let ys = w.buffer(.targetEmbedded, t * b * e)
        w.decoderInputIds.withUnsafeBufferPointer { ids in
            embeddingForward(output: ys, ids: ids.baseAddress!, table: targetEmbedding, rows: t * b, embeddingSize: e)
        }
        if embeddingDrop { multiplyInPlace(ys, by: targetEmbeddingMask, count: t * b * e) }
        let gx1 = w.buffer(.gx1, t * b * 3 * h), gx2 = w.buffer(.gx2, t * b * 3 * h)
        let norm1 = config.layerNormalization ? w.gruNormCaches(2, rows: t * b, hiddenSize: h) : nil
        let norm2 = config.layerNormalization ? w.gruNormCaches(3, rows: t * b, hiddenSize: h) : nil
        gruInputForward(gx: gx1, x: ys, weights: gru1, norm: norm1?.input, rows: t * b, inputSize: e, hiddenSize: h)
        let states1 = w.buffer(.states1, t * b * h), states2 = w.buffer(.states2, t * b * h)
        let recurrent1 = w.buffer(.recurrent1, t * b * h), recurrent2 = w.buffer(.recurrent2, t * b * h)
        let cache1 = w.buffer(.cache1, t * b * 4 * h), cache2 = w.buffer(.cache2, t * b * 4 * h)
        let contexts = w.buffer(.contexts, t * b * c), alphas = w.buffer(.alphas, t * b * s)
        let hiddenTanh = w.buffer(.hiddenTanh, t * b * s * a), query = w.buffer(.query, b * a)
        let source = AttentionSource(timeMajorKeys: keys, annotations: annotations, lengths: sourceLengths,
                                     sourceBatch: b, sourceLength: s)
        for i in 0..<t {
            let previous = i == 0 ? UnsafePointer(initialState) : UnsafePointer(states2 + (i - 1) * b * h)
            gruStepForward(h: states1 + i * b * h, cache: cache1 + i * b * 4 * h,
                           recurrentInput: recurrent1 + i * b * h, gh: gh,
                           hPrev: previous, gx: gx1 + i * b * 3 * h, mask: nil, stateMask: stateMask[2],
                           weights: gru1, norm: norm1?.step(i, batch: b, hiddenSize: h).recurrent,
                           batch: b, hiddenSize: h)
            attentionStepForward(context: contexts + i * b * c, alpha: alphas + i * b * s,
                                 hiddenTanh: hiddenTanh + i * b * s * a, query: query,
                                 state: states1 + i * b * h, source: source, weights: attention,
                                 rows: b, hiddenSize: h, attentionSize: a, contextSize: c)
            gruInputForward(gx: gx2 + i * b * 3 * h, x: contexts + i * b * c, weights: gru2,
                            norm: norm2?.step(i, batch: b, hiddenSize: h).input, rows: b,
                            inputSize: c, hiddenSize: h)
            gruStepForward(h: states2 + i * b * h, cache: cache2 + i * b * 4 * h,
                           recurrentInput: recurrent2 + i * b * h, gh: gh,
                           hPrev: states1 + i * b * h, gx: gx2 + i * b * 3 * h, mask: nil,
                           stateMask: stateMask[3], weights: gru2,
                           norm: norm2?.step(i, batch: b, hiddenSize: h).recurrent, batch: b, hiddenSize: h)
        }

        // ---- Deep output, projection and loss over all B·T positions at once.
        let n = t * b
        let deep = w.buffer(.deep, n * e), deepDropped = w.buffer(.deepDropped, n * e)
        deepOutputForward(t: deep, states: states2, embeddings: ys, contexts: contexts, weights: deepOutput,
                          rows: n, hiddenSize: h, embeddingSize: e, contextSize: c)
        deepDropped.update(from: deep, count: n * e)
        if outputDrop { multiplyInPlace(deepDropped, by: outputMask, count: n * e) }
        let logits = w.buffer(.logits, n * v)
        outputProjectionForward(logits: logits, t: deepDropped, output: output, rows: n, embeddingSize: e,
                                vocabularySize: v)
        let tokens = batch.target.tokenCount
        let sums = w.targetIds.withUnsafeBufferPointer { targets in
            w.targetWeights.withUnsafeBufferPointer { weights in
                labelSmoothedCrossEntropy(logits: logits, targets: targets.baseAddress!, weights: weights.baseAddress!,
                                          smoothing: config.labelSmoothing, scale: 1 / Float(tokens),
                                          gradient: backward, rows: n, vocabularySize: v)
            }
        }
        let loss = BatchLoss(totalLoss: sums.smoothed, negativeLogLikelihood: sums.negativeLogLikelihood,
                             targetTokens: tokens)
        guard backward else { return loss }

        // ================= Backward, in exact reverse order =================
        let g = gradients
        let dLogits = logits
        let dDeep = w.buffer(.dDeep, n * e)
        outputProjectionBackward(dT: dDeep,
                                 dMatrix: config.tiedEmbeddings ? g.tensor("target.embedding").baseAddress!
                                                                : g.tensor("output.Wo").baseAddress!,
                                 dBias: g.tensor("output.bo").baseAddress!, dLogits: dLogits, t: deepDropped,
                                 output: output, rows: n, embeddingSize: e, vocabularySize: v)
        if outputDrop { multiplyInPlace(dDeep, by: outputMask, count: n * e) }
        let dStates2 = w.zeroed(.dStates2, n * h), dYs = w.zeroed(.dTargetEmbedded, n * e)
        let dContexts = w.zeroed(.dContexts, n * c)
        deepOutputBackward(dStates: dStates2, dEmbeddings: dYs, dContexts: dContexts,
                           gradients: DeepOutputGradients(g), dT: dDeep, t: deep, states: states2,
                           embeddings: ys, contexts: contexts, weights: deepOutput, rows: n,
                           hiddenSize: h, embeddingSize: e, contextSize: c)

        let gru1Gradients = GRUGradients(g, "decoder.gru1"), gru2Gradients = GRUGradients(g, "decoder.gru2")
        let attentionGradients = AttentionGradients(g)
        let dGX1 = w.buffer(.dGX1, n * 3 * h), dGX2 = w.buffer(.dGX2, n * 3 * h)
        let carry = w.zeroed(.carry, b * h), dStates1 = w.buffer(.dStates1, b * h)
        let dGH1 = w.buffer(.dGH1, n * 3 * h), dGH2 = w.buffer(.dGH2, n * 3 * h), dQuery = w.buffer(.dQuery, b * a), dAlpha = w.buffer(.dAlpha, s)
        let dKeys = w.zeroed(.dKeys, s * b * a), dAnnotations = w.zeroed(.dAnnotations, s * b * c)
        for i in stride(from: t - 1, through: 0, by: -1) {
            let dState2 = dStates2 + i * b * h
            BLAS.axpy(count: b * h, alpha: 1, x: carry, y: dState2)
            gruStepBackward(dhPrev: dStates1, dgx: dGX2 + i * b * 3 * h, dgh: dGH2 + i * b * 3 * h,
                            scratch: dropped, dh: dState2, cache: cache2 + i * b * 4 * h,
                            hPrev: states1 + i * b * h, mask: nil, stateMask: stateMask[3],
                            weights: gru2, gradients: gru2Gradients, norm: norm2?.step(i, batch: b, hiddenSize: h),
                            batch: b, hiddenSize: h)
            // c_i feeds GRU2's input projection as well as the deep output (dGX2 is ∂(c_i·W) now).
            BLAS.gemm(transB: true, m: b, n: c, k: 3 * h, a: dGX2 + i * b * 3 * h, lda: 3 * h, b: gru2.W,
                      ldb: 3 * h, beta: 1, c: dContexts + i * b * c, ldc: c)
            attentionStepBackward(dState: dStates1, dKeys: dKeys, dAnnotations: dAnnotations, dQuery: dQuery,
                                  dAlpha: dAlpha, gradients: attentionGradients,
                                  dContext: dContexts + i * b * c, alpha: alphas + i * b * s,
                                  hiddenTanh: hiddenTanh + i * b * s * a, state: states1 + i * b * h,
                                  source: source, weights: attention, rows: b, hiddenSize: h,
                                  attentionSize: a, contextSize: c)
            let previous = i == 0 ? UnsafePointer(initialState) : UnsafePointer(states2 + (i - 1) * b * h)
            gruStepBackward(dhPrev: carry, dgx: dGX1 + i * b * 3 * h, dgh: dGH1 + i * b * 3 * h,
                            scratch: dropped, dh: dStates1, cache: cache1 + i * b * 4 * h,
                            hPrev: previous, mask: nil, stateMask: stateMask[2], weights: gru1,
                            gradients: gru1Gradients, norm: norm1?.step(i, batch: b, hiddenSize: h),
                            batch: b, hiddenSize: h)
        }
        // Recurrent weights of both GRUs, and GRU2's input weights, over all steps at once (GRU2's
        // dx went to dContexts step by step).
        gruRecurrentBackward(gradients: gru2Gradients, dgh: dGH2, recurrentInputs: recurrent2, weights: gru2,
                             rows: n, hiddenSize: h)
        gruInputBackward(dx: nil, gradients: gru2Gradients, dgx: dGX2, x: contexts, weights: gru2,
                         rows: n, inputSize: c, hiddenSize: h)
        gruRecurrentBackward(gradients: gru1Gradients, dgh: dGH1, recurrentInputs: recurrent1, weights: gru1,
                             rows: n, hiddenSize: h)
        gruInputBackward(dx: dYs, gradients: gru1Gradients, dgx: dGX1, x: ys, weights: gru1,
                         rows: n, inputSize: e, hiddenSize: h)
        if embeddingDrop { multiplyInPlace(dYs, by: targetEmbeddingMask, count: n * e) }
        w.decoderInputIds.withUnsafeBufferPointer { ids in
            embeddingBackward(dTable: g.tensor("target.embedding").baseAddress!, dOutput: dYs,
                              ids: ids.baseAddress!, rows: n, embeddingSize: e)
        }

        // Initial state: carry now holds ∂L/∂s0.
        let one = Lanes(repeating: 1)
        var k = 0
        while k < b * h {
            let width = min(16, b * h - k)
            let y = loadLanes(initialState + k, width)
            storeLanes(loadLanes(carry + k, width) * (one - y * y), carry + k, width)
            k += 16
        }
        addColumnSums(g.tensor("decoder.init.b").baseAddress!, of: carry, rows: b, cols: h)
        BLAS.gemm(transA: true, m: c, n: h, k: b, a: meanAnnotation, lda: c, b: carry, ldb: h, beta: 1,
                  c: g.tensor("decoder.init.W").baseAddress!, ldc: h)
        let dMean = w.buffer(.dMeanAnnotation, b * c)
        BLAS.gemm(transB: true, m: b, n: c, k: h, a: carry, lda: h, b: initW, ldb: h, beta: 0, c: dMean, ldc: c)
        meanAnnotationBackward(dAnnotations: dAnnotations, dMean: dMean, lengths: sourceLengths,
                               batch: b, sourceLength: s, contextSize: c)

        attentionKeysBackward(dAnnotations: dAnnotations, gradients: attentionGradients, dKeys: dKeys,
                              annotations: annotations, weights: attention, rows: s * b, contextSize: c,
                              attentionSize: a)
        let dStatesF = w.buffer(.dStatesForward, s * b * h), dStatesB = w.buffer(.dStatesBackward, s * b * h)
        annotationsBackward(dForward: dStatesF, dBackward: dStatesB, dAnnotations: dAnnotations,
                            masks: sourceMask, rows: s * b, hiddenSize: h)
        let dGXF = w.buffer(.dGXForward, s * b * 3 * h), dGXB = w.buffer(.dGXBackward, s * b * 3 * h)
        let encoderForwardGradients = GRUGradients(g, "encoder.forward")
        let encoderBackwardGradients = GRUGradients(g, "encoder.backward")
        let dghEncoder = w.buffer(.dghEncoder, s * b * 3 * h)
        gruSequenceBackward(dgx: dGXB, dStates: dStatesB, carry: carry, dgh: dghEncoder, scratch: dropped,
                            gradients: encoderBackwardGradients, cache: cacheB, states: statesB,
                            recurrentInputs: encoded.recurrentBackward, masks: sourceMask,
                            zero: zero, stateMask: stateMask[1], weights: encoderBackward,
                            norm: encoded.normBackward, reverse: true, steps: s, batch: b, hiddenSize: h)
        gruSequenceBackward(dgx: dGXF, dStates: dStatesF, carry: carry, dgh: dghEncoder, scratch: dropped,
                            gradients: encoderForwardGradients, cache: cacheF, states: statesF,
                            recurrentInputs: encoded.recurrentForward, masks: sourceMask,
                            zero: zero, stateMask: stateMask[0], weights: encoderForward,
                            norm: encoded.normForward, reverse: false, steps: s, batch: b, hiddenSize: h)
        let dXs = w.zeroed(.dSourceEmbedded, s * b * e)
        gruInputBackward(dx: dXs, gradients: encoderBackwardGradients, dgx: dGXB, x: xs, weights: encoderBackward,
                         rows: s * b, inputSize: e, hiddenSize: h)
        gruInputBackward(dx: dXs, gradients: encoderForwardGradients, dgx: dGXF, x: xs, weights: encoderForward,
                         rows: s * b, inputSize: e, hiddenSize: h)
        if embeddingDrop { multiplyInPlace(dXs, by: sourceEmbeddingMask, count: s * b * e) }
        w.sourceIds.withUnsafeBufferPointer { ids in
            embeddingBackward(dTable: g.tensor("source.embedding").baseAddress!, dOutput: dXs,
                              ids: ids.baseAddress!, rows: s * b, embeddingSize: e)
        }
        return loss
    }
}


/// Where the encoder left its outputs and the values its backward pass needs (all in `work`).
struct EncoderOutputs {
    /// [S, B, E] embedded (and dropped-out) source.
    var embedded: UnsafeMutablePointer<Float>
    /// [S, B, H] states and [S, B, 4H] gate caches of both directions.
    var statesForward, statesBackward, cacheForward, cacheBackward: UnsafeMutablePointer<Float>
    /// [S, B, H] each step's h_prev ⊙ d of both directions (for the batched ∂U).
    var recurrentForward, recurrentBackward: UnsafeMutablePointer<Float>
    /// [S, B, C] annotations, [S, B, A] attention keys, [B, C] mean annotation, [B, H] s0.
    var annotations, keys, meanAnnotation, initialState: UnsafeMutablePointer<Float>
    /// [S·B] real/padding masks and [B] source lengths.
    var sourceMask: UnsafePointer<Float>
    var sourceLengths: UnsafePointer<Int32>
    /// Layer-normalization statistics of both directions ([S·B] rows; nil unless kept).
    var normForward, normBackward: GRUNormCaches?
}

/// The bi-GRU encoder, the attention keys and the decoder's initial state for the source laid
/// out by `work.prepareSource`: ids [S, B] → annotations [S, B, C], keys [S, B, A], s0 [B, H].
/// `forBackward`: keep what a backward pass needs (every step's gate caches, recurrent inputs
/// and layer-norm statistics); decoding keeps only the last step's, in buffers of one step.
/// `packed`: the weights packed for small products (decoding), or nil.
func encodeSource(work w: Workspace, parameters p: ParameterStore, config: ModelConfig, batch b: Int,
                    sourceLength s: Int, embeddingMask: UnsafePointer<Float>?,
                    stateMasks: (UnsafePointer<Float>?, UnsafePointer<Float>?),
                    forBackward: Bool, packed: PackedWeights? = nil) -> EncoderOutputs {
    let e = config.embeddingSize, h = config.hiddenSize, c = 2 * h, a = config.attentionSize
    let encoderForward = GRUWeights(p, "encoder.forward", packed: packed)
    let encoderBackward = GRUWeights(p, "encoder.backward", packed: packed)
    let attention = AttentionWeights(p, packed: packed)
    let initW = UnsafePointer(p.tensor("decoder.init.W").baseAddress!)
    let initB = UnsafePointer(p.tensor("decoder.init.b").baseAddress!)
    let zero = w.zeroed(.zero, b * h)
    let gh = w.buffer(.gh, b * 3 * h)
    let kept = forBackward ? s : 1  // steps whose caches are kept
    let recurrentF = w.buffer(.recurrentForward, kept * b * h), recurrentB = w.buffer(.recurrentBackward, kept * b * h)
        let xs = w.buffer(.sourceEmbedded, s * b * e)
        w.sourceIds.withUnsafeBufferPointer { ids in
            embeddingForward(output: xs, ids: ids.baseAddress!, table: p.tensor("source.embedding").baseAddress!,
                             rows: s * b, embeddingSize: e)
        }
        if let embeddingMask { multiplyInPlace(xs, by: embeddingMask, count: s * b * e) }
        let gxF = w.buffer(.gxForward, s * b * 3 * h), gxB = w.buffer(.gxBackward, s * b * 3 * h)
        let keepNorm = forBackward && config.layerNormalization
        let normF = keepNorm ? w.gruNormCaches(0, rows: s * b, hiddenSize: h) : nil
        let normB = keepNorm ? w.gruNormCaches(1, rows: s * b, hiddenSize: h) : nil
        gruInputForward(gx: gxF, x: xs, weights: encoderForward, norm: normF?.input, rows: s * b, inputSize: e,
                        hiddenSize: h)
        gruInputForward(gx: gxB, x: xs, weights: encoderBackward, norm: normB?.input, rows: s * b, inputSize: e,
                        hiddenSize: h)
        let statesF = w.buffer(.statesForward, s * b * h), statesB = w.buffer(.statesBackward, s * b * h)
        let cacheF = w.buffer(.cacheForward, kept * b * 4 * h), cacheB = w.buffer(.cacheBackward, kept * b * 4 * h)
        let sourceMask = w.sourceMaskPointer
        gruSequenceForward(states: statesF, cache: cacheF, recurrentInputs: recurrentF, gh: gh, gx: gxF, masks: sourceMask,
                           zero: zero, stateMask: stateMasks.0, weights: encoderForward, norm: normF,
                           keepsEveryStep: forBackward, reverse: false, steps: s, batch: b, hiddenSize: h)
        gruSequenceForward(states: statesB, cache: cacheB, recurrentInputs: recurrentB, gh: gh, gx: gxB, masks: sourceMask,
                           zero: zero, stateMask: stateMasks.1, weights: encoderBackward, norm: normB,
                           keepsEveryStep: forBackward, reverse: true, steps: s, batch: b, hiddenSize: h)
        let annotations = w.buffer(.annotations, s * b * c)
        annotationsForward(annotations: annotations, forward: statesF, backward: statesB, masks: sourceMask,
                           rows: s * b, hiddenSize: h)
        let keys = w.buffer(.keys, s * b * a)
        attentionKeysForward(keys: keys, annotations: annotations, weights: attention, rows: s * b,
                             contextSize: c, attentionSize: a)

        // ---- Decoder initial state s0 = tanh(mean_j h_j · W + b): [B, H].
        let meanAnnotation = w.buffer(.meanAnnotation, b * c)
        let initialState = w.buffer(.initialState, b * h)
        let sourceLengths = w.sourceLengthsPointer
        meanAnnotationForward(mean: meanAnnotation, annotations: annotations, lengths: sourceLengths,
                              batch: b, sourceLength: s, contextSize: c)
        broadcastRows(initialState, bias: initB, rows: b, cols: h)
        BLAS.gemm(m: b, n: h, k: c, a: meanAnnotation, lda: c, b: initW, ldb: h, packedB: packed?["decoder.init.W"],
              beta: 1, c: initialState, ldc: h)
        Activations.tanhInPlace(UnsafeMutableBufferPointer(start: initialState, count: b * h))
        return EncoderOutputs(embedded: xs, statesForward: statesF, statesBackward: statesB, cacheForward: cacheF,
                              cacheBackward: cacheB, recurrentForward: recurrentF, recurrentBackward: recurrentB,
                              annotations: annotations, keys: keys,
                              meanAnnotation: meanAnnotation, initialState: initialState,
                              sourceMask: sourceMask, sourceLengths: sourceLengths,
                              normForward: normF, normBackward: normB)
}

// MARK: - Small layers of the encoder and the decoder's start

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

/// Backward of `annotationsForward`: splits dAnnotations [S·B, 2H] into dForward, dBackward
/// [S·B, H] (overwritten; 0 at padded positions).
func annotationsBackward(dForward: UnsafeMutablePointer<Float>, dBackward: UnsafeMutablePointer<Float>,
                         dAnnotations: UnsafePointer<Float>, masks: UnsafePointer<Float>, rows: Int, hiddenSize: Int) {
    let h = hiddenSize
    for r in 0..<rows {
        if masks[r] == 0 {
            (dForward + r * h).update(repeating: 0, count: h)
            (dBackward + r * h).update(repeating: 0, count: h)
        } else {
            (dForward + r * h).update(from: dAnnotations + r * 2 * h, count: h)
            (dBackward + r * h).update(from: dAnnotations + r * 2 * h + h, count: h)
        }
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

// MARK: - Workspace

/// Every buffer of one forward/backward pass, grown to the largest batch shape seen.
final class Workspace {
    enum Name: Hashable {
        case sourceEmbeddingMask, targetEmbeddingMask, outputMask, stateMask(Int)
        case zero, gh, dropped, recurrentForward, recurrentBackward, recurrent1, recurrent2, dGH1, dGH2, dghEncoder
        case sourceEmbedded, gxForward, gxBackward, statesForward, statesBackward, cacheForward, cacheBackward
        case annotations, keys, meanAnnotation, initialState
        case targetEmbedded, gx1, gx2, states1, states2, cache1, cache2, contexts, alphas, hiddenTanh, query
        case deep, deepDropped, logits
        case dDeep, dStates2, dTargetEmbedded, dContexts, dGX1, dGX2, carry, dStates1, dQuery, dAlpha
        case dKeys, dAnnotations, dMeanAnnotation, dStatesForward, dStatesBackward, dGXForward, dGXBackward
        case dSourceEmbedded
        /// Layer-norm statistics of GRU `index` (0, 1 encoder directions; 2, 3 decoder GRU1, GRU2).
        case normalizedInput(Int), inputDeviation(Int), normalizedRecurrent(Int), recurrentDeviation(Int)
    }

    private var buffers: [Name: FloatBuffer] = [:]
    /// [S·B] time-major source ids.
    var sourceIds: [Int32] = []
    /// [S·B] 1/0 real/padding masks, and [B] source lengths, at stable addresses.
    private let sourceMaskBuffer = FloatBuffer()
    private var sourceLengthsStorage = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private var sourceLengthsCapacity = 1
    var sourceMaskPointer: UnsafePointer<Float> { UnsafePointer(sourceMaskBuffer.pointer) }
    var sourceLengthsPointer: UnsafePointer<Int32> { UnsafePointer(sourceLengthsStorage) }

    deinit { sourceLengthsStorage.deallocate() }
    /// [T·B] time-major decoder inputs (<s>, y_1 …), gold outputs (y_1 … </s>), and loss weights.
    var decoderInputIds: [Int32] = [], targetIds: [Int32] = [], targetWeights: [Float] = []

    func buffer(_ name: Name, _ count: Int) -> UnsafeMutablePointer<Float> {
        if let existing = buffers[name] { return existing.reserve(count) }
        let created = FloatBuffer(capacity: count)
        buffers[name] = created
        return created.pointer
    }

    /// Floats held by the named buffers (what `Seq2SeqModel.trainingWorkspaceFloats` predicts;
    /// the small source mask, grown with slack, is left out of both).
    var reservedFloats: Int { buffers.values.reduce(0) { $0 + $1.capacity } }

    /// Buffers for the layer-norm statistics of GRU `index` over `rows` rows.
    func gruNormCaches(_ index: Int, rows: Int, hiddenSize: Int) -> GRUNormCaches {
        GRUNormCaches(
            input: LayerNormCache(normalized: buffer(.normalizedInput(index), rows * 3 * hiddenSize),
                                  inverseDeviation: buffer(.inputDeviation(index), rows)),
            recurrent: LayerNormCache(normalized: buffer(.normalizedRecurrent(index), rows * 3 * hiddenSize),
                                      inverseDeviation: buffer(.recurrentDeviation(index), rows)))
    }

    func zeroed(_ name: Name, _ count: Int) -> UnsafeMutablePointer<Float> {
        let p = buffer(name, count)
        p.update(repeating: 0, count: count)
        return p
    }

    /// Lays the batch's ids out time-major.
    func prepare(batch: Batch) {
        prepareSource(batch.source)
        let b = batch.source.batchSize, t = batch.target.maxLength
        decoderInputIds.removeAll(keepingCapacity: true)
        targetIds.removeAll(keepingCapacity: true)
        targetWeights.removeAll(keepingCapacity: true)
        for i in 0..<t {
            for row in 0..<b {
                decoderInputIds.append(i == 0 ? SpecialTokens.bos : batch.target.ids[row * t + i - 1])
                targetIds.append(batch.target.ids[row * t + i])
                targetWeights.append(i < Int(batch.target.lengths[row]) ? 1 : 0)
            }
        }
    }

    /// Lays the source ids out time-major, with their masks and lengths.
    func prepareSource(_ source: TokenMatrix) {
        let b = source.batchSize, s = source.maxLength
        sourceIds.removeAll(keepingCapacity: true)
        let mask = sourceMaskBuffer.reserve(s * b)
        for j in 0..<s {
            for row in 0..<b {
                sourceIds.append(source.ids[row * s + j])
                mask[j * b + row] = j < Int(source.lengths[row]) ? 1 : 0
            }
        }
        if b > sourceLengthsCapacity {
            sourceLengthsStorage.deallocate()
            sourceLengthsStorage = .allocate(capacity: b)
            sourceLengthsCapacity = b
        }
        for row in 0..<b { sourceLengthsStorage[row] = source.lengths[row] }
    }
}

extension Seq2SeqModel {
    /// Floats of the workspace after a training step on a [B, S] → [B, T] batch: every buffer
    /// of `forwardBackward`, counted from the same shapes (a test holds the two together).
    /// The B·T·S·A attention activations dominate for long sentences, the B·T·V logits for
    /// short ones.
    public static func trainingWorkspaceFloats(config: ModelConfig, batchSize b: Int, sourceLength s: Int,
                                               targetLength t: Int) -> Int {
        let e = config.embeddingSize, h = config.hiddenSize, c = 2 * h, a = config.attentionSize
        let v = config.targetVocabularySize, n = t * b
        var floats = 0
        floats += s * b * e + 2 * n * e + 4 * b * h                       // dropout masks
        floats += b * h + 3 * b * h + b * h                               // zero, gh, dropped
        floats += s * b * (e + 2 * h + 2 * 3 * h + 2 * h + 2 * 4 * h + c + a) + b * c + b * h  // encoder
        floats += n * (e + 2 * 3 * h + 2 * h + 2 * h + 2 * 4 * h + c + s + s * a) + b * a  // decoder
        floats += 2 * n * e + n * v                                       // deep output, logits
        floats += n * e + n * h + n * e + n * c + 2 * 3 * n * h + 2 * b * h + 2 * 3 * n * h + b * a + s  // decoder backward
        floats += s * b * a + s * b * c + b * c + 2 * s * b * h + 3 * 3 * s * b * h + s * b * e  // encoder backward
        if config.layerNormalization {
            // x̂ [rows, 3H] and 1/σ [rows] of both projections, for the 2 encoder and 2 decoder GRUs.
            floats += 2 * 2 * (s * b * (3 * h + 1)) + 2 * 2 * (n * (3 * h + 1))
        }
        return floats
    }

    /// Bytes a training run holds for the model: parameters, gradients and two Adam moments
    /// (4 floats per parameter) plus the workspace of the batch shape.
    public static func trainingMemoryBytes(config: ModelConfig, batchSize: Int, sourceLength: Int,
                                           targetLength: Int) -> Int {
        let parameterCount = Seq2SeqParameters.layout(for: config).reduce(0) { $0 + $1.shape.reduce(1, *) }
        return 4 * (4 * parameterCount + trainingWorkspaceFloats(config: config, batchSize: batchSize,
                                                                 sourceLength: sourceLength, targetLength: targetLength))
    }

    /// Floating-point operations of one training step (forward + backward ≈ 3 × forward) on a
    /// full batch of B sentences, counting the matrix products and the attention's per-position
    /// work, 2 FLOPs per multiply-add. Elementwise gate arithmetic is left out (it is small).
    public static func trainingFLOPs(config: ModelConfig, batchSize b: Int, sourceLength s: Int,
                                     targetLength t: Int) -> Double {
        let e = Double(config.embeddingSize), h = Double(config.hiddenSize), c = 2 * h
        let a = Double(config.attentionSize), v = Double(config.targetVocabularySize)
        let bd = Double(b), sd = Double(s), td = Double(t)
        var forward = 0.0
        forward += 2 * (2 * sd * bd * e * 3 * h)          // encoder input projections, both directions
        forward += 2 * (2 * sd * bd * h * 3 * h)          // encoder recurrences
        forward += 2 * sd * bd * c * a                    // attention keys
        forward += 2 * bd * c * h                         // initial state
        forward += 2 * td * bd * e * 3 * h                // GRU1 input
        forward += 2 * td * bd * h * 3 * h                // GRU1 recurrence
        forward += 2 * td * bd * h * a                    // queries
        forward += 2 * td * bd * sd * a + 2 * td * bd * sd * c  // scores and contexts
        forward += 2 * td * bd * c * 3 * h                // GRU2 input
        forward += 2 * td * bd * h * 3 * h                // GRU2 recurrence
        forward += 2 * td * bd * (h + e + c) * e          // deep output
        forward += 2 * td * bd * e * v                    // output projection
        return 3 * forward
    }
}
