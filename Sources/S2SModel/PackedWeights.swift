import Dispatch
import S2SCore
import S2STensor

/// Weight matrices packed once for small products (`PackedMatrix`), shared read-only by every
/// decoder or training worker on the parameters.
///
/// - For decoding, every matrix the network multiplies by (the declarations marked
///   `isMultiplied`): beam search over one sentence, greedy search's last few rows, an encoder
///   run over a few short sentences all multiply few rows at a time. A tied output layer
///   multiplies by the target embedding transposed, packed as `tiedOutput`.
/// - For training, the matrices of the recurrences, which every time step multiplies by its
///   batch's few rows forward and by their transposes backward: both GRUs of the encoder and
///   of the decoder, the attention's query and GRU₂'s input. The trainer packs them again after
///   each update (`repack`).
///
/// Products with more rows still read the plain parameters (`BLAS.gemm`). Embeddings are
/// looked up, not multiplied, and are not packed.
public final class PackedWeights: @unchecked Sendable {
    /// What the copies are for.
    public enum Use: Sendable { case decoding, trainingSteps }

    private let matrices: [String: PackedMatrix]
    private let transposes: [String: PackedMatrix]
    /// op(target embedding) [E, V] when the output layer is tied to it, else nil.
    let tiedOutput: PackedMatrix?
    private let sources: [(copy: PackedMatrix, declaration: TensorDeclaration)]

    /// `excluding`: matrices that have 8-bit copies instead (`Int8Weights`), left unpacked.
    public init(parameters: ParameterStore, config: ModelConfig, for use: Use = .decoding,
                excluding: Set<String> = []) throws {
        try Seq2SeqParameters.check(parameters, against: config)
        let network = Seq2SeqTensors(config: config)
        let packed: [TensorDeclaration], transposed: [TensorDeclaration]
        switch use {
        case .decoding:
            packed = network.all.filter { $0.isMultiplied && !excluding.contains($0.name) }
            transposed = []
        case .trainingSteps:
            let encoder = network.encoder, decoder = network.decoder
            packed = [encoder.forward.U, encoder.backward.U, decoder.gru1.U, decoder.attention.Wq, decoder.gru2.W,
                      decoder.gru2.U]
            transposed = packed
        }
        func pack(_ declaration: TensorDeclaration, transposed: Bool) -> PackedMatrix {
            let rows = declaration.shape[0], columns = declaration.shape[1]
            return PackedMatrix(parameters.pointer(declaration), k: transposed ? columns : rows,
                                n: transposed ? rows : columns, ldb: columns, transposed: transposed)
        }
        let matrices = Dictionary(uniqueKeysWithValues: packed.map { ($0.name, pack($0, transposed: false)) })
        let transposes = Dictionary(uniqueKeysWithValues: transposed.map { ($0.name, pack($0, transposed: true)) })
        self.matrices = matrices
        self.transposes = transposes
        tiedOutput = use == .decoding && config.tiedEmbeddings && !excluding.contains(network.targetEmbedding.name)
            ? PackedMatrix(parameters.pointer(network.targetEmbedding), k: config.embeddingSize,
                           n: config.targetVocabularySize, ldb: config.embeddingSize, transposed: true)
            : nil
        sources = packed.map { (matrices[$0.name]!, $0) } + transposed.map { (transposes[$0.name]!, $0) }
    }

    /// The packed copy of a declared matrix (nil for a tensor that is not packed).
    subscript(declaration: TensorDeclaration) -> PackedMatrix? { matrices[declaration.name] }

    /// The packed copy of a declared matrix's transpose (training's backward products), or nil.
    func transposed(_ declaration: TensorDeclaration) -> PackedMatrix? { transposes[declaration.name] }

    /// Packs every copy again from `parameters` (the store they were made from, after an
    /// update), the copies shared out among `threads` threads.
    public func repack(from parameters: ParameterStore, threads: Int) {
        let work = UncheckedSendable((sources, parameters))
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, sources.count))) { part in
            let (sources, parameters) = work.value
            let parts = max(1, min(threads, sources.count))
            for index in stride(from: part, to: sources.count, by: parts) {
                sources[index].copy.repack(from: parameters.pointer(sources[index].declaration))
            }
        }
    }

    /// Bytes held by all the packed copies.
    public var byteCount: Int {
        (Array(matrices.values) + Array(transposes.values)).reduce(tiedOutput?.byteCount ?? 0) { $0 + $1.byteCount }
    }
}
