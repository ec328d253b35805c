import S2SCore
import S2STensor

/// The trained network as greedy and beam search drive it (S2SDecoding's `StepDecoder`): the same layer functions
/// as training, without dropout, one target token per `step` for every row at once.
///
/// Rows are hypotheses; each remembers its source sentence, so `select` can duplicate, reorder
/// or drop rows, and `start` can add rows for sentences not begun yet, while attention keeps
/// reading the right annotations. `begin` encodes the sources `encoderBatchSize` at a time
/// (in the order given: callers sort by length, so little of it is padding) and lays each
/// sentence's keys and annotations out on its own, sentence after sentence.
public final class Seq2SeqInference {
    /// The network's hyperparameters.
    public let config: ModelConfig
    /// The parameters decoded with (shared, not copied).
    public let parameters: ParameterStore
    /// Their matrices packed for small products (shared by every decoder on this model).
    public let packedWeights: PackedWeights
    /// The decoder step's matrices in 8 bits, when decoding with `int8` (shared likewise).
    public let int8Weights: Int8Weights?
    /// Views of the tensors, looked up once (the store never moves them).
    private let weights: Seq2SeqTensors<Weight>
    /// Sentences the encoder runs together.
    public var encoderBatchSize = 64
    /// The lexical shortlist the output layer is restricted to (nil: the whole target
    /// vocabulary), read at `begin`. A step's output columns (`outputColumns`) are the union of
    /// the lists of its rows' sentences and of a few sentences ahead (`coverRowSentences`): it
    /// writes log-probabilities for those ids only, renormalized over them.
    public var shortlist: Shortlist?
    /// The output columns of the last step when restricted (sorted target ids; empty: all).
    public private(set) var outputColumns: [Int32] = []
    /// The shortlist of the current `begin`, its sentences' pieces, whether `outputColumns`
    /// holds each one's list, and the last sentence `start` added after `begin`.
    private var activeShortlist: Shortlist?
    private var shortlistSources: [[Int32]] = [], covered: [Bool] = []
    private var lastStarted = -1
    /// The output columns' weights [E, L] and biases, gathered from the output layer.
    private let columnWeights = FloatBuffer(), columnBiases = FloatBuffer()
    private var columnInt8: Int8Matrix?, columnPacked: PackedMatrix?
    private let scratch: Int8Scratch

    public var targetVocabularySize: Int { config.targetVocabularySize }

    private let ids = TimeMajorBatch()
    private let encoderArena = BufferArena(), stepArena = BufferArena()
    /// Encoder outputs of every source of `begin`, sentence-major: keys [P, A], annotations
    /// [P, C]; sentence n occupies positions sentenceStart[n] ..< sentenceStart[n] + sourceLengths[n].
    private let keys = FloatBuffer(), annotations = FloatBuffer()
    private var sentenceStart: [Int32] = [], sourceLengths: [Int32] = []
    /// [N, H] each source sentence's initial decoder state s₀.
    private let initialStates = FloatBuffer()
    private var sentenceCount = 0, sourceLength = 0
    /// [R] source sentence of each row.
    private var sentenceOfRow: [Int32] = []
    /// [R, H] decoder state s of each row; [R, S] its last attention weights.
    private let state = FloatBuffer(), alpha = FloatBuffer()
    private let gatherScratch = FloatBuffer()
    private var rows = 0

    /// A decoder over `parameters` (checked against `config`), with their matrices packed, and
    /// with `int8` the decoder step's matrices in 8 bits (`Int8Weights`).
    public convenience init(config: ModelConfig, parameters: ParameterStore, int8: Bool = false) throws {
        try config.validate()
        let int8Weights = int8 ? try Int8Weights(parameters: parameters, config: config) : nil
        let quantized = int8 ? Set(Int8Weights.quantized(Seq2SeqTensors(config: config)).map(\.name)
                                   + (config.tiedEmbeddings ? ["target.embedding"] : [])) : []
        self.init(checked: config, parameters: parameters,
                  packedWeights: try PackedWeights(parameters: parameters, config: config, excluding: quantized),
                  int8Weights: int8Weights)
    }

    private init(checked config: ModelConfig, parameters: ParameterStore, packedWeights: PackedWeights,
                 int8Weights: Int8Weights?) {
        self.config = config
        self.parameters = parameters
        self.packedWeights = packedWeights
        self.int8Weights = int8Weights
        let scratch = Int8Scratch()
        self.scratch = scratch
        weights = parameters.weights(Seq2SeqTensors(config: config), packed: packedWeights, int8: int8Weights,
                                     scratch: scratch)
    }

    /// Another decoder on the same network (for another worker): its own state and scratch,
    /// the same parameters and packed and 8-bit matrices.
    public func makeSibling() -> Seq2SeqInference {
        let sibling = Seq2SeqInference(checked: config, parameters: parameters, packedWeights: packedWeights,
                                       int8Weights: int8Weights)
        sibling.shortlist = shortlist
        return sibling
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
            let encoded = encode(chunk)
            // Time-major [S, b, ·] → sentence after sentence.
            for i in 0..<b {
                let sentence = first + i, start = Int(sentenceStart[sentence])
                for j in 0..<Int(chunk.lengths[i]) {
                    (allKeys + (start + j) * a).update(from: encoded.keys + (j * b + i) * a, count: a)
                    (allAnnotations + (start + j) * c).update(from: encoded.encoder.annotations + (j * b + i) * c, count: c)
                }
                (states + sentence * h).update(from: encoded.encoder.initialState + i * h, count: h)
            }
            first += b
        }
        rows = 0
        sentenceOfRow.removeAll(keepingCapacity: true)
        outputColumns = []
        activeShortlist = shortlist
        shortlistSources = shortlist == nil ? [] : sources
        covered = Array(repeating: false, count: shortlist == nil ? 0 : sentenceCount)
        start(sentences: (0..<sentenceCount).map(Int32.init))
        lastStarted = -1  // `begin`'s rows are not starts: greedy search drops all but its first ones
    }

    /// Widens or narrows the shortlisted output columns when a row's sentence is not covered:
    /// to the lists of the rows' sentences and of the `rows` sentences after the last one begun
    /// (the last started, or the last in a row).
    /// Beam search starts all its sentences at `begin`, so it gathers once per batch. Greedy
    /// search begins with every sentence of its stream but decodes `rowLimit` at a time and
    /// starts the rest in index order as rows finish; covering the next ones ahead means a
    /// gather every few dozen steps, not at every refill, and the columns stay those of a
    /// batch, not of the whole stream.
    private func coverRowSentences(_ shortlist: Shortlist) {
        guard sentenceOfRow.contains(where: { !covered[Int($0)] }) else { return }
        var sentences = Set(sentenceOfRow.map(Int.init))
        let ahead = max(lastStarted, sentences.max() ?? -1) + 1
        sentences.formUnion(ahead..<max(ahead, min(sentenceCount, ahead + rows)))
        for index in covered.indices { covered[index] = sentences.contains(index) }
        restrictOutput(to: shortlist.candidates(for: sentences.sorted().map { shortlistSources[$0] }))
    }

    /// Gathers the output layer's columns `candidates` (sorted target ids) into a matrix of
    /// their own [E, L], with their biases (and its 8-bit copy when decoding so).
    private func restrictOutput(to candidates: [Int32]) {
        outputColumns = candidates
        let e = config.embeddingSize, l = candidates.count, v = config.targetVocabularySize
        let output = weights.outputMatrix
        let matrix = columnWeights.reserve(e * l), bias = columnBiases.reserve(l)
        for (index, column) in candidates.enumerated() {
            bias[index] = output.bias[Int(column)]
            for row in 0..<e {
                // W_o is [E, V]; a tied output layer reads the target embedding [V, E] transposed.
                matrix[row * l + index] = output.tied ? output.matrix.values[Int(column) * e + row]
                                                      : output.matrix.values[row * v + Int(column)]
            }
        }
        // The same kinds of copies the whole output layer has, so a shortlist of every id
        // computes exactly what the whole layer does.
        columnInt8 = int8Weights == nil ? nil : Int8Matrix(matrix, k: e, n: l, ldb: l)
        columnPacked = int8Weights == nil ? PackedMatrix(matrix, k: e, n: l, ldb: l) : nil
    }

    /// The encoder, the attention keys and s₀ for one chunk of sources: the training forward
    /// pass's source side, keeping no per-step caches.
    private func encode(_ chunk: TokenMatrix) -> (encoder: EncoderActivations, keys: UnsafeMutablePointer<Float>) {
        let b = chunk.batchSize, s = chunk.maxLength
        let e = config.embeddingSize, h = config.hiddenSize, a = config.attentionSize
        ids.prepareSource(chunk)
        let (encoder, embedded, keys) = encoderArena.layout { carver in
            (EncoderActivations(&carver, config: config, batch: b, sourceLength: s, forBackward: false),
             carver.take(s * b * e), carver.take(s * b * a))
        }
        ids.sourceIds.withUnsafeBufferPointer { sourceIds in
            embeddingForward(output: embedded, ids: sourceIds.baseAddress!, table: weights.sourceEmbedding.values,
                             rows: s * b, embeddingSize: e)
        }
        let padding = ids.padding
        encoderForward(encoder, x: embedded, padding: padding, stateMasks: (nil, nil), weights: weights.encoder,
                       keepsEveryStep: false, config: config, batch: b, sourceLength: s)
        attentionKeysForward(keys: keys, annotations: encoder.annotations, weights: weights.decoder.attention,
                             rows: s * b, contextSize: 2 * h, attentionSize: a)
        initialStateForward(encoder, padding: padding, weights: weights.encoder, config: config, batch: b, sourceLength: s)
        return (encoder, keys)
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
            lastStarted = max(lastStarted, Int(sentence))
        }
        rows = newRows
    }

    public func step(previousTokens: [Int32], logProbabilities: UnsafeMutableBufferPointer<Float>) {
        precondition(sentenceCount > 0, "Seq2SeqInference.step before begin(sources:)")
        precondition(previousTokens.count == rows, "step: \(previousTokens.count) tokens for \(rows) rows")
        let r = rows, e = config.embeddingSize, h = config.hiddenSize, v = config.targetVocabularySize
        precondition(logProbabilities.count >= r * v, "step: log-probability buffer too small")
        let buffers = stepArena.layout { DecodingStepBuffers(&$0, config: config, rows: r) }
        previousTokens.withUnsafeBufferPointer { ids in
            for (row, id) in ids.enumerated() {
                // Out-of-vocabulary tokens from a caller decode as <unk> rather than read out of bounds.
                let safe = id >= 0 && Int(id) < v ? Int(id) : Int(SpecialTokens.unk)
                (buffers.embedded + row * e).update(from: weights.targetEmbedding.values + safe * e, count: e)
            }
        }
        gruInputForward(gx: buffers.gx1, x: buffers.embedded, weights: weights.decoder.gru1, norm: nil, rows: r,
                        inputSize: e, hiddenSize: h)
        // GRU₁ reads sᵢ₋₁ from `state` before GRU₂ writes sᵢ over it.
        let step = buffers.step(state: state.pointer, alpha: alpha.reserve(r * sourceLength))
        withSource { source in
            conditionalGRUStepForward(step, hPrev: state.pointer, source: source, stateMasks: (nil, nil),
                                      weights: weights.decoder, rows: r, config: config)
        }
        deepOutputForward(t: buffers.deep, states: step.state2, embeddings: buffers.embedded, contexts: step.context,
                          weights: weights.deepOutput, rows: r, hiddenSize: h, embeddingSize: e, contextSize: 2 * h)
        let out = logProbabilities.baseAddress!
        if let activeShortlist { coverRowSentences(activeShortlist) }
        if outputColumns.isEmpty {
            outputProjectionForward(logits: out, t: buffers.deep, output: weights.outputMatrix, rows: r, embeddingSize: e,
                                    vocabularySize: v)
            logSoftmaxRows(output: out, logits: out, rows: r, vocabularySize: v)
        } else {
            shortlistedStep(out, deep: buffers.deep, rows: r)
        }
    }

    /// The output layer over the shortlisted columns only: logits and log-softmax over its L
    /// columns, [R, L] (`outputColumns` names their ids).
    private func shortlistedStep(_ out: UnsafeMutablePointer<Float>, deep: UnsafePointer<Float>, rows r: Int) {
        let e = config.embeddingSize, l = outputColumns.count
        let output = OutputMatrix(matrix: Weight(values: columnWeights.pointer, packed: columnPacked, int8: columnInt8,
                                                 int8Scratch: columnInt8 == nil ? nil : scratch),
                                  tied: false, bias: columnBiases.pointer)
        outputProjectionForward(logits: out, t: deep, output: output, rows: r, embeddingSize: e, vocabularySize: l)
        logSoftmaxRows(output: out, logits: out, rows: r, vocabularySize: l)
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

/// The scratch of one decoding step over R rows.
private struct DecodingStepBuffers {
    /// [R, E] embedded previous tokens, [R, E] the deep output.
    let embedded, deep: UnsafeMutablePointer<Float>
    /// The conditional GRU's step buffers but its state and attention weights, which persist.
    let gx1, state1, cache1, recurrent1, context, gx2, cache2, recurrent2, query, gh: UnsafeMutablePointer<Float>

    init(_ carver: inout BufferCarver, config: ModelConfig, rows r: Int) {
        let e = config.embeddingSize, h = config.hiddenSize
        embedded = carver.take(r * e)
        deep = carver.take(r * e)
        gx1 = carver.take(r * 3 * h)
        state1 = carver.take(r * h)
        cache1 = carver.take(r * 4 * h)
        recurrent1 = carver.take(r * h)
        context = carver.take(r * 2 * h)
        gx2 = carver.take(r * 3 * h)
        cache2 = carver.take(r * 4 * h)
        recurrent2 = carver.take(r * h)
        query = carver.take(r * config.attentionSize)
        gh = carver.take(r * 3 * h)
    }

    /// The step writing sᵢ to `state` [R, H] and αᵢ to `alpha` [R, S].
    func step(state: UnsafeMutablePointer<Float>, alpha: UnsafeMutablePointer<Float>) -> ConditionalGRUStep {
        ConditionalGRUStep(gx1: gx1, state1: state1, cache1: cache1, recurrent1: recurrent1, context: context,
                           alpha: alpha, hiddenTanh: nil, gx2: gx2, state2: state, cache2: cache2,
                           recurrent2: recurrent2, norm1: nil, norm2: nil, query: query, gh: gh)
    }
}
