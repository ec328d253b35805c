import S2STensor

// Additive (Bahdanau) attention: e_ij = v · tanh(s'_i·Wq + bq + h_j·Uk), α_i = softmax over the
// real source positions, c_i = Σ_j α_ij h_j. The keys h_j·Uk are computed once per batch
// (Marian's mappedContext); per step only the query is a GEMM.

/// The attention's tensors. Wq: [H, A], bq: [A], Uk: [C, A], v: [A].
struct AttentionTensors<Tensor> {
    var Wq, bq, Uk, v: Tensor

    func map<T>(_ transform: (Tensor) throws -> T) rethrows -> AttentionTensors<T> {
        AttentionTensors<T>(Wq: try transform(Wq), bq: try transform(bq), Uk: try transform(Uk), v: try transform(v))
    }

    /// Every tensor, in store order.
    var all: [Tensor] { [Wq, bq, Uk, v] }
}

extension AttentionTensors<TensorDeclaration> {
    /// Attention from a decoder state of `stateSize` over annotations of `contextSize`.
    init(stateSize: Int, contextSize: Int, attentionSize a: Int) {
        self.init(Wq: .matrix("attention.Wq", stateSize, a), bq: .bias("attention.bq", a),
                  Uk: .matrix("attention.Uk", contextSize, a),
                  v: TensorDeclaration("attention.v", [a], .glorotUniform))
    }
}

/// The attention's tensors as the forward pass reads them.
typealias AttentionWeights = AttentionTensors<Weight>
/// The attention's gradients, added into.
typealias AttentionGradients = AttentionTensors<UnsafeMutablePointer<Float>>

/// Keys of every annotation, one GEMM per batch. annotations: [S·B, C] → keys: [S·B, A].
func attentionKeysForward(keys: UnsafeMutablePointer<Float>, annotations: UnsafePointer<Float>,
                          weights: AttentionWeights, rows: Int, contextSize: Int, attentionSize: Int) {
    weights.Uk.product(m: rows, n: attentionSize, k: contextSize, a: annotations, lda: contextSize, ldb: attentionSize,
                       beta: 0, c: keys, ldc: attentionSize)
}

/// Backward of `attentionKeysForward`: dUk += annotationsᵀ·dKeys, dAnnotations += dKeys·Ukᵀ.
func attentionKeysBackward(dAnnotations: UnsafeMutablePointer<Float>, gradients: AttentionGradients,
                           dKeys: UnsafePointer<Float>, annotations: UnsafePointer<Float>,
                           weights: AttentionWeights, rows: Int, contextSize: Int, attentionSize: Int) {
    BLAS.gemm(transA: true, m: contextSize, n: attentionSize, k: rows, a: annotations, lda: contextSize,
              b: dKeys, ldb: attentionSize, beta: 1, c: gradients.Uk, ldc: attentionSize)
    BLAS.gemm(transB: true, m: rows, n: contextSize, k: attentionSize, a: dKeys, lda: attentionSize,
              b: weights.Uk.values, ldb: attentionSize, beta: 1, c: dAnnotations, ldc: contextSize)
}

/// The source sentence each decoder row attends to, and the layout of the encoder's outputs.
///
/// Position j of sentence n is row `start(n) + j · positionStride` of keys and annotations:
/// time-major [S, Bs, ·] in training (start(n) = n, stride Bs), sentence after sentence
/// (start(n) = sentenceStart[n], stride 1) when decoding, where sentences join and leave.
struct AttentionSource {
    /// keys: [P, A] and annotations: [P, C], P source positions laid out as above.
    var keys, annotations: UnsafePointer<Float>
    /// [N] real source lengths.
    var lengths: UnsafePointer<Int32>
    /// [R] source sentence of each decoder row; nil means row r attends to sentence r.
    var sentenceOfRow: UnsafePointer<Int32>?
    /// [N] first position of each sentence; nil means sentence n starts at row n.
    var sentenceStart: UnsafePointer<Int32>?
    /// Rows between consecutive positions of one sentence.
    var positionStride: Int
    /// Width S of an attention-weight row (the longest source).
    var sourceLength: Int

    /// Time-major [S, Bs, ·] outputs of one training batch.
    init(timeMajorKeys keys: UnsafePointer<Float>, annotations: UnsafePointer<Float>, lengths: UnsafePointer<Int32>,
         sourceBatch: Int, sourceLength: Int) {
        self.keys = keys
        self.annotations = annotations
        self.lengths = lengths
        self.positionStride = sourceBatch
        self.sourceLength = sourceLength
    }

    /// Sentence-major outputs (sentence n at rows sentenceStart[n] ..< + lengths[n]), read by
    /// rows of any sentences.
    init(sentenceMajorKeys keys: UnsafePointer<Float>, annotations: UnsafePointer<Float>,
         lengths: UnsafePointer<Int32>, sentenceStart: UnsafePointer<Int32>, sentenceOfRow: UnsafePointer<Int32>,
         sourceLength: Int) {
        self.keys = keys
        self.annotations = annotations
        self.lengths = lengths
        self.sentenceOfRow = sentenceOfRow
        self.sentenceStart = sentenceStart
        self.positionStride = 1
        self.sourceLength = sourceLength
    }
}

/// One attention step for R decoder rows.
///
/// state s': [R, H] → context: [R, C], alpha: [R, S] (0 at padded positions),
/// hiddenTanh: [R, S, A] = tanh(q + k_j), kept for the backward pass (nil when decoding: it is
/// the step's largest write), query: [R, A] scratch.
func attentionStepForward(context: UnsafeMutablePointer<Float>, alpha: UnsafeMutablePointer<Float>,
                          hiddenTanh: UnsafeMutablePointer<Float>?, query: UnsafeMutablePointer<Float>,
                          state: UnsafePointer<Float>, source: AttentionSource, weights: AttentionWeights,
                          rows: Int, hiddenSize: Int, attentionSize: Int, contextSize: Int) {
    let a = attentionSize, c = contextSize, sLen = source.sourceLength, stride = source.positionStride
    broadcastRows(query, bias: weights.bq.values, rows: rows, cols: a)
    weights.Wq.product(m: rows, n: a, k: hiddenSize, a: state, lda: hiddenSize, ldb: a, beta: 1, c: query, ldc: a)
    forEachRowChunk(rows: rows) { _, chunk in
        for row in chunk {
            let sentence = source.sentenceOfRow.map { Int($0[row]) } ?? row
            let length = Int(source.lengths[sentence])
            let start = source.sentenceStart.map { Int($0[sentence]) } ?? sentence
            let queryRow = query + row * a, alphaRow = alpha + row * sLen
            var maxScore = -Float.greatestFiniteMagnitude
            for j in 0..<length {
                let key = source.keys + (start + j * stride) * a
                let hidden = hiddenTanh.map { $0 + (row * sLen + j) * a }
                var score = Lanes(repeating: 0)
                var k = 0
                while k < a {
                    let w = min(16, a - k)
                    let t = Activations.tanh(loadLanes(queryRow + k, w) + loadLanes(key + k, w))
                    if let hidden { storeLanes(t, hidden + k, w) }
                    score += t * loadLanes(weights.v.values + k, w)
                    k += 16
                }
                let e = score.sum()
                alphaRow[j] = e
                maxScore = max(maxScore, e)
            }
            var total: Float = 0
            var j = 0
            while j < length {
                let w = min(16, length - j)
                var p = Activations.exp(loadLanes(alphaRow + j, w) - Lanes(repeating: maxScore))
                if w < 16 { for lane in w..<16 { p[lane] = 0 } }
                storeLanes(p, alphaRow + j, w)
                total += p.sum()
                j += 16
            }
            let inverse = 1 / total
            for j in 0..<length { alphaRow[j] *= inverse }
            for j in length..<sLen { alphaRow[j] = 0 }
            let contextRow = context + row * c
            contextRow.update(repeating: 0, count: c)
            for j in 0..<length {
                let weight = Lanes(repeating: alphaRow[j])
                let annotation = source.annotations + (start + j * stride) * c
                var k = 0
                while k < c {
                    let w = min(16, c - k)
                    storeLanes(loadLanes(contextRow + k, w) + weight * loadLanes(annotation + k, w), contextRow + k, w)
                    k += 16
                }
            }
        }
    }
}

/// Backward of `attentionStepForward` (training: time-major, row r attends to sentence r).
///
/// dContext: [R, C] → dState: [R, H] (+=), dKeys: [S, B, A] (+=), dAnnotations: [S, B, C] (+=),
/// and the attention's gradients (+=). dQuery: [R, A] and dAlpha: [S] scratch.
func attentionStepBackward(dState: UnsafeMutablePointer<Float>, dKeys: UnsafeMutablePointer<Float>,
                           dAnnotations: UnsafeMutablePointer<Float>, dQuery: UnsafeMutablePointer<Float>,
                           dAlpha: UnsafeMutablePointer<Float>, gradients: AttentionGradients,
                           dContext: UnsafePointer<Float>, alpha: UnsafePointer<Float>,
                           hiddenTanh: UnsafePointer<Float>, state: UnsafePointer<Float>,
                           source: AttentionSource, weights: AttentionWeights,
                           rows: Int, hiddenSize: Int, attentionSize: Int, contextSize: Int) {
    let a = attentionSize, c = contextSize, sLen = source.sourceLength, bs = source.positionStride
    precondition(source.sentenceOfRow == nil && source.sentenceStart == nil, "attention backward is time-major")
    let one = Lanes(repeating: 1)
    dQuery.update(repeating: 0, count: rows * a)
    for row in 0..<rows {
        let length = Int(source.lengths[row])
        let alphaRow = alpha + row * sLen, dContextRow = dContext + row * c
        let dQueryRow = dQuery + row * a
        // ∂c/∂α_j = h_j and ∂c/∂h_j = α_j; then through the softmax.
        var weightedSum: Float = 0
        for j in 0..<length {
            let annotation = source.annotations + (j * bs + row) * c
            let dAnnotation = dAnnotations + (j * bs + row) * c
            let weight = Lanes(repeating: alphaRow[j])
            var dot = Lanes(repeating: 0)
            var k = 0
            while k < c {
                let w = min(16, c - k)
                let d = loadLanes(dContextRow + k, w)
                dot += d * loadLanes(annotation + k, w)
                storeLanes(loadLanes(dAnnotation + k, w) + weight * d, dAnnotation + k, w)
                k += 16
            }
            dAlpha[j] = dot.sum()
            weightedSum += alphaRow[j] * dAlpha[j]
        }
        for j in 0..<length {
            let dScore = alphaRow[j] * (dAlpha[j] - weightedSum)
            let hidden = hiddenTanh + (row * sLen + j) * a
            let dKey = dKeys + (j * bs + row) * a
            let ds = Lanes(repeating: dScore)
            var k = 0
            while k < a {
                let w = min(16, a - k)
                let t = loadLanes(hidden + k, w)
                storeLanes(loadLanes(gradients.v + k, w) + ds * t, gradients.v + k, w)
                let dPre = ds * loadLanes(weights.v.values + k, w) * (one - t * t)
                storeLanes(loadLanes(dQueryRow + k, w) + dPre, dQueryRow + k, w)
                storeLanes(loadLanes(dKey + k, w) + dPre, dKey + k, w)
                k += 16
            }
        }
    }
    addColumnSums(gradients.bq, of: dQuery, rows: rows, cols: a)
    BLAS.gemm(transA: true, m: hiddenSize, n: a, k: rows, a: state, lda: hiddenSize, b: dQuery, ldb: a,
              beta: 1, c: gradients.Wq, ldc: a)
    BLAS.gemm(transB: true, m: rows, n: hiddenSize, k: a, a: dQuery, lda: a, b: weights.Wq.values, ldb: a,
              packedB: weights.Wq.packedTransposed, beta: 1, c: dState, ldc: hiddenSize)
}
