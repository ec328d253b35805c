import S2STensor

/// Every weight matrix the network multiplies by, packed once for the small products of
/// decoding (`PackedMatrix`): beam search over one sentence, greedy search's last few rows, an
/// encoder run over a few short sentences. Made once per loaded model and shared, read-only, by
/// all its decoders (one per worker); products with more rows still read the plain parameters.
///
/// Keyed by parameter name; `output.Wo` is also the key of a tied output layer (the target
/// embedding, transposed). Embeddings are looked up, not multiplied, and are not packed.
public final class PackedWeights: Sendable {
    private let matrices: [String: PackedMatrix]

    public init(parameters: ParameterStore, config: ModelConfig) throws {
        try Seq2SeqParameters.check(parameters, against: config)
        var matrices: [String: PackedMatrix] = [:]
        for (name, shape) in Seq2SeqParameters.layout(for: config) where shape.count == 2 && !name.hasSuffix(".embedding") {
            matrices[name] = PackedMatrix(parameters.tensor(name).baseAddress!, k: shape[0], n: shape[1], ldb: shape[1])
        }
        if config.tiedEmbeddings {
            let e = config.embeddingSize, v = config.targetVocabularySize
            matrices["output.Wo"] = PackedMatrix(parameters.tensor("target.embedding").baseAddress!, k: e, n: v,
                                                 ldb: e, transposed: true)
        }
        self.matrices = matrices
    }

    /// The packed copy of the matrix `name` (nil for a name that is not a packed matrix).
    public subscript(name: String) -> PackedMatrix? { matrices[name] }

    /// Bytes held by all the packed copies.
    public var byteCount: Int { matrices.values.reduce(0) { $0 + $1.byteCount } }
}
