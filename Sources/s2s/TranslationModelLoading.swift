import S2SCheckpoint
import S2SDecoding
import S2SModel
import S2SSubword
import S2STensor

/// Everything `s2s translate` needs from model files: the networks and the subword codecs.
struct TranslationModel {
    /// One decoder per `--model`, all sharing the target vocabulary; workers get siblings.
    var networks: [Seq2SeqInference]
    /// Source text → source pieces, without `</s>` (the Translator appends it).
    var encode: (String) -> [Int32]
    /// Target pieces (no `</s>`) → detokenized text.
    var decode: ([Int32]) -> String
    /// Source piece ids → their strings (attention plot labels).
    var sourcePieceStrings: ([Int32]) -> [String]
    /// Target piece ids → their strings (attention plot labels).
    var targetPieceStrings: ([Int32]) -> [String]

    /// A decoder over the networks (an ensemble when there are several). Each call makes a new
    /// one with its own state, sharing the parameters and their packed copies, so parallel
    /// workers each get their own.
    func makeDecoder() throws -> StepDecoder {
        let members: [StepDecoder] = networks.map { $0.makeSibling() }
        return members.count == 1 ? members[0] : try EnsembleDecoder(members: members)
    }
}

/// A model file whose vocabulary differs from the first model's, in an ensemble.
struct EnsembleVocabularyMismatch: Error, CustomStringConvertible {
    let path: String
    let firstPath: String
    var description: String { "\(path): its vocabulary differs from \(firstPath)'s; an ensemble needs one shared vocabulary" }
}

/// Loads the model files given to `translate` (several for an ensemble; all must share the
/// first one's vocabulary, which encodes and decodes).
func loadTranslationModels(paths: [String]) throws -> TranslationModel {
    var networks: [Seq2SeqInference] = []
    var vocabulary: SubwordVocabulary?
    var firstFingerprint = ""
    for path in paths {
        let checkpoint = try CheckpointIO.read(from: path)
        if vocabulary == nil {
            vocabulary = try SubwordVocabulary(serialized: checkpoint.vocabulary.text, name: path)
            firstFingerprint = checkpoint.vocabulary.fingerprint
        } else if checkpoint.vocabulary.fingerprint != firstFingerprint {
            throw EnsembleVocabularyMismatch(path: path, firstPath: paths[0])
        }
        // Checks the shapes, and packs the matrices once for all workers.
        networks.append(try Seq2SeqInference(config: checkpoint.config, parameters: checkpoint.parameters))
    }
    guard let vocabulary else { throw EnsembleVocabularyMismatch(path: "", firstPath: "") }
    return TranslationModel(
        networks: networks,
        encode: { vocabulary.encode($0) },
        decode: { vocabulary.decode($0) },
        sourcePieceStrings: { $0.map { vocabulary.piece(for: $0) } },
        targetPieceStrings: { $0.map { vocabulary.piece(for: $0) } })
}
