import S2STensor

/// The trained network as a `StepDecoder` for greedy and beam search: the same layer functions
/// as training, without dropout, one target token per `step` for every row at once.
///
/// Rows are hypotheses; each remembers its source sentence, so `select` can duplicate, reorder
/// or drop rows while attention keeps reading the right annotations.
public final class Seq2SeqInference: StepDecoder {
    /// The network's hyperparameters.
    public let config: ModelConfig
    /// The parameters decoded with (shared, not copied).
    public let parameters: ParameterStore

    public var targetVocabularySize: Int { config.targetVocabularySize }

    private let work = Workspace()
    private var encoded: EncoderOutputs?
    private var sourceBatch = 0, sourceLength = 0
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

    public init(config: ModelConfig, parameters: ParameterStore) throws {
        try config.validate()
        try Seq2SeqParameters.check(parameters, against: config)
        self.config = config
        self.parameters = parameters
    }

    public func begin(sources: [[Int32]]) throws {
        guard !sources.isEmpty else { throw ModelError.invalidBatch("no source sentences to decode") }
        for (row, sentence) in sources.enumerated() where sentence.isEmpty {
            throw ModelError.invalidBatch("source sentence \(row) is empty")
        }
        let matrix = TokenMatrix(padding: sources)
        try Seq2SeqModel.validate(matrix: matrix, side: "source", vocabularySize: config.sourceVocabularySize)
        sourceBatch = matrix.batchSize
        sourceLength = matrix.maxLength
        work.prepareSource(matrix)
        let outputs = encodeSource(work: work, parameters: parameters, config: config, batch: sourceBatch,
                                   sourceLength: sourceLength, embeddingMask: nil, stateMasks: (nil, nil),
                                   forBackward: false)
        encoded = outputs
        rows = sourceBatch
        sentenceOfRow = (0..<sourceBatch).map(Int32.init)
        let h = config.hiddenSize
        state.reserve(rows * h).update(from: outputs.initialState, count: rows * h)
        alpha.zeroed(rows * sourceLength)
    }

    public func step(previousTokens: [Int32], logProbabilities: UnsafeMutableBufferPointer<Float>) {
        guard let encoded else { preconditionFailure("Seq2SeqInference.step before begin(sources:)") }
        precondition(previousTokens.count == rows, "step: \(previousTokens.count) tokens for \(rows) rows")
        let r = rows, e = config.embeddingSize, h = config.hiddenSize, c = 2 * h, a = config.attentionSize
        let v = config.targetVocabularySize
        precondition(logProbabilities.count >= r * v, "step: log-probability buffer too small")
        let p = parameters
        let gru1 = GRUWeights(p, "decoder.gru1"), gru2 = GRUWeights(p, "decoder.gru2")
        let attentionWeights = AttentionWeights(p), deepWeights = DeepOutputWeights(p)
        let targetEmbedding = UnsafePointer(p.tensor("target.embedding").baseAddress!)
        let output = OutputMatrix(
            matrix: config.tiedEmbeddings ? targetEmbedding : UnsafePointer(p.tensor("output.Wo").baseAddress!),
            tied: config.tiedEmbeddings, bias: UnsafePointer(p.tensor("output.bo").baseAddress!))

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
        sentenceOfRow.withUnsafeBufferPointer { sentences in
            let source = AttentionSource(keys: encoded.keys, annotations: encoded.annotations,
                                         lengths: encoded.sourceLengths, sentenceOfRow: sentences.baseAddress!,
                                         sourceBatch: sourceBatch, sourceLength: sourceLength)
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
        guard let encoded, row >= 0, row < rows else { return [] }
        let length = Int(encoded.sourceLengths[Int(sentenceOfRow[row])])
        return Array(UnsafeBufferPointer(start: alpha.pointer + row * sourceLength, count: length))
    }
}
