import S2STensor

/// The trained network as a `StepDecoder` for greedy and beam search: the same layer functions
/// as training, without dropout, one target token per `step` for every row at once.
///
/// Rows are hypotheses; each remembers its source sentence, so `select` can duplicate, reorder
/// or drop rows, and `start` can add rows for sentences not begun yet, while attention keeps
/// reading the right annotations. `begin` encodes the sources `encoderBatchSize` at a time
/// (in the order given: callers sort by length, so little of it is padding) and lays each
/// sentence's keys and annotations out on its own, sentence after sentence.
public final class Seq2SeqInference: StepDecoder {
    /// The network's hyperparameters.
    public let config: ModelConfig
    /// The parameters decoded with (shared, not copied).
    public let parameters: ParameterStore
    /// Their matrices packed for small products (shared by every decoder on this model).
    public let packedWeights: PackedWeights
    /// Views of the tensors a step reads, looked up once (the store never moves them).
    private let weights: DecoderStepWeights
    /// Sentences the encoder runs together.
    public var encoderBatchSize = 64

    public var targetVocabularySize: Int { config.targetVocabularySize }

    private let work = Workspace()
    /// Encoder outputs of every source of `begin`, sentence-major: keys [P, A], annotations
    /// [P, C]; sentence n occupies positions sentenceStart[n] ..< sentenceStart[n] + sourceLengths[n].
    private let keys = FloatBuffer(), annotations = FloatBuffer()
    private var sentenceStart: [Int32] = [], sourceLengths: [Int32] = []
    /// [N, H] each source sentence's initial decoder state s_0.
    private let initialStates = FloatBuffer()
    private var sentenceCount = 0, sourceLength = 0
    /// [R] source sentence of each row.
    private var sentenceOfRow: [Int32] = []
    /// [R, H] decoder state s of each row; [R, S] its last attention weights.
    private let state = FloatBuffer(), nextState = FloatBuffer(), alpha = FloatBuffer()
    private let gatherScratch = FloatBuffer()
    // Per-step scratch, sized by the number of rows.
    private let embedded = FloatBuffer(), gx = FloatBuffer(), gh = FloatBuffer(), cache = FloatBuffer()
    private let intermediate = FloatBuffer(), context = FloatBuffer()
    private let query = FloatBuffer(), deep = FloatBuffer(), dropped = FloatBuffer()
    private var rows = 0

    /// A decoder over `parameters` (checked against `config`), with their matrices packed.
    public convenience init(config: ModelConfig, parameters: ParameterStore) throws {
        try config.validate()
        self.init(checked: config, parameters: parameters,
                  packedWeights: try PackedWeights(parameters: parameters, config: config))
    }

    private init(checked config: ModelConfig, parameters: ParameterStore, packedWeights: PackedWeights) {
        self.config = config
        self.parameters = parameters
        self.packedWeights = packedWeights
        weights = DecoderStepWeights(parameters, config: config, packed: packedWeights)
    }

    /// Another decoder on the same network (for another worker): its own state, the same
    /// parameters and packed matrices.
    public func makeSibling() -> Seq2SeqInference {
        Seq2SeqInference(checked: config, parameters: parameters, packedWeights: packedWeights)
    }

    public func begin(sources: [[Int32]]) throws {
        guard !sources.isEmpty else { throw ModelError.invalidBatch("no source sentences to decode") }
        for (row, sentence) in sources.enumerated() where sentence.isEmpty {
            throw ModelError.invalidBatch("source sentence \(row) is empty")
        }
        let chunkSize = max(1, encoderBatchSize)
        let chunks = stride(from: 0, to: sources.count, by: chunkSize).map {
            TokenMatrix(padding: Array(sources[$0..<min(sources.count, $0 + chunkSize)]))
        }
        for chunk in chunks {
            try Seq2SeqModel.validate(matrix: chunk, side: "source", vocabularySize: config.sourceVocabularySize)
        }
        let h = config.hiddenSize, c = 2 * h, a = config.attentionSize
        sentenceCount = sources.count
        sourceLengths = sources.map { Int32($0.count) }
        sourceLength = sources.map(\.count).max()!
        sentenceStart.removeAll(keepingCapacity: true)
        var positions = 0
        for sentence in sources {
            sentenceStart.append(Int32(positions))
            positions += sentence.count
        }
        let allKeys = keys.reserve(positions * a), allAnnotations = annotations.reserve(positions * c)
        let states = initialStates.reserve(sentenceCount * h)
        var first = 0
        for chunk in chunks {
            let b = chunk.batchSize
            work.prepareSource(chunk)
            let outputs = encodeSource(work: work, parameters: parameters, config: config, batch: b,
                                       sourceLength: chunk.maxLength, embeddingMask: nil, stateMasks: (nil, nil),
                                       forBackward: false, packed: packedWeights)
            // Time-major [S, b, ·] → sentence after sentence.
            for i in 0..<b {
                let sentence = first + i, start = Int(sentenceStart[sentence])
                for j in 0..<Int(chunk.lengths[i]) {
                    (allKeys + (start + j) * a).update(from: outputs.keys + (j * b + i) * a, count: a)
                    (allAnnotations + (start + j) * c).update(from: outputs.annotations + (j * b + i) * c, count: c)
                }
                (states + sentence * h).update(from: outputs.initialState + i * h, count: h)
            }
            first += b
        }
        rows = 0
        sentenceOfRow.removeAll(keepingCapacity: true)
        start(sentences: (0..<sentenceCount).map(Int32.init))
    }

    public func start(sentences: [Int32]) {
        let h = config.hiddenSize, s = sourceLength
        let newRows = rows + sentences.count
        let states = state.reserve(newRows * h, keeping: rows * h)
        let weights = alpha.reserve(newRows * s, keeping: rows * s)
        for (offset, sentence) in sentences.enumerated() {
            precondition(sentence >= 0 && Int(sentence) < sentenceCount, "start: sentence \(sentence) outside 0..<\(sentenceCount)")
            (states + (rows + offset) * h).update(from: initialStates.pointer + Int(sentence) * h, count: h)
            (weights + (rows + offset) * s).update(repeating: 0, count: s)
            sentenceOfRow.append(sentence)
        }
        rows = newRows
    }

    public func step(previousTokens: [Int32], logProbabilities: UnsafeMutableBufferPointer<Float>) {
        precondition(sentenceCount > 0, "Seq2SeqInference.step before begin(sources:)")
        precondition(previousTokens.count == rows, "step: \(previousTokens.count) tokens for \(rows) rows")
        let r = rows, e = config.embeddingSize, h = config.hiddenSize, c = 2 * h, a = config.attentionSize
        let v = config.targetVocabularySize
        precondition(logProbabilities.count >= r * v, "step: log-probability buffer too small")
        let gru1 = weights.gru1, gru2 = weights.gru2, attentionWeights = weights.attention
        let deepWeights = weights.deepOutput, output = weights.output, targetEmbedding = weights.targetEmbedding

        let y = embedded.reserve(r * e)
        previousTokens.withUnsafeBufferPointer { ids in
            for (row, id) in ids.enumerated() {
                // Out-of-vocabulary tokens from a caller decode as <unk> rather than read out of bounds.
                let safe = id >= 0 && Int(id) < v ? Int(id) : Int(SpecialTokens.unk)
                (y + row * e).update(from: targetEmbedding + safe * e, count: e)
            }
        }
        let gates = gx.reserve(r * 3 * h), scratch = gh.reserve(r * 3 * h), gateCache = cache.reserve(r * 4 * h)
        let s1 = intermediate.reserve(r * h), unused = dropped.reserve(r * h)
        gruInputForward(gx: gates, x: y, weights: gru1, norm: nil, rows: r, inputSize: e, hiddenSize: h)
        gruStepForward(h: s1, cache: gateCache, recurrentInput: unused, gh: scratch, hPrev: state.pointer, gx: gates,
                       mask: nil, stateMask: nil, weights: gru1, norm: nil, batch: r, hiddenSize: h)
        let contexts = context.reserve(r * c)
        withSource { source in
            attentionStepForward(context: contexts, alpha: alpha.reserve(r * sourceLength),
                                 hiddenTanh: nil, query: query.reserve(r * a),
                                 state: s1, source: source, weights: attentionWeights, rows: r,
                                 hiddenSize: h, attentionSize: a, contextSize: c)
        }
        gruInputForward(gx: gates, x: contexts, weights: gru2, norm: nil, rows: r, inputSize: c, hiddenSize: h)
        let s2 = nextState.reserve(r * h)
        gruStepForward(h: s2, cache: gateCache, recurrentInput: unused, gh: scratch, hPrev: s1, gx: gates,
                       mask: nil, stateMask: nil, weights: gru2, norm: nil, batch: r, hiddenSize: h)
        state.reserve(r * h).update(from: s2, count: r * h)
        let t = deep.reserve(r * e)
        deepOutputForward(t: t, states: s2, embeddings: y, contexts: contexts, weights: deepWeights,
                          rows: r, hiddenSize: h, embeddingSize: e, contextSize: c)
        let out = logProbabilities.baseAddress!
        outputProjectionForward(logits: out, t: t, output: output, rows: r, embeddingSize: e, vocabularySize: v)
        logSoftmaxRows(output: out, logits: out, rows: r, vocabularySize: v)
    }

    public func select(parents: [Int32]) {
        let h = config.hiddenSize, s = sourceLength
        let count = parents.count
        let scratch = gatherScratch.reserve(max(count * max(h, s), 1))
        for (row, parent) in parents.enumerated() {
            precondition(parent >= 0 && Int(parent) < rows, "select: parent \(parent) outside 0..<\(rows)")
            (scratch + row * h).update(from: state.pointer + Int(parent) * h, count: h)
        }
        state.reserve(count * h).update(from: scratch, count: count * h)
        for (row, parent) in parents.enumerated() {
            (scratch + row * s).update(from: alpha.pointer + Int(parent) * s, count: s)
        }
        alpha.reserve(count * s).update(from: scratch, count: count * s)
        sentenceOfRow = parents.map { sentenceOfRow[Int($0)] }
        rows = count
    }

    public func attention(row: Int) -> [Float] {
        guard row >= 0, row < rows else { return [] }
        let length = Int(sourceLengths[Int(sentenceOfRow[row])])
        return Array(UnsafeBufferPointer(start: alpha.pointer + row * sourceLength, count: length))
    }

    /// What attention reads: the sentence-major encoder outputs and each row's sentence.
    private func withSource(_ body: (AttentionSource) -> Void) {
        sentenceOfRow.withUnsafeBufferPointer { sentences in
            sourceLengths.withUnsafeBufferPointer { lengths in
                sentenceStart.withUnsafeBufferPointer { starts in
                    body(AttentionSource(sentenceMajorKeys: keys.pointer, annotations: annotations.pointer,
                                         lengths: lengths.baseAddress!, sentenceStart: starts.baseAddress!,
                                         sentenceOfRow: sentences.baseAddress!, sourceLength: sourceLength))
                }
            }
        }
    }
}

/// The tensors `Seq2SeqInference.step` multiplies by, with their packed copies.
private struct DecoderStepWeights {
    let gru1, gru2: GRUWeights
    let attention: AttentionWeights
    let deepOutput: DeepOutputWeights
    let output: OutputMatrix
    /// [V_tgt, E], looked up for the previous tokens.
    let targetEmbedding: UnsafePointer<Float>

    init(_ store: ParameterStore, config: ModelConfig, packed: PackedWeights) {
        gru1 = GRUWeights(store, "decoder.gru1", packed: packed)
        gru2 = GRUWeights(store, "decoder.gru2", packed: packed)
        attention = AttentionWeights(store, packed: packed)
        deepOutput = DeepOutputWeights(store, packed: packed)
        targetEmbedding = UnsafePointer(store.tensor("target.embedding").baseAddress!)
        output = OutputMatrix(
            matrix: config.tiedEmbeddings ? targetEmbedding : UnsafePointer(store.tensor("output.Wo").baseAddress!),
            tied: config.tiedEmbeddings, bias: UnsafePointer(store.tensor("output.bo").baseAddress!),
            packed: packed["output.Wo"])
    }
}
