import S2SModel

/// Everything `s2s translate` needs from model files: the networks and the subword codecs.
struct TranslationModel {
    /// One decoder per `--model`, all sharing the target vocabulary.
    var decoders: [StepDecoder]
    /// Source text → source pieces, without `</s>` (the Translator appends it).
    var encode: (String) -> [Int32]
    /// Target pieces (no `</s>`) → detokenized text.
    var decode: ([Int32]) -> String
    /// Source piece ids → their strings (attention plot labels).
    var sourcePieceStrings: ([Int32]) -> [String]
    /// Target piece ids → their strings (attention plot labels).
    var targetPieceStrings: ([Int32]) -> [String]
}

/// Raised until the checkpoint reader is wired in.
struct ModelLoadingPending: Error, CustomStringConvertible {
    let path: String
    var description: String { "\(path): model loading is being merged (S2SCheckpoint is not wired into translate yet)" }
}

/// Loads the model files given to `translate` (several for an ensemble; the first one's
/// vocabularies are used for encode/decode).
/// TODO(lead, at merge): open each file with S2SCheckpoint, build its StepDecoder, and take
/// encode/decode/piece strings from the model's S2SSubword vocabularies.
func loadTranslationModels(paths: [String]) throws -> TranslationModel {
    throw ModelLoadingPending(path: paths.first ?? "")
}
