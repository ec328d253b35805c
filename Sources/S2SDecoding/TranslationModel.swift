import S2SCheckpoint
import S2SModel
import S2SSubword

/// The network decodes through the StepDecoder interface as it is.
extension Seq2SeqInference: StepDecoder {}

/// Everything translation needs from model files: the networks and the subword codecs.
public struct TranslationModel {
    /// One network per model file, all sharing the target vocabulary; workers get siblings.
    public var networks: [Seq2SeqInference]
    /// The vocabulary of the first model, which encodes and decodes for all of them.
    public var vocabulary: SubwordVocabulary
    /// The first model's languages, when its file records them.
    public var languages: LanguagePair?
    /// Source text → source pieces, without `</s>` (the Translator appends it).
    public var encode: (String) -> [Int32] { { [vocabulary] in vocabulary.encode($0) } }
    /// Target pieces (no `</s>`) → detokenized text.
    public var decode: ([Int32]) -> String { { [vocabulary] in vocabulary.decode($0) } }
    /// Piece ids → their strings (attention plot labels).
    public var pieceStrings: ([Int32]) -> [String] { { [vocabulary] in $0.map { vocabulary.piece(for: $0) } } }

    /// Loads model files (several for an ensemble; all must share the first one's
    /// vocabulary). Each network's matrices are packed once, for all workers; with `int8`, the
    /// decoder step's matrices are quantized to 8 bits instead (`Int8Weights`). With
    /// `shortlist`, every network decodes over the first model's lexical shortlist.
    public init(paths: [String], int8: Bool = false, shortlist: Bool = false) throws {
        guard let first = paths.first else { throw TranslationModelError.noModel }
        var networks: [Seq2SeqInference] = []
        var vocabulary: SubwordVocabulary?
        var firstFingerprint = ""
        var firstShortlist: Shortlist?
        var languages: LanguagePair?
        for path in paths {
            let checkpoint = try CheckpointIO.read(from: path)
            if vocabulary == nil {
                vocabulary = try SubwordVocabulary(serialized: checkpoint.vocabulary.text, name: path)
                firstFingerprint = checkpoint.vocabulary.fingerprint
                firstShortlist = checkpoint.shortlist
                languages = checkpoint.metadata.languages
            } else if checkpoint.vocabulary.fingerprint != firstFingerprint {
                throw TranslationModelError.vocabularyMismatch(path: path, firstPath: first)
            }
            networks.append(try Seq2SeqInference(config: checkpoint.config, parameters: checkpoint.parameters, int8: int8))
        }
        if shortlist {
            guard let list = firstShortlist else { throw TranslationModelError.noShortlist(path: first) }
            for network in networks { network.shortlist = list }
        }
        self.networks = networks
        self.vocabulary = vocabulary!
        self.languages = languages
    }

    /// A decoder over the networks (an ensemble when there are several). Each call makes a new
    /// one with its own state, sharing the parameters and their packed copies, so parallel
    /// workers each get their own.
    public func makeDecoder() throws -> StepDecoder {
        let members: [StepDecoder] = networks.map { $0.makeSibling() }
        return members.count == 1 ? members[0] : try EnsembleDecoder(members: members)
    }
}

/// Model files that cannot be translated with together.
public enum TranslationModelError: Error, CustomStringConvertible, Equatable {
    /// No model file was given.
    case noModel
    /// A model whose vocabulary differs from the first model's, in an ensemble.
    case vocabularyMismatch(path: String, firstPath: String)
    /// `--shortlist` with a model that has none.
    case noShortlist(path: String)

    public var description: String {
        switch self {
        case .noModel: return "no model file given"
        case let .vocabularyMismatch(path, firstPath):
            return "\(path): its vocabulary differs from \(firstPath)'s; an ensemble needs one shared vocabulary"
        case let .noShortlist(path):
            return "\(path) has no shortlist: learn one with `s2s shortlist SRC TGT -m \(path) -o OUT.s2s`"
        }
    }
}
