import S2SCore
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

/// Which dropout masks a training pass applies: those of update `update` of a run seeded
/// `seed`. Each sentence's masks are drawn from streams of their own, keyed by (seed, update,
/// the sentence's index in the corpus, the mask), so they do not depend on which sentences share
/// its batch, worker or machine: a run is reproducible, resumable, and the same whatever the
/// number of workers.
public struct DropoutDraw: Sendable, Equatable {
    public var seed: UInt64
    public var update: Int

    public init(seed: UInt64, update: Int) {
        self.seed = seed
        self.update = update
    }

    /// The generator of mask `mask` for the sentence at `pair` in the corpus.
    func generator(pair: Int, mask: Int) -> SeededRNG {
        var key = seed &* 0x9E37_79B9_7F4A_7C15
        key = (key ^ UInt64(truncatingIfNeeded: update)) &* 0xBF58_476D_1CE4_E5B9
        key = (key ^ UInt64(truncatingIfNeeded: pair)) &* 0x94D0_49BB_1331_11EB
        return SeededRNG(seed: key ^ UInt64(mask))
    }
}

/// The network of docs/model.md in training: the bi-GRU encoder, the conditional-GRU decoder
/// with additive attention, the deep output and the loss, as a forward pass and a backward
/// pass linked by one `TrainingActivations` record.
///
/// Data flows: source ids → embeddings → encoder → annotations, attention keys, s₀; target ids
/// → embeddings → conditional GRU → deep output → logits → loss. Everything is time-major
/// ([T, B, ·]) so one step's rows are contiguous and each per-step product covers the whole
/// batch. The activations are carved from one arena that grows to the largest batch shape
/// seen; no step of the recurrences allocates.
public final class Seq2SeqModel {
    /// The network's hyperparameters.
    public let config: ModelConfig
    /// Every parameter tensor, named as the layers declare them (`Seq2SeqParameters.layout`).
    public let parameters: ParameterStore
    /// Gradients, same layout as `parameters`; `backward` adds into them.
    public let gradients: ParameterStore

    /// Packed copies of the recurrences' matrices for the per-step products
    /// (`PackedWeights.Use.trainingSteps`), kept current by the trainer; nil: plain products.
    public var stepWeights: PackedWeights?

    let network: Seq2SeqTensors<TensorDeclaration>
    let ids = TimeMajorBatch()
    let arena = BufferArena()
    /// What the last `forward` left for `backward`.
    private var pass: ForwardPass?

    /// A freshly initialized model (`Seq2SeqParameters.initialized`).
    public convenience init(config: ModelConfig, seed: UInt64) throws {
        try self.init(config: config, parameters: try Seq2SeqParameters.initialized(for: config, seed: seed))
    }

    /// A model over existing parameters (a checkpoint's, or another worker's): the store is
    /// shared, not copied; the gradients and activations are this model's own.
    public init(config: ModelConfig, parameters: ParameterStore) throws {
        try config.validate()
        try Seq2SeqParameters.check(parameters, against: config)
        self.config = config
        self.parameters = parameters
        self.gradients = ParameterStore(sameLayoutAs: parameters)
        self.network = Seq2SeqTensors(config: config)
    }

    /// Sets every gradient to zero (backward passes only ever add).
    public func zeroGradients() { gradients.zero() }

    /// Forward and backward over `batch` with `dropout`'s masks (none when nil): returns the
    /// loss and ADDS ∂(mean loss)/∂θ into `gradients`.
    public func forwardBackward(batch: Batch, dropout: DropoutDraw?) throws -> BatchLoss {
        let loss = try forward(batch: batch, dropout: dropout)
        backward(lossScale: 1 / Float(loss.targetTokens))
        return loss
    }

    /// The loss of `batch` without dropout and without touching the gradients.
    public func evaluate(batch: Batch) throws -> BatchLoss {
        try forward(batch: batch, dropout: nil)
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

    // MARK: - Forward

    /// The forward pass over `batch` with `dropout`'s masks (none when nil): returns the loss,
    /// and keeps the activations for `backward`.
    public func forward(batch: Batch, dropout: DropoutDraw?) throws -> BatchLoss {
        try validate(batch: batch)
        let b = batch.source.batchSize, s = batch.source.maxLength, t = batch.target.maxLength, n = t * b
        let e = config.embeddingSize, h = config.hiddenSize, a = config.attentionSize
        ids.prepare(batch: batch)
        let acts = arena.layout {
            TrainingActivations(&$0, config: config, batch: b, sourceLength: s, targetLength: t)
        }
        let masks = drawDropoutMasks(acts, draw: dropout, pairs: batch.pairIndices, sourceLength: s, targetLength: t)
        let w = parameters.weights(network, packed: stepWeights)
        let padding = ids.padding, source = acts.attentionSource(padding, batch: b, sourceLength: s)

        // Source side: embeddings → encoder → attention keys and the decoder's initial state.
        ids.sourceIds.withUnsafeBufferPointer { sourceIds in
            embeddingForward(output: acts.sourceEmbedded, ids: sourceIds.baseAddress!, table: w.sourceEmbedding.values,
                             rows: s * b, embeddingSize: e)
        }
        if let mask = masks.sourceEmbedding { multiplyInPlace(acts.sourceEmbedded, by: mask, count: s * b * e) }
        encoderForward(acts.encoder, x: acts.sourceEmbedded, padding: padding, stateMasks: masks.encoder,
                       weights: w.encoder, keepsEveryStep: true, config: config, batch: b, sourceLength: s)
        attentionKeysForward(keys: acts.keys, annotations: acts.encoder.annotations, weights: w.decoder.attention,
                             rows: s * b, contextSize: 2 * h, attentionSize: a)
        initialStateForward(acts.encoder, padding: padding, weights: w.encoder, config: config, batch: b, sourceLength: s)

        // Target side: embeddings of <s> y₁ … → conditional GRU → deep output → logits → loss.
        ids.decoderInputIds.withUnsafeBufferPointer { inputIds in
            embeddingForward(output: acts.targetEmbedded, ids: inputIds.baseAddress!, table: w.targetEmbedding.values,
                             rows: n, embeddingSize: e)
        }
        if let mask = masks.targetEmbedding { multiplyInPlace(acts.targetEmbedded, by: mask, count: n * e) }
        conditionalGRUForward(acts.decoder, y: acts.targetEmbedded, initialState: acts.encoder.initialState,
                              source: source, stateMasks: masks.decoder, weights: w.decoder, config: config,
                              batch: b, targetLength: t)
        deepOutputForward(t: acts.deep, states: acts.decoder.states2, embeddings: acts.targetEmbedded,
                          contexts: acts.decoder.contexts, weights: w.deepOutput, rows: n, hiddenSize: h,
                          embeddingSize: e, contextSize: 2 * h)
        acts.deepDropped.update(from: acts.deep, count: n * e)
        if let mask = masks.output { multiplyInPlace(acts.deepDropped, by: mask, count: n * e) }
        outputProjectionForward(logits: acts.logits, t: acts.deepDropped, output: w.outputMatrix, rows: n,
                                embeddingSize: e, vocabularySize: config.targetVocabularySize)
        let sums = ids.withTargets { targets, weights in
            crossEntropyForward(logits: acts.logits, expSums: acts.expSums, targets: targets, weights: weights,
                                smoothing: config.labelSmoothing, rows: n, vocabularySize: config.targetVocabularySize)
        }
        pass = ForwardPass(activations: acts, masks: masks, batch: b, sourceLength: s, targetLength: t)
        return BatchLoss(totalLoss: sums.smoothed, negativeLogLikelihood: sums.negativeLogLikelihood,
                         targetTokens: batch.target.tokenCount)
    }

    /// The dropout masks of one pass (nil where dropout is off or `draw` is nil): row r's from
    /// the streams of sentence `pairs[r]`, position after position, so a sentence's masks do
    /// not depend on the batch's padded lengths either.
    private func drawDropoutMasks(_ acts: TrainingActivations, draw: DropoutDraw?, pairs: [Int],
                                  sourceLength s: Int, targetLength t: Int) -> DropoutMasks {
        let e = config.embeddingSize, h = config.hiddenSize, b = pairs.count
        let embedding = draw != nil && config.embeddingDropout > 0, state = draw != nil && config.stateDropout > 0
        let output = draw != nil && config.outputDropout > 0
        if let draw {
            for (row, pair) in pairs.enumerated() {
                func fill(_ mask: UnsafeMutablePointer<Float>, _ index: Int, steps: Int, width: Int, rate: Float) {
                    var rng = draw.generator(pair: pair, mask: index)
                    for step in 0..<steps {
                        fillDropoutMask(mask + (step * b + row) * width, count: width, rate: rate, rng: &rng)
                    }
                }
                if embedding {
                    fill(acts.sourceEmbeddingMask, 0, steps: s, width: e, rate: config.embeddingDropout)
                    fill(acts.targetEmbeddingMask, 1, steps: t, width: e, rate: config.embeddingDropout)
                }
                if state {
                    for (index, mask) in acts.stateMasks.enumerated() {
                        fill(mask, 2 + index, steps: 1, width: h, rate: config.stateDropout)
                    }
                }
                if output { fill(acts.outputMask, 6, steps: t, width: e, rate: config.outputDropout) }
            }
        }
        func use(_ mask: UnsafeMutablePointer<Float>, _ on: Bool) -> UnsafePointer<Float>? { on ? UnsafePointer(mask) : nil }
        return DropoutMasks(sourceEmbedding: use(acts.sourceEmbeddingMask, embedding),
                            targetEmbedding: use(acts.targetEmbeddingMask, embedding),
                            encoder: (use(acts.stateMasks[0], state), use(acts.stateMasks[1], state)),
                            decoder: (use(acts.stateMasks[2], state), use(acts.stateMasks[3], state)),
                            output: use(acts.outputMask, output))
    }

    // MARK: - Backward

    /// The backward pass of the last `forward`, in exact reverse order: ADDS
    /// ∂(lossScale · Σ losses)/∂θ into `target` (this model's `gradients` unless another store
    /// of the parameters' layout is given). lossScale = 1 / target tokens gives the mean loss's
    /// gradient; data-parallel workers use 1 / the whole update's target tokens.
    public func backward(lossScale: Float, into target: ParameterStore? = nil) {
        guard let pass else { preconditionFailure("Seq2SeqModel.backward without a forward pass") }
        self.pass = nil
        precondition(target.map { $0.entries == parameters.entries } ?? true, "backward: gradient layout differs")
        let acts = pass.activations, masks = pass.masks
        let b = pass.batch, s = pass.sourceLength, t = pass.targetLength, n = t * b
        let e = config.embeddingSize, h = config.hiddenSize, a = config.attentionSize
        let w = parameters.weights(network, packed: stepWeights), g = (target ?? gradients).gradients(network)
        let padding = ids.padding, source = acts.attentionSource(padding, batch: b, sourceLength: s)
        acts.zeroBackward()

        // Target side, top down: loss → logits → deep output → conditional GRU → embeddings.
        ids.withTargets { targets, weights in
            crossEntropyBackward(logits: acts.logits, expSums: acts.expSums, targets: targets, weights: weights,
                                 smoothing: config.labelSmoothing, scale: lossScale, rows: n,
                                 vocabularySize: config.targetVocabularySize)
        }
        outputProjectionBackward(dT: acts.dDeep, dMatrix: g.outputMatrix, dBias: g.output.bo, dLogits: acts.logits,
                                 t: acts.deepDropped, output: w.outputMatrix, rows: n, embeddingSize: e,
                                 vocabularySize: config.targetVocabularySize)
        if let mask = masks.output { multiplyInPlace(acts.dDeep, by: mask, count: n * e) }
        deepOutputBackward(dStates: acts.dStates2, dEmbeddings: acts.dTargetEmbedded, dContexts: acts.dContexts,
                           gradients: g.deepOutput, dT: acts.dDeep, t: acts.deep, states: acts.decoder.states2,
                           embeddings: acts.targetEmbedded, contexts: acts.decoder.contexts, weights: w.deepOutput,
                           rows: n, hiddenSize: h, embeddingSize: e, contextSize: 2 * h)
        conditionalGRUBackward(dy: acts.dTargetEmbedded, dKeys: acts.dKeys, dAnnotations: acts.dAnnotations,
                               acts.decoderBackward, dStates2: acts.dStates2, dContexts: acts.dContexts, acts.decoder,
                               y: acts.targetEmbedded, initialState: acts.encoder.initialState, source: source,
                               stateMasks: masks.decoder, weights: w.decoder, gradients: g.decoder, config: config,
                               batch: b, targetLength: t)
        if let mask = masks.targetEmbedding { multiplyInPlace(acts.dTargetEmbedded, by: mask, count: n * e) }
        ids.decoderInputIds.withUnsafeBufferPointer { inputIds in
            embeddingBackward(dTable: g.targetEmbedding, dOutput: acts.dTargetEmbedded, ids: inputIds.baseAddress!,
                              rows: n, embeddingSize: e)
        }

        // Source side: initial state and attention keys → annotations → encoder → embeddings.
        initialStateBackward(dAnnotations: acts.dAnnotations, dInitialState: acts.decoderBackward.carry,
                             acts.encoderBackward, acts.encoder, padding: padding, weights: w.encoder,
                             gradients: g.encoder, config: config, batch: b, sourceLength: s)
        attentionKeysBackward(dAnnotations: acts.dAnnotations, gradients: g.decoder.attention, dKeys: acts.dKeys,
                              annotations: acts.encoder.annotations, weights: w.decoder.attention, rows: s * b,
                              contextSize: 2 * h, attentionSize: a)
        encoderBackward(dx: acts.dSourceEmbedded, acts.encoderBackward, dAnnotations: acts.dAnnotations, acts.encoder,
                        x: acts.sourceEmbedded, padding: padding, stateMasks: masks.encoder, weights: w.encoder,
                        gradients: g.encoder, config: config, batch: b, sourceLength: s)
        if let mask = masks.sourceEmbedding { multiplyInPlace(acts.dSourceEmbedded, by: mask, count: s * b * e) }
        ids.sourceIds.withUnsafeBufferPointer { sourceIds in
            embeddingBackward(dTable: g.sourceEmbedding, dOutput: acts.dSourceEmbedded, ids: sourceIds.baseAddress!,
                              rows: s * b, embeddingSize: e)
        }
    }
}

/// What a forward pass leaves for its backward pass besides the activations' contents.
private struct ForwardPass {
    let activations: TrainingActivations
    let masks: DropoutMasks
    let batch: Int, sourceLength: Int, targetLength: Int
}

/// The dropout masks a pass applied (nil where dropout is off).
struct DropoutMasks {
    /// [S, B, E] and [T, B, E] on the embeddings.
    var sourceEmbedding, targetEmbedding: UnsafePointer<Float>?
    /// [B, H] variational masks of the encoder's two directions and of GRU₁, GRU₂.
    var encoder: (forward: UnsafePointer<Float>?, backward: UnsafePointer<Float>?)
    var decoder: (gru1: UnsafePointer<Float>?, gru2: UnsafePointer<Float>?)
    /// [T, B, E] before the output projection.
    var output: UnsafePointer<Float>?
}

/// Every buffer of one training pass over a [B, S] → [B, T] batch, in the order they are
/// carved: this initializer is the one table of their sizes, for the allocation and for the
/// memory estimate (`Seq2SeqModel.trainingWorkspaceFloats`).
struct TrainingActivations {
    /// Dropout masks: [S, B, E], [T, B, E], [T, B, E], and four [B, H] state masks.
    let sourceEmbeddingMask, targetEmbeddingMask, outputMask: UnsafeMutablePointer<Float>
    let stateMasks: [UnsafeMutablePointer<Float>]
    /// [S, B, E] embedded (dropped-out) source; the encoder's buffers; [S, B, A] attention keys.
    let sourceEmbedded: UnsafeMutablePointer<Float>
    let encoder: EncoderActivations
    let keys: UnsafeMutablePointer<Float>
    /// [T, B, E] embedded decoder inputs; the decoder's buffers.
    let targetEmbedded: UnsafeMutablePointer<Float>
    let decoder: ConditionalGRUActivations
    /// [N, E] deep output before and after dropout, [N, V] logits, [N] their softmax sums (N = T·B).
    let deep, deepDropped, logits, expSums: UnsafeMutablePointer<Float>

    /// Backward: [N, E] ∂deep output, [N, H] ∂sᵢ, [N, E] ∂embedded inputs, [N, C] ∂cᵢ.
    let dDeep, dStates2, dTargetEmbedded, dContexts: UnsafeMutablePointer<Float>
    let decoderBackward: ConditionalGRUBackwardBuffers
    /// [S, B, A] ∂keys, [S, B, C] ∂annotations.
    let dKeys, dAnnotations: UnsafeMutablePointer<Float>
    let encoderBackward: EncoderBackwardBuffers
    /// [S, B, E] ∂embedded source.
    let dSourceEmbedded: UnsafeMutablePointer<Float>
    private let sizes: (sourceRows: Int, targetRows: Int, config: ModelConfig)

    init(_ carver: inout BufferCarver, config: ModelConfig, batch b: Int, sourceLength s: Int, targetLength t: Int) {
        let e = config.embeddingSize, h = config.hiddenSize, c = 2 * h, a = config.attentionSize, n = t * b
        sourceEmbeddingMask = carver.take(s * b * e)
        targetEmbeddingMask = carver.take(n * e)
        outputMask = carver.take(n * e)
        stateMasks = (0..<4).map { _ in carver.take(b * h) }
        sourceEmbedded = carver.take(s * b * e)
        encoder = EncoderActivations(&carver, config: config, batch: b, sourceLength: s, forBackward: true)
        keys = carver.take(s * b * a)
        targetEmbedded = carver.take(n * e)
        decoder = ConditionalGRUActivations(&carver, config: config, batch: b, sourceLength: s, targetLength: t)
        deep = carver.take(n * e)
        deepDropped = carver.take(n * e)
        logits = carver.take(n * config.targetVocabularySize)
        expSums = carver.take(n)
        dDeep = carver.take(n * e)
        dStates2 = carver.take(n * h)
        dTargetEmbedded = carver.take(n * e)
        dContexts = carver.take(n * c)
        decoderBackward = ConditionalGRUBackwardBuffers(&carver, config: config, batch: b, sourceLength: s, targetLength: t)
        dKeys = carver.take(s * b * a)
        dAnnotations = carver.take(s * b * c)
        encoderBackward = EncoderBackwardBuffers(&carver, config: config, batch: b, sourceLength: s)
        dSourceEmbedded = carver.take(s * b * e)
        sizes = (s * b, n, config)
    }

    /// Zeroes every buffer the backward pass adds into (the one zeroing step).
    func zeroBackward() {
        let e = sizes.config.embeddingSize, h = sizes.config.hiddenSize, a = sizes.config.attentionSize
        let n = sizes.targetRows, sourceRows = sizes.sourceRows
        dDeep.zero(n * e)
        dStates2.zero(n * h)
        dTargetEmbedded.zero(n * e)
        dContexts.zero(n * 2 * h)
        dKeys.zero(sourceRows * a)
        dAnnotations.zero(sourceRows * 2 * h)
        dSourceEmbedded.zero(sourceRows * e)
        decoderBackward.zero()
        encoderBackward.zero()
    }

    /// What attention reads in training: the time-major keys and annotations, row r attending
    /// to sentence r.
    func attentionSource(_ padding: SourcePadding, batch b: Int, sourceLength s: Int) -> AttentionSource {
        AttentionSource(timeMajorKeys: keys, annotations: encoder.annotations, lengths: padding.lengths,
                        sourceBatch: b, sourceLength: s)
    }
}

/// A batch's token ids laid out time-major, as the embeddings, the masks and the loss read them.
final class TimeMajorBatch {
    /// [S·B] source ids.
    private(set) var sourceIds: [Int32] = []
    /// [T·B] decoder inputs (<s>, y₁ …), gold outputs (y₁ … </s>) and loss weights (1 real, 0 padding).
    private(set) var decoderInputIds: [Int32] = [], targetIds: [Int32] = [], targetWeights: [Float] = []
    /// [S·B] 1/0 real/padding masks and [B] source lengths, at stable addresses.
    private let sourceMask = FloatBuffer()
    private var sourceLengths = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private var sourceLengthsCapacity = 1

    deinit { sourceLengths.deallocate() }

    /// The source's padding as the encoder and attention read it.
    var padding: SourcePadding {
        SourcePadding(masks: UnsafePointer(sourceMask.pointer), lengths: UnsafePointer(sourceLengths))
    }

    /// Lays out both sides of `batch`.
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

    /// Lays out the source ids, with their masks and lengths.
    func prepareSource(_ source: TokenMatrix) {
        let b = source.batchSize, s = source.maxLength
        sourceIds.removeAll(keepingCapacity: true)
        let mask = sourceMask.reserve(s * b)
        for j in 0..<s {
            for row in 0..<b {
                sourceIds.append(source.ids[row * s + j])
                mask[j * b + row] = j < Int(source.lengths[row]) ? 1 : 0
            }
        }
        if b > sourceLengthsCapacity {
            sourceLengths.deallocate()
            sourceLengths = .allocate(capacity: b)
            sourceLengthsCapacity = b
        }
        for row in 0..<b { sourceLengths[row] = source.lengths[row] }
    }

    /// Calls `body` with the [T·B] gold outputs and loss weights.
    func withTargets<Result>(_ body: (UnsafePointer<Int32>, UnsafePointer<Float>) -> Result) -> Result {
        targetIds.withUnsafeBufferPointer { targets in
            targetWeights.withUnsafeBufferPointer { weights in body(targets.baseAddress!, weights.baseAddress!) }
        }
    }
}

extension Seq2SeqModel {
    /// Floats of the activations of a training step on a [B, S] → [B, T] batch: the size of
    /// `TrainingActivations`' layout, counted by the code that carves it. The B·T·S·A attention
    /// activations dominate for long sentences, the B·T·V logits for short ones.
    public static func trainingWorkspaceFloats(config: ModelConfig, batchSize b: Int, sourceLength s: Int,
                                               targetLength t: Int) -> Int {
        BufferArena.floats { TrainingActivations(&$0, config: config, batch: b, sourceLength: s, targetLength: t) }
    }

    /// Bytes a training run holds for the model: parameters, gradients and two Adam moments
    /// (4 floats per parameter) plus the activations of the batch shape.
    public static func trainingMemoryBytes(config: ModelConfig, batchSize: Int, sourceLength: Int,
                                           targetLength: Int) -> Int {
        let parameterCount = Seq2SeqParameters.count(for: config)
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
