import S2STensor

/// Every weight matrix the network multiplies by, packed once for the small products of
/// decoding (`PackedMatrix`): beam search over one sentence, greedy search's last few rows, an
/// encoder run over a few short sentences. Made once per loaded model and shared, read-only, by
/// all its decoders (one per worker); products with more rows still read the plain parameters.
///
/// The matrices are the declarations marked `isMultiplied`; a tied output layer multiplies by
/// the target embedding transposed, which is packed as `tiedOutput`. Embeddings are looked up,
/// not multiplied, and are not packed.
public final class PackedWeights: Sendable {
    private let matrices: [String: PackedMatrix]
    /// op(target embedding) [E, V] when the output layer is tied to it, else nil.
    let tiedOutput: PackedMatrix?

    public init(parameters: ParameterStore, config: ModelConfig) throws {
        try Seq2SeqParameters.check(parameters, against: config)
        let network = Seq2SeqTensors(config: config)
        var matrices: [String: PackedMatrix] = [:]
        for declaration in network.all where declaration.isMultiplied {
            let shape = declaration.shape
            matrices[declaration.name] = PackedMatrix(parameters.pointer(declaration), k: shape[0], n: shape[1], ldb: shape[1])
        }
        self.matrices = matrices
        tiedOutput = config.tiedEmbeddings
            ? PackedMatrix(parameters.pointer(network.targetEmbedding), k: config.embeddingSize,
                           n: config.targetVocabularySize, ldb: config.embeddingSize, transposed: true)
            : nil
    }

    /// The packed copy of a declared matrix (nil for a tensor that is not multiplied).
    subscript(declaration: TensorDeclaration) -> PackedMatrix? { matrices[declaration.name] }

    /// Bytes held by all the packed copies.
    public var byteCount: Int { matrices.values.reduce(tiedOutput?.byteCount ?? 0) { $0 + $1.byteCount } }
}
