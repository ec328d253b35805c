import Foundation
import S2STensor

// The top of the decoder: the deep output t_i = tanh(s_i·Ws + y_{i−1}·Wy + c_i·Wc + b), the
// output projection to logits, and the label-smoothed cross-entropy fused with its gradient.
// Every product here runs over all B·T target positions at once.

/// The deep output's tensors. Ws: [H, E], Wy: [E, E], Wc: [C, E], b: [E].
struct DeepOutputTensors<Tensor> {
    var Ws, Wy, Wc, b: Tensor

    func map<T>(_ transform: (Tensor) throws -> T) rethrows -> DeepOutputTensors<T> {
        DeepOutputTensors<T>(Ws: try transform(Ws), Wy: try transform(Wy), Wc: try transform(Wc), b: try transform(b))
    }

    /// Every tensor, in store order.
    var all: [Tensor] { [Ws, Wy, Wc, b] }
}

extension DeepOutputTensors<TensorDeclaration> {
    init(hiddenSize h: Int, embeddingSize e: Int, contextSize c: Int) {
        self.init(Ws: .matrix("output.Ws", h, e), Wy: .matrix("output.Wy", e, e), Wc: .matrix("output.Wc", c, e),
                  b: .bias("output.b", e))
    }
}

/// The output projection's tensors. Wo: [E, V] (nil when tied to the target embedding), bo: [V].
struct OutputTensors<Tensor> {
    var Wo: Tensor?
    var bo: Tensor

    func map<T>(_ transform: (Tensor) throws -> T) rethrows -> OutputTensors<T> {
        OutputTensors<T>(Wo: try Wo.map(transform), bo: try transform(bo))
    }

    /// Every tensor, in store order.
    var all: [Tensor] { [Wo].compactMap { $0 } + [bo] }
}

extension OutputTensors<TensorDeclaration> {
    init(embeddingSize e: Int, vocabularySize v: Int, tied: Bool) {
        self.init(Wo: tied ? nil : .matrix("output.Wo", e, v), bo: .bias("output.bo", v))
    }
}

typealias DeepOutputWeights = DeepOutputTensors<Weight>
typealias DeepOutputGradients = DeepOutputTensors<UnsafeMutablePointer<Float>>

/// states: [N, H], embeddings: [N, E], contexts: [N, C] → t: [N, E].
func deepOutputForward(t: UnsafeMutablePointer<Float>, states: UnsafePointer<Float>,
                       embeddings: UnsafePointer<Float>, contexts: UnsafePointer<Float>,
                       weights: DeepOutputWeights, rows: Int, hiddenSize: Int, embeddingSize: Int,
                       contextSize: Int) {
    let e = embeddingSize
    broadcastRows(t, bias: weights.b.values, rows: rows, cols: e)
    weights.Ws.product(m: rows, n: e, k: hiddenSize, a: states, lda: hiddenSize, ldb: e, beta: 1, c: t, ldc: e)
    weights.Wy.product(m: rows, n: e, k: e, a: embeddings, lda: e, ldb: e, beta: 1, c: t, ldc: e)
    weights.Wc.product(m: rows, n: e, k: contextSize, a: contexts, lda: contextSize, ldb: e, beta: 1, c: t, ldc: e)
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
    addColumnSums(gradients.b, of: dT, rows: rows, cols: e)
    BLAS.gemm(transA: true, m: hiddenSize, n: e, k: rows, a: states, lda: hiddenSize, b: dT, ldb: e,
              beta: 1, c: gradients.Ws, ldc: e)
    BLAS.gemm(transA: true, m: e, n: e, k: rows, a: embeddings, lda: e, b: dT, ldb: e,
              beta: 1, c: gradients.Wy, ldc: e)
    BLAS.gemm(transA: true, m: contextSize, n: e, k: rows, a: contexts, lda: contextSize, b: dT, ldb: e,
              beta: 1, c: gradients.Wc, ldc: e)
    BLAS.gemm(transB: true, m: rows, n: hiddenSize, k: e, a: dT, lda: e, b: weights.Ws.values, ldb: e,
              beta: 1, c: dStates, ldc: hiddenSize)
    BLAS.gemm(transB: true, m: rows, n: e, k: e, a: dT, lda: e, b: weights.Wy.values, ldb: e,
              beta: 1, c: dEmbeddings, ldc: e)
    BLAS.gemm(transB: true, m: rows, n: contextSize, k: e, a: dT, lda: e, b: weights.Wc.values, ldb: e,
              beta: 1, c: dContexts, ldc: contextSize)
}

/// The output projection as the forward pass reads it: W_o [E, V], or the target embedding
/// [V, E] used transposed; its packed copy is op(matrix) [E, V].
struct OutputMatrix {
    var matrix: Weight
    var tied: Bool
    var bias: UnsafePointer<Float>
}

/// One GEMM over every position: t: [N, E] → logits: [N, V] = t·W_o + b_o (tied: t·E_tgtᵀ + b_o).
func outputProjectionForward(logits: UnsafeMutablePointer<Float>, t: UnsafePointer<Float>,
                             output: OutputMatrix, rows: Int, embeddingSize: Int, vocabularySize: Int) {
    let e = embeddingSize, v = vocabularySize
    broadcastRows(logits, bias: output.bias, rows: rows, cols: v)
    output.matrix.product(m: rows, n: v, k: e, a: t, lda: e, ldb: output.tied ? e : v, beta: 1, c: logits, ldc: v,
                          transposedB: output.tied)
}

/// Backward of `outputProjectionForward`: dT += dLogits·Wᵀ, dW += tᵀ·dLogits, dbo += Σ dLogits.
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
        BLAS.gemm(m: rows, n: e, k: v, a: dLogits, lda: v, b: output.matrix.values, ldb: e, beta: 1, c: dT, ldc: e)
    } else {
        BLAS.gemm(transA: true, m: e, n: v, k: rows, a: t, lda: e, b: dLogits, ldb: v,
                  beta: 1, c: dMatrix, ldc: v)
        BLAS.gemm(transB: true, m: rows, n: e, k: v, a: dLogits, lda: v, b: output.matrix.values, ldb: v,
                  beta: 1, c: dT, ldc: e)
    }
}

/// The two sums `crossEntropyForward` returns over the weighted rows.
struct CrossEntropySums {
    /// Σ_r w_r·loss_r, the label-smoothed loss being minimised.
    var smoothed: Double
    /// Σ_r w_r·(−log p_r[y_r]), the plain cross-entropy that validation reports (comparable
    /// with other toolkits' perplexities whatever ε is).
    var negativeLogLikelihood: Double
}

/// Label-smoothed cross-entropy, stable by the max-shift:
/// loss_r = (1 − ε)(−log p_r[y_r]) + ε·mean_v(−log p_r[v]) for rows with weight w_r ≠ 0.
/// logits: [N, V], in place → e^(x − max) per row (what `crossEntropyBackward` turns into the
/// gradient), and expSums: [N] their row sums. targets, weights: [N].
func crossEntropyForward(logits: UnsafeMutablePointer<Float>, expSums: UnsafeMutablePointer<Float>,
                         targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>, smoothing: Float,
                         rows: Int, vocabularySize: Int) -> CrossEntropySums {
    let v = vocabularySize
    // Per-chunk partial sums, added in chunk order so the total does not depend on timing.
    var partials = [CrossEntropySums](repeating: CrossEntropySums(smoothed: 0, negativeLogLikelihood: 0),
                                      count: rowChunkCount(rows: rows))
    partials.withUnsafeMutableBufferPointer { partialTotals in
        forEachRowChunk(rows: rows) { chunkIndex, chunk in
            var total: Double = 0, totalNLL: Double = 0
            for r in chunk where weights[r] != 0 {
                let row = logits + r * v
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
                let targetLogit = row[Int(targets[r])]
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
                expSums[r] = sum
                let logNormalizer = Double(maxLogit) + log(Double(sum))
                let nll = logNormalizer - Double(targetLogit)
                let smoothTerm = logNormalizer - Double(logitLanes.sum()) / Double(v)
                let eps = Double(smoothing)
                total += Double(weights[r]) * ((1 - eps) * nll + eps * smoothTerm)
                totalNLL += Double(weights[r]) * nll
            }
            partialTotals[chunkIndex] = CrossEntropySums(smoothed: total, negativeLogLikelihood: totalNLL)
        }
    }
    return partials.reduce(into: CrossEntropySums(smoothed: 0, negativeLogLikelihood: 0)) { sums, chunk in
        sums.smoothed += chunk.smoothed
        sums.negativeLogLikelihood += chunk.negativeLogLikelihood
    }
}

/// Backward of `crossEntropyForward`: logits [N, V] (holding e^(x − max)), in place →
/// ∂(scale·Σ_r w_r·loss_r)/∂logits = scale·w_r·(p_v − (1 − ε)·[v = y_r] − ε/V), 0 for rows of
/// weight 0.
func crossEntropyBackward(logits: UnsafeMutablePointer<Float>, expSums: UnsafePointer<Float>,
                          targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>, smoothing: Float,
                          scale: Float, rows: Int, vocabularySize: Int) {
    let v = vocabularySize
    forEachRowChunk(rows: rows) { _, chunk in
        for r in chunk {
            let row = logits + r * v
            guard weights[r] != 0 else {
                row.update(repeating: 0, count: v)
                continue
            }
            let factor = weights[r] * scale
            let inverseSum = Lanes(repeating: factor / expSums[r])
            let uniform = Lanes(repeating: factor * smoothing / Float(v))
            var k = 0
            while k < v {
                let w = min(16, v - k)
                storeLanes(loadLanes(row + k, w) * inverseSum - uniform, row + k, w)
                k += 16
            }
            row[Int(targets[r])] -= factor * (1 - smoothing)
        }
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
