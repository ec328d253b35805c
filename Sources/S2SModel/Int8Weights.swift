import S2SCore
import S2STensor

/// Every weight matrix decoding multiplies by, in 8 bits (`Int8Matrix`, `translate --int8`):
/// the decoder step's (GRU₁'s W and U, the attention query Wq, GRU₂'s W and U, the deep output's
/// Ws, Wy and Wc, the output layer W_o — the target embedding, transposed, when tied) and the
/// encoder's (both GRUs' W and U, the attention keys' Uk, the initial state's W). With the
/// decoder step in 8 bits the fp32 encoder took a quarter of greedy decoding; in 8 bits too it
/// measured no loss in BLEU (BENCHMARKS.md, "decoding").
///
/// What stays fp32, and why: embeddings are looked up, not multiplied; biases, layer-
/// normalization gains, the attention's scores and softmax and the output softmax are
/// elementwise, cheap, and where rounding would hurt most. Shared read-only by every decoder on
/// the model.
public final class Int8Weights: @unchecked Sendable {
    private let matrices: [String: Int8Matrix]
    /// op(target embedding) [E, V] in 8 bits when the output layer is tied to it.
    let tiedOutput: Int8Matrix?

    /// The declarations it quantizes, for `network`: the decoder step's, then the encoder's.
    static func quantized(_ network: Seq2SeqTensors<TensorDeclaration>) -> [TensorDeclaration] {
        let decoder = network.decoder, deep = network.deepOutput, encoder = network.encoder
        return [decoder.gru1.W, decoder.gru1.U, decoder.attention.Wq, decoder.gru2.W, decoder.gru2.U,
                deep.Ws, deep.Wy, deep.Wc] + [network.output.Wo].compactMap { $0 }
            + [encoder.forward.W, encoder.forward.U, encoder.backward.W, encoder.backward.U, decoder.attention.Uk,
               encoder.initialStateW]
    }

    public init(parameters: ParameterStore, config: ModelConfig) throws {
        try Seq2SeqParameters.check(parameters, against: config)
        let network = Seq2SeqTensors(config: config)
        matrices = Dictionary(uniqueKeysWithValues: Self.quantized(network).map { declaration in
            (declaration.name, Int8Matrix(parameters.pointer(declaration), k: declaration.shape[0], n: declaration.shape[1],
                                          ldb: declaration.shape[1]))
        })
        tiedOutput = config.tiedEmbeddings
            ? Int8Matrix(parameters.pointer(network.targetEmbedding), k: config.embeddingSize,
                         n: config.targetVocabularySize, ldb: config.embeddingSize, transposed: true)
            : nil
    }

    /// The 8-bit copy of a declared matrix (nil for one that stays fp32).
    subscript(declaration: TensorDeclaration) -> Int8Matrix? { matrices[declaration.name] }

    /// Bytes held by the 8-bit copies.
    public var byteCount: Int { matrices.values.reduce(tiedOutput?.byteCount ?? 0) { $0 + $1.byteCount } }
}
