import Foundation
import S2STensor

// The top of the decoder: the deep output t_i = tanh(s_i·Ws + y_{i−1}·Wy + c_i·Wc + b), the
// output projection to logits, and the label-smoothed cross-entropy fused with its gradient.
// Every product here runs over all B·T target positions at once.

/// Deep-output tensors. Ws: [H, E], Wy: [E, E], Wc: [C, E], b: [E].
struct DeepOutputWeights {
    var Ws, Wy, Wc, b: UnsafePointer<Float>
    /// Ws, Wy and Wc packed for small products (decoding), or nil.
    var packedWs, packedWy, packedWc: PackedMatrix?
    init(_ store: ParameterStore, packed: PackedWeights? = nil) {
        packedWs = packed?["output.Ws"]
        packedWy = packed?["output.Wy"]
        packedWc = packed?["output.Wc"]
        Ws = UnsafePointer(store.tensor("output.Ws").baseAddress!)
        Wy = UnsafePointer(store.tensor("output.Wy").baseAddress!)
        Wc = UnsafePointer(store.tensor("output.Wc").baseAddress!)
        b = UnsafePointer(store.tensor("output.b").baseAddress!)
    }
}

/// Gradients of the deep-output tensors, accumulated into.
struct DeepOutputGradients {
    var dWs, dWy, dWc, db: UnsafeMutablePointer<Float>
    init(_ store: ParameterStore) {
        dWs = store.tensor("output.Ws").baseAddress!
        dWy = store.tensor("output.Wy").baseAddress!
        dWc = store.tensor("output.Wc").baseAddress!
        db = store.tensor("output.b").baseAddress!
    }
}

/// states: [N, H], embeddings: [N, E], contexts: [N, C] → t: [N, E].
func deepOutputForward(t: UnsafeMutablePointer<Float>, states: UnsafePointer<Float>,
                       embeddings: UnsafePointer<Float>, contexts: UnsafePointer<Float>,
                       weights: DeepOutputWeights, rows: Int, hiddenSize: Int, embeddingSize: Int,
                       contextSize: Int) {
    let e = embeddingSize
    broadcastRows(t, bias: weights.b, rows: rows, cols: e)
    BLAS.gemm(m: rows, n: e, k: hiddenSize, a: states, lda: hiddenSize, b: weights.Ws, ldb: e, packedB: weights.packedWs,
              beta: 1, c: t, ldc: e)
    BLAS.gemm(m: rows, n: e, k: e, a: embeddings, lda: e, b: weights.Wy, ldb: e, packedB: weights.packedWy,
              beta: 1, c: t, ldc: e)
    BLAS.gemm(m: rows, n: e, k: contextSize, a: contexts, lda: contextSize, b: weights.Wc, ldb: e, packedB: weights.packedWc,
              beta: 1, c: t, ldc: e)
    Activations.tanhInPlace(UnsafeMutableBufferPointer(start: t, count: rows * e))
}

/// Backward of `deepOutputForward`. dT: [N, E] (overwritten with the pre-activation gradient)
/// → dStates, dEmbeddings, dContexts (+=), and the weight gradients (+=).
func deepOutputBackward(dStates: UnsafeMutablePointer<Float>, dEmbeddings: UnsafeMutablePointer<Float>,
                        dContexts: UnsafeMutablePointer<Float>, gradients: DeepOutputGradients,
                        dT: UnsafeMutablePointer<Float>, t: UnsafePointer<Float>, states: UnsafePointer<Float>,
                        embeddings: UnsafePointer<Float>, contexts: UnsafePointer<Float>,
                        weights: DeepOutputWeights, rows: Int, hiddenSize: Int, embeddingSize: Int,
                        contextSize: Int) {
    let e = embeddingSize, count = rows * e
    let one = Lanes(repeating: 1)
    var k = 0
    while k < count {
        let w = min(16, count - k)
        let y = loadLanes(t + k, w)
        storeLanes(loadLanes(dT + k, w) * (one - y * y), dT + k, w)
        k += 16
    }
    addColumnSums(gradients.db, of: dT, rows: rows, cols: e)
    BLAS.gemm(transA: true, m: hiddenSize, n: e, k: rows, a: states, lda: hiddenSize, b: dT, ldb: e,
              beta: 1, c: gradients.dWs, ldc: e)
    BLAS.gemm(transA: true, m: e, n: e, k: rows, a: embeddings, lda: e, b: dT, ldb: e,
              beta: 1, c: gradients.dWy, ldc: e)
    BLAS.gemm(transA: true, m: contextSize, n: e, k: rows, a: contexts, lda: contextSize, b: dT, ldb: e,
              beta: 1, c: gradients.dWc, ldc: e)
    BLAS.gemm(transB: true, m: rows, n: hiddenSize, k: e, a: dT, lda: e, b: weights.Ws, ldb: e,
              beta: 1, c: dStates, ldc: hiddenSize)
    BLAS.gemm(transB: true, m: rows, n: e, k: e, a: dT, lda: e, b: weights.Wy, ldb: e,
              beta: 1, c: dEmbeddings, ldc: e)
    BLAS.gemm(transB: true, m: rows, n: contextSize, k: e, a: dT, lda: e, b: weights.Wc, ldb: e,
              beta: 1, c: dContexts, ldc: contextSize)
}

/// The output projection's matrix: W_o [E, V], or the target embedding [V, E] used transposed.
struct OutputMatrix {
    var matrix: UnsafePointer<Float>
    var tied: Bool
    var bias: UnsafePointer<Float>
    /// op(matrix) [E, V] packed for small products (decoding), or nil.
    var packed: PackedMatrix? = nil
}

/// One GEMM over every position: t: [N, E] → logits: [N, V] = t·W_o + b_o (tied: t·E_tgtᵀ + b_o).
func outputProjectionForward(logits: UnsafeMutablePointer<Float>, t: UnsafePointer<Float>,
                             output: OutputMatrix, rows: Int, embeddingSize: Int, vocabularySize: Int) {
    let e = embeddingSize, v = vocabularySize
    broadcastRows(logits, bias: output.bias, rows: rows, cols: v)
    BLAS.gemm(transB: output.tied, m: rows, n: v, k: e, a: t, lda: e, b: output.matrix,
              ldb: output.tied ? e : v, packedB: output.packed, beta: 1, c: logits, ldc: v)
}

/// Backward of `outputProjectionForward`: dT = dLogits·Wᵀ (overwritten), dW (+=), dbo (+=).
/// dMatrix is dW_o [E, V] or, tied, the target embedding's gradient [V, E].
func outputProjectionBackward(dT: UnsafeMutablePointer<Float>, dMatrix: UnsafeMutablePointer<Float>,
                              dBias: UnsafeMutablePointer<Float>, dLogits: UnsafePointer<Float>,
                              t: UnsafePointer<Float>, output: OutputMatrix,
                              rows: Int, embeddingSize: Int, vocabularySize: Int) {
    let e = embeddingSize, v = vocabularySize
    addColumnSums(dBias, of: dLogits, rows: rows, cols: v)
    if output.tied {
        BLAS.gemm(transA: true, m: v, n: e, k: rows, a: dLogits, lda: v, b: t, ldb: e,
                  beta: 1, c: dMatrix, ldc: e)
        BLAS.gemm(m: rows, n: e, k: v, a: dLogits, lda: v, b: output.matrix, ldb: e, beta: 0, c: dT, ldc: e)
    } else {
        BLAS.gemm(transA: true, m: e, n: v, k: rows, a: t, lda: e, b: dLogits, ldb: v,
                  beta: 1, c: dMatrix, ldc: v)
        BLAS.gemm(transB: true, m: rows, n: e, k: v, a: dLogits, lda: v, b: output.matrix, ldb: v,
                  beta: 0, c: dT, ldc: e)
    }
}

/// The two sums `labelSmoothedCrossEntropy` returns over the weighted rows.
struct CrossEntropySums {
    /// Σ_r w_r·loss_r, the label-smoothed loss being minimised.
    var smoothed: Double
    /// Σ_r w_r·(−log p_r[y_r]), the plain cross-entropy that validation reports (comparable
    /// with other toolkits' perplexities whatever ε is).
    var negativeLogLikelihood: Double
}

/// Label-smoothed cross-entropy fused with its gradient, stable by the max-shift.
///
/// loss_r = (1 − ε)(−log p_r[y_r]) + ε·mean_v(−log p_r[v]) for rows with weight 1.
/// In place, logits: [N, V] become ∂(scale·Σ_r w_r·loss_r)/∂logits (0 for weight-0 rows) when
/// `gradient` is true (otherwise they are left as scratch).
func labelSmoothedCrossEntropy(logits: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>,
                               weights: UnsafePointer<Float>, smoothing: Float, scale: Float, gradient: Bool,
                               rows: Int, vocabularySize: Int) -> CrossEntropySums {
    let v = vocabularySize
    // Per-chunk partial sums, added in chunk order so the total does not depend on timing.
    var partials = [CrossEntropySums](repeating: CrossEntropySums(smoothed: 0, negativeLogLikelihood: 0),
                                      count: rowChunkCount(rows: rows))
    partials.withUnsafeMutableBufferPointer { partialTotals in
        forEachRowChunk(rows: rows) { chunkIndex, chunk in
            var total: Double = 0, totalNLL: Double = 0
            for r in chunk {
                let row = logits + r * v
                guard weights[r] != 0 else {
                    if gradient { row.update(repeating: 0, count: v) }
                    continue
                }
                // Pass 1: the max (for stability) and the plain sum of the logits (for the smoothing term).
                var maxLanes = Lanes(repeating: -Float.greatestFiniteMagnitude)
                var logitLanes = Lanes(repeating: 0)
                var k = 0
                while k < v {
                    let w = min(16, v - k)
                    var x = loadLanes(row + k, w)
                    logitLanes += x
                    if w < 16 { for lane in w..<16 { x[lane] = -Float.greatestFiniteMagnitude } }
                    maxLanes = Activations.maximum(x, maxLanes)
                    k += 16
                }
                let maxLogit = maxLanes.max()
                let target = Int(targets[r])
                let targetLogit = row[target]
                // Pass 2: e^(x − max) in place, and its sum.
                let shift = Lanes(repeating: maxLogit)
                var sumLanes = Lanes(repeating: 0)
                k = 0
                while k < v {
                    let w = min(16, v - k)
                    var e = Activations.exp(loadLanes(row + k, w) - shift)
                    if w < 16 { for lane in w..<16 { e[lane] = 0 } }
                    storeLanes(e, row + k, w)
                    sumLanes += e
                    k += 16
                }
                let sum = sumLanes.sum()
                let logNormalizer = Double(maxLogit) + log(Double(sum))
                let nll = logNormalizer - Double(targetLogit)
                let smoothTerm = logNormalizer - Double(logitLanes.sum()) / Double(v)
                let eps = Double(smoothing)
                total += Double(weights[r]) * ((1 - eps) * nll + eps * smoothTerm)
                totalNLL += Double(weights[r]) * nll
                if gradient {
                    // Pass 3: ∂loss/∂logit_v = p_v − (1 − ε)·[v = y] − ε/V, scaled.
                    let factor = weights[r] * scale
                    let inverseSum = Lanes(repeating: factor / sum)
                    let uniform = Lanes(repeating: factor * smoothing / Float(v))
                    k = 0
                    while k < v {
                        let w = min(16, v - k)
                        storeLanes(loadLanes(row + k, w) * inverseSum - uniform, row + k, w)
                        k += 16
                    }
                    row[target] -= factor * (1 - smoothing)
                }
            }
            partialTotals[chunkIndex] = CrossEntropySums(smoothed: total, negativeLogLikelihood: totalNLL)
        }
    }
    return partials.reduce(into: CrossEntropySums(smoothed: 0, negativeLogLikelihood: 0)) { sums, chunk in
        sums.smoothed += chunk.smoothed
        sums.negativeLogLikelihood += chunk.negativeLogLikelihood
    }
}

/// Row-wise log-softmax: logits: [N, V] → output: [N, V] (may alias).
func logSoftmaxRows(output: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                    rows: Int, vocabularySize: Int) {
    let v = vocabularySize, full = v - v % 16
    // Decoding calls this once per step on [rows, V]; its passes are as wide as the GEMMs
    // around it, so they run 16 lanes at a time and share the rows among the threads.
    forEachRowChunk(rows: rows, minimumRowsPerChunk: 4) { _, chunk in
        for r in chunk {
            let row = logits + r * v, out = output + r * v
            var maxLanes = Lanes(repeating: -.greatestFiniteMagnitude)
            var k = 0
            while k < full {
                maxLanes = Activations.maximum(maxLanes, loadLanes(row + k, 16))
                k += 16
            }
            var maxLogit = maxLanes.max()
            for i in full..<v { maxLogit = max(maxLogit, row[i]) }
            let shift = Lanes(repeating: maxLogit)
            var sumLanes = Lanes(repeating: 0)
            k = 0
            while k < full {
                sumLanes += Activations.exp(loadLanes(row + k, 16) - shift)
                k += 16
            }
            var sum = sumLanes.sum()
            if full < v {
                let tail = Activations.exp(loadLanes(row + full, v - full) - shift)
                for lane in 0..<(v - full) { sum += tail[lane] }
            }
            let logNormalizer = Lanes(repeating: maxLogit + Float(log(Double(sum))))
            k = 0
            while k < full {
                storeLanes(loadLanes(row + k, 16) - logNormalizer, out + k, 16)
                k += 16
            }
            for i in full..<v { out[i] = row[i] - logNormalizer[0] }
        }
    }
}
