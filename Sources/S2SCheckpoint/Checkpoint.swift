import Foundation
import S2SContainer
import S2SModel
import S2STensor

/// The subword vocabulary a model was trained with, embedded in the model file so the file is
/// self-contained. The text is the vocabulary file's own (versioned) serialization, opaque here.
public struct EmbeddedVocabulary: Codable, Equatable, Sendable {
    /// The serialized vocabulary, exactly as its writer produced it.
    public var text: String
    /// `Fingerprint.of(text:)`, checked on read and compared when resuming.
    public var fingerprint: String

    /// Embeds `text`, fingerprinting it.
    public init(text: String) {
        self.text = text
        fingerprint = Fingerprint.of(text: text)
    }
}

/// One validation run during training.
public struct ValidationRecord: Codable, Equatable, Sendable {
    /// Updates done when it ran.
    public var updates: Int
    /// Epoch it ran in (1-based as the trainer counts).
    public var epoch: Int
    /// Mean per-token cross-entropy (nats) on the validation set.
    public var crossEntropy: Double
    /// exp(crossEntropy).
    public var perplexity: Double
    /// BLEU of greedy or beam translations, when computed.
    public var bleu: Double?
    /// Seconds of training elapsed when it ran.
    public var time: Double

    public init(updates: Int, epoch: Int, crossEntropy: Double, perplexity: Double, bleu: Double? = nil, time: Double) {
        self.updates = updates
        self.epoch = epoch
        self.crossEntropy = crossEntropy
        self.perplexity = perplexity
        self.bleu = bleu
        self.time = time
    }
}

/// How far training has come.
public struct TrainingProgress: Codable, Equatable, Sendable {
    /// Current epoch.
    public var epoch: Int = 0
    /// Optimizer updates done.
    public var updates: Int = 0
    /// Target tokens (excluding padding) trained on.
    public var targetTokensSeen: Int = 0
    /// Wall-clock seconds of training, summed over resumed runs.
    public var elapsedSeconds: Double = 0
    /// Every validation so far, oldest first.
    public var validations: [ValidationRecord] = []
    /// The best validation score so far, by `bestMetric`.
    public var bestScore: Double?
    /// Updates at which `bestScore` was reached.
    public var bestUpdates: Int?
    /// What the score is: `cross-entropy` (lower is better) or `bleu` (higher is better).
    public var bestMetric: String?

    public init(epoch: Int = 0, updates: Int = 0, targetTokensSeen: Int = 0, elapsedSeconds: Double = 0,
                validations: [ValidationRecord] = [], bestScore: Double? = nil, bestUpdates: Int? = nil,
                bestMetric: String? = nil) {
        self.epoch = epoch
        self.updates = updates
        self.targetTokensSeen = targetTokensSeen
        self.elapsedSeconds = elapsedSeconds
        self.validations = validations
        self.bestScore = bestScore
        self.bestUpdates = bestUpdates
        self.bestMetric = bestMetric
    }
}

/// A model's source and target languages, as ISO 639-1 codes ("en", "fr").
public struct LanguagePair: Codable, Equatable, Sendable {
    public var source: String
    public var target: String

    public init(source: String, target: String) {
        self.source = source
        self.target = target
    }

    /// "en:fr" → en→fr; nil unless both sides are non-empty.
    public init?(_ text: String) {
        let sides = text.split(separator: ":", omittingEmptySubsequences: false)
        guard sides.count == 2, !sides[0].isEmpty, !sides[1].isEmpty else { return nil }
        self.init(source: sides[0].lowercased(), target: sides[1].lowercased())
    }

    /// The pair that training files' names end in, as Moses-style corpora are named
    /// (`train.en`, `train.fr.gz`); nil unless both end in a different two-letter code.
    public static func fromCorpusPaths(source: String, target: String) -> LanguagePair? {
        func code(_ path: String) -> String? {
            var name = URL(fileURLWithPath: path).lastPathComponent
            if name.hasSuffix(".gz") { name.removeLast(3) }
            guard let dot = name.lastIndex(of: ".") else { return nil }
            let suffix = name[name.index(after: dot)...]
            return suffix.count == 2 && suffix.allSatisfy({ $0.isASCII && $0.isLetter }) ? suffix.lowercased() : nil
        }
        guard let sourceCode = code(source), let targetCode = code(target), sourceCode != targetCode else { return nil }
        return LanguagePair(source: sourceCode, target: targetCode)
    }

    /// "en:fr".
    public var description: String { "\(source):\(target)" }
}

/// Everything in a model file's header: the JSON `metadata` object of an `S2SMODEL` container.
public struct CheckpointMetadata: Codable, Equatable, Sendable {
    /// The network's hyperparameters.
    public var config: ModelConfig
    /// The subword vocabulary, embedded.
    public var vocabulary: EmbeddedVocabulary
    /// How far training has come.
    public var progress: TrainingProgress
    /// The trainer's options, in the trainer's own schema.
    public var trainingOptions: JSONValue
    /// Fingerprint of the training corpus, if the trainer recorded one.
    public var corpusFingerprint: String?
    /// When this file was written, ISO 8601 UTC.
    public var createdAt: String
    /// The s2s version that wrote it.
    public var s2sVersion: String
    /// A random identifier of this write; the matching training-state file repeats it.
    public var checkpointID: String
    /// For an averaged model, the files averaged.
    public var averagedFrom: [String]?
    /// The languages it translates between, when known (from the training files' names).
    public var languages: LanguagePair?

    public init(config: ModelConfig, vocabulary: EmbeddedVocabulary, progress: TrainingProgress = TrainingProgress(),
                trainingOptions: JSONValue = .object([:]), corpusFingerprint: String? = nil,
                s2sVersion: String, createdAt: Date = Date(), checkpointID: String = Fingerprint.randomIdentifier(),
                averagedFrom: [String]? = nil, languages: LanguagePair? = nil) {
        self.config = config
        self.vocabulary = vocabulary
        self.progress = progress
        self.trainingOptions = trainingOptions
        self.corpusFingerprint = corpusFingerprint
        self.createdAt = Self.timestamp(createdAt)
        self.s2sVersion = s2sVersion
        self.checkpointID = checkpointID
        self.averagedFrom = averagedFrom
        self.languages = languages
    }

    /// `date` as ISO 8601 UTC with seconds.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// A model as stored in `model.s2s`: its metadata and every parameter tensor.
///
/// Metadata fields read through: `checkpoint.config`, `checkpoint.progress.updates`.
@dynamicMemberLookup
public struct Checkpoint {
    /// The header fields.
    public var metadata: CheckpointMetadata
    /// Every parameter tensor, by its stable dotted name.
    public var parameters: ParameterStore
    /// The lexical shortlist for `translate --shortlist`, if one was learned (`s2s shortlist`).
    public var shortlist: Shortlist?

    public init(metadata: CheckpointMetadata, parameters: ParameterStore, shortlist: Shortlist? = nil) {
        self.metadata = metadata
        self.parameters = parameters
        self.shortlist = shortlist
    }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<CheckpointMetadata, Value>) -> Value {
        get { metadata[keyPath: keyPath] }
        set { metadata[keyPath: keyPath] = newValue }
    }
}

/// What a caller requires of a model file it opens; each check is skipped when nil.
public struct CheckpointExpectation {
    /// The exact tensors (name, shape) the model code will use, in its order.
    public var layout: [(name: String, shape: [Int])]?
    /// The configuration the caller is about to run with.
    public var config: ModelConfig?
    /// Fingerprint of the vocabulary the caller is using (resuming with `--vocab`).
    public var vocabularyFingerprint: String?
    /// Fingerprint of the corpus the caller is resuming on.
    public var corpusFingerprint: String?

    public init(layout: [(name: String, shape: [Int])]? = nil, config: ModelConfig? = nil,
                vocabularyFingerprint: String? = nil, corpusFingerprint: String? = nil) {
        self.layout = layout
        self.config = config
        self.vocabularyFingerprint = vocabularyFingerprint
        self.corpusFingerprint = corpusFingerprint
    }
}
