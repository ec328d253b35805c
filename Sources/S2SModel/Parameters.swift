import S2STensor

/// The network's parameter tensors: names, shapes and initialization (docs/model.md).
///
/// Every linear map is `y = x·W + b` with W stored row-major as [in, out]. GRU gate blocks are
/// ordered [r | z | n] along the output axis.
public enum Seq2SeqParameters {
    /// The (name, shape) of every tensor, in store order. `output.Wo` is absent when the output
    /// layer is tied to the target embedding.
    public static func layout(for config: ModelConfig) -> [(name: String, shape: [Int])] {
        let e = config.embeddingSize, h = config.hiddenSize, a = config.attentionSize
        let c = 2 * h
        var layout: [(name: String, shape: [Int])] = [
            ("source.embedding", [config.sourceVocabularySize, e]),
            ("target.embedding", [config.targetVocabularySize, e]),
        ]
        // A GRU's W, b, U, c, and with layer normalization its gains W.gain, U.gain (GRU.swift).
        func gru(_ prefix: String, inputSize: Int) -> [(name: String, shape: [Int])] {
            var tensors = [("\(prefix).W", [inputSize, 3 * h]), ("\(prefix).b", [3 * h]),
                           ("\(prefix).U", [h, 3 * h]), ("\(prefix).c", [3 * h])]
            if config.layerNormalization { tensors += [("\(prefix).W.gain", [3 * h]), ("\(prefix).U.gain", [3 * h])] }
            return tensors
        }
        layout += gru("encoder.forward", inputSize: e) + gru("encoder.backward", inputSize: e)
        layout += [("decoder.init.W", [c, h]), ("decoder.init.b", [h])]
        layout += gru("decoder.gru1", inputSize: e)
        layout += [("attention.Wq", [h, a]), ("attention.bq", [a]),
                   ("attention.Uk", [c, a]), ("attention.v", [a])]
        layout += gru("decoder.gru2", inputSize: c)
        layout += [("output.Ws", [h, e]), ("output.Wy", [e, e]), ("output.Wc", [c, e]),
                   ("output.b", [e])]
        if !config.tiedEmbeddings { layout.append(("output.Wo", [e, config.targetVocabularySize])) }
        layout.append(("output.bo", [config.targetVocabularySize]))
        return layout
    }

    /// A freshly initialized store: orthogonal [H, H] blocks in every recurrent matrix U,
    /// N(0, 1) embeddings, Glorot-uniform other matrices, zero biases, unit layer-norm gains;
    /// the same seed gives the same values.
    public static func initialized(for config: ModelConfig, seed: UInt64) throws -> ParameterStore {
        try config.validate()
        let store = ParameterStore(layout: layout(for: config))
        var rng = SeededRNG(seed: seed)
        let h = config.hiddenSize
        var block = [Float](repeating: 0, count: h * h)
        for entry in store.entries {
            let tensor = store.tensor(entry.name)
            if entry.name.hasSuffix(".gain") {
                for i in 0..<tensor.count { tensor[i] = 1 }
                continue
            }
            let isBias = entry.shape.count == 1 && entry.name != "attention.v"
            if isBias { continue }
            if entry.name.hasSuffix(".U") {
                // Saxe et al.: each gate's recurrent block starts orthogonal, so early gradients
                // neither explode nor vanish through time.
                for gate in 0..<3 {
                    for i in 0..<(h * h) { block[i] = rng.normal() }
                    try block.withUnsafeMutableBufferPointer {
                        try BLAS.orthonormalizeColumns($0.baseAddress!, rows: h, cols: h)
                    }
                    for row in 0..<h {
                        for col in 0..<h { tensor[row * 3 * h + gate * h + col] = block[row * h + col] }
                    }
                }
            } else if entry.name.hasSuffix(".embedding") {
                // N(0, 1), as PyTorch's nn.Embedding. Glorot over [V, E] makes embeddings
                // ±√(6/(V+E)) (±0.027 for 8k pieces): the encoder's input starts almost silent,
                // attention stays uniform and the loss sits on the unigram plateau. Measured on
                // a copy task (E = H = A = 64, 40 symbols): the source is used after ~400 updates
                // with N(0, 1) and ~1,500 with Glorot (±0.1 did no better than Glorot).
                for i in 0..<tensor.count { tensor[i] = rng.normal() }
            } else {
                let fanIn = entry.shape[0], fanOut = entry.shape.count > 1 ? entry.shape[1] : 1
                let limit = (6 / Float(fanIn + fanOut)).squareRoot()
                for i in 0..<tensor.count { tensor[i] = (2 * rng.uniform() - 1) * limit }
            }
        }
        return store
    }

    /// Throws unless `store` has exactly the layout `config` needs (for loaded checkpoints).
    public static func check(_ store: ParameterStore, against config: ModelConfig) throws {
        let expected = layout(for: config)
        guard expected.count == store.entries.count else {
            throw ModelError.parameterLayoutMismatch("expected \(expected.count) tensors, found \(store.entries.count)")
        }
        for (want, have) in zip(expected, store.entries) where want.name != have.name || want.shape != have.shape {
            throw ModelError.parameterLayoutMismatch(
                "expected \(want.name) \(want.shape), found \(have.name) \(have.shape)")
        }
    }
}
