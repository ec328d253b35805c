/// Every hyperparameter that fixes the network's shape and behaviour; stored in the checkpoint
/// so a model file is self-describing.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// Source vocabulary size V_src (including the 4 reserved ids).
    public var sourceVocabularySize: Int
    /// Target vocabulary size V_tgt (including the 4 reserved ids).
    public var targetVocabularySize: Int
    /// Embedding width E (both sides).
    public var embeddingSize: Int = 256
    /// GRU hidden size H per encoder direction and of the decoder state.
    public var hiddenSize: Int = 512
    /// Width A of the additive attention's hidden layer.
    public var attentionSize: Int = 512
    /// Dropout on embeddings (training only).
    public var embeddingDropout: Float = 0.1
    /// Variational dropout on RNN states, the same mask at every time step (training only).
    public var stateDropout: Float = 0.1
    /// Dropout before the output projection (training only).
    public var outputDropout: Float = 0.2
    /// Label smoothing ε of the cross-entropy loss.
    public var labelSmoothing: Float = 0.1
    /// Share the output projection W_o with the target embedding (needs E = deep-output width).
    public var tiedEmbeddings: Bool = false
    /// Layer normalization of both projections of every GRU (LayerNorm.swift).
    public var layerNormalization: Bool = true

    public init(sourceVocabularySize: Int, targetVocabularySize: Int) {
        self.sourceVocabularySize = sourceVocabularySize
        self.targetVocabularySize = targetVocabularySize
    }

    /// Every hyperparameter at its default (the vocabulary sizes, 0 here, come from the vocabulary).
    public static var defaults: ModelConfig { ModelConfig(sourceVocabularySize: 0, targetVocabularySize: 0) }
}
