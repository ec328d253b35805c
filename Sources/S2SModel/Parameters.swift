import S2SCore
import S2STensor

/// Every tensor of the network, each declared by the layer that uses it, in store (and
/// checkpoint) order: the embeddings, the encoder, the conditional-GRU decoder, the deep
/// output and the output projection.
struct Seq2SeqTensors<Tensor> {
    var sourceEmbedding, targetEmbedding: Tensor
    var encoder: EncoderTensors<Tensor>
    var decoder: ConditionalGRUTensors<Tensor>
    var deepOutput: DeepOutputTensors<Tensor>
    var output: OutputTensors<Tensor>

    func map<T>(_ transform: (Tensor) throws -> T) rethrows -> Seq2SeqTensors<T> {
        Seq2SeqTensors<T>(sourceEmbedding: try transform(sourceEmbedding), targetEmbedding: try transform(targetEmbedding),
                          encoder: try encoder.map(transform), decoder: try decoder.map(transform),
                          deepOutput: try deepOutput.map(transform), output: try output.map(transform))
    }

    /// Every tensor, in store order.
    var all: [Tensor] { [sourceEmbedding, targetEmbedding] + encoder.all + decoder.all + deepOutput.all + output.all }
}

extension Seq2SeqTensors<TensorDeclaration> {
    /// The network `config` describes.
    init(config: ModelConfig) {
        let e = config.embeddingSize, h = config.hiddenSize
        let tiedScale = config.tiedEmbeddings ? 1 / Float(e).squareRoot() : 1
        self.init(sourceEmbedding: TensorDeclaration("source.embedding", [config.sourceVocabularySize, e],
                                                     .normal(standardDeviation: 1)),
                  targetEmbedding: TensorDeclaration("target.embedding", [config.targetVocabularySize, e],
                                                     .normal(standardDeviation: tiedScale)),
                  encoder: EncoderTensors(config: config), decoder: ConditionalGRUTensors(config: config),
                  deepOutput: DeepOutputTensors(hiddenSize: h, embeddingSize: e, contextSize: 2 * h),
                  output: OutputTensors(embeddingSize: e, vocabularySize: config.targetVocabularySize,
                                        tied: config.tiedEmbeddings))
    }
}

extension Seq2SeqTensors<Weight> {
    /// The output projection's matrix: W_o, or the target embedding when tied.
    var outputMatrix: OutputMatrix {
        OutputMatrix(matrix: output.Wo ?? targetEmbedding, tied: output.Wo == nil, bias: output.bo.values)
    }
}

extension Seq2SeqTensors<UnsafeMutablePointer<Float>> {
    /// The gradient of the output projection's matrix: W_o's, or the target embedding's when tied.
    var outputMatrix: UnsafeMutablePointer<Float> { output.Wo ?? targetEmbedding }
}

extension ParameterStore {
    /// The network's weights in this store, with their packed copies, and when decoding in 8
    /// bits their quantized copies and the decoder's scratch for them.
    func weights(_ network: Seq2SeqTensors<TensorDeclaration>, packed: PackedWeights? = nil,
                 int8: Int8Weights? = nil, scratch: Int8Scratch? = nil) -> Seq2SeqTensors<Weight> {
        var weights = network.map { declaration in
            var weight = weight(declaration, packed: packed)
            weight.int8 = int8?[declaration]
            weight.int8Scratch = weight.int8 == nil ? nil : scratch
            return weight
        }
        if network.output.Wo == nil {
            // The tied output layer multiplies by the target embedding, which is also looked up.
            weights.targetEmbedding = Weight(values: weights.targetEmbedding.values, packed: packed?.tiedOutput,
                                             int8: int8?.tiedOutput, int8Scratch: int8?.tiedOutput == nil ? nil : scratch)
        }
        return weights
    }

    /// The network's gradients in this store (a store of the parameters' layout).
    func gradients(_ network: Seq2SeqTensors<TensorDeclaration>) -> Seq2SeqTensors<UnsafeMutablePointer<Float>> {
        network.map { pointer($0) }
    }
}

/// The network's parameters as a whole: their layout, their initialization, and the check a
/// loaded store must pass.
public enum Seq2SeqParameters {
    /// The (name, shape) of every tensor, in store order. `output.Wo` is absent when the output
    /// layer is tied to the target embedding.
    public static func layout(for config: ModelConfig) -> [(name: String, shape: [Int])] {
        Seq2SeqTensors(config: config).all.map { ($0.name, $0.shape) }
    }

    /// How many floats the parameters of `config` hold.
    public static func count(for config: ModelConfig) -> Int {
        layout(for: config).reduce(0) { $0 + $1.shape.reduce(1, *) }
    }

    /// A freshly initialized store, each tensor as its declaration says (docs/model.md); the
    /// same seed gives the same values.
    public static func initialized(for config: ModelConfig, seed: UInt64) throws -> ParameterStore {
        try config.validate()
        let declarations = Seq2SeqTensors(config: config).all
        let store = ParameterStore(layout: declarations.map { ($0.name, $0.shape) })
        var rng = SeededRNG(seed: seed)
        for declaration in declarations {
            try initialize(store.tensor(declaration.name), as: declaration, rng: &rng)
        }
        return store
    }

    /// Fills `tensor` as `declaration.initialization` says, drawing from `rng` in element order.
    private static func initialize(_ tensor: UnsafeMutableBufferPointer<Float>, as declaration: TensorDeclaration,
                                   rng: inout SeededRNG) throws {
        switch declaration.initialization {
        case .zeros:
            tensor.update(repeating: 0)
        case .ones:
            tensor.update(repeating: 1)
        case let .normal(deviation):
            // N(0, 1) embeddings: with Glorot over [V, E] they are ±√(6/(V+E)), the encoder's
            // input starts almost silent, attention stays uniform and the loss sits on the unigram
            // plateau for far longer (docs/model.md, "Parameters").
            for i in 0..<tensor.count { tensor[i] = rng.normal() * deviation }
        case .glorotUniform:
            let fanIn = declaration.shape[0], fanOut = declaration.shape.count > 1 ? declaration.shape[1] : 1
            let limit = (6 / Float(fanIn + fanOut)).squareRoot()
            for i in 0..<tensor.count { tensor[i] = (2 * rng.uniform() - 1) * limit }
        case let .orthogonalBlocks(gates):
            let h = declaration.shape[0], width = declaration.shape[1]
            var block = [Float](repeating: 0, count: h * h)
            for gate in 0..<gates {
                for i in 0..<(h * h) { block[i] = rng.normal() }
                try block.withUnsafeMutableBufferPointer { try BLAS.orthonormalizeColumns($0.baseAddress!, rows: h, cols: h) }
                for row in 0..<h {
                    for column in 0..<h { tensor[row * width + gate * h + column] = block[row * h + column] }
                }
            }
        }
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
