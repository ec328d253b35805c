/// Why a model could not be built or run on a batch; one line, naming the problem.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// A configuration value is out of its valid range.
    case invalidConfiguration(String)
    /// A batch is malformed (sizes disagree, empty rows, lengths out of range).
    case invalidBatch(String)
    /// A token id does not fit the vocabulary of its side.
    case tokenOutOfRange(side: String, id: Int32, vocabularySize: Int)
    /// A parameter store does not have the layout the configuration needs.
    case parameterLayoutMismatch(String)
    /// A lexical shortlist does not fit the model.
    case invalidShortlist(String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(problem): return "invalid model configuration: \(problem)"
        case let .invalidBatch(problem): return "invalid batch: \(problem)"
        case let .tokenOutOfRange(side, id, size):
            return "\(side) token id \(id) is outside the model's \(side) vocabulary of \(size) (model and data vocabularies differ?)"
        case let .parameterLayoutMismatch(problem): return "parameters do not match the model configuration: \(problem)"
        case let .invalidShortlist(problem): return "invalid shortlist: \(problem)"
        }
    }
}

extension ModelConfig {
    /// Throws `ModelError.invalidConfiguration` unless every size is positive and every rate
    /// lies in [0, 1).
    public func validate() throws {
        func positive(_ value: Int, _ name: String) throws {
            guard value > 0 else { throw ModelError.invalidConfiguration("\(name) must be positive, got \(value)") }
        }
        func rate(_ value: Float, _ name: String) throws {
            guard value.isFinite, value >= 0, value < 1 else {
                throw ModelError.invalidConfiguration("\(name) must be in [0, 1), got \(value)")
            }
        }
        try positive(sourceVocabularySize, "sourceVocabularySize")
        try positive(targetVocabularySize, "targetVocabularySize")
        guard sourceVocabularySize > Int(SpecialTokensLimit.reserved),
              targetVocabularySize > Int(SpecialTokensLimit.reserved) else {
            throw ModelError.invalidConfiguration(
                "vocabularies need more than the \(SpecialTokensLimit.reserved) reserved ids, got source \(sourceVocabularySize), target \(targetVocabularySize)")
        }
        try positive(embeddingSize, "embeddingSize")
        try positive(hiddenSize, "hiddenSize")
        try positive(attentionSize, "attentionSize")
        try rate(embeddingDropout, "embeddingDropout")
        try rate(stateDropout, "stateDropout")
        try rate(outputDropout, "outputDropout")
        try rate(labelSmoothing, "labelSmoothing")
    }
}

/// The number of reserved ids (pad, unk, <s>, </s>) at the start of every vocabulary.
enum SpecialTokensLimit {
    static let reserved = 4
}
