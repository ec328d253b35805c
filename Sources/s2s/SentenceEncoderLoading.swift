import S2SCorpus

/// Loads the subword vocabulary at `path` as the corpus loader's encoder.
///
/// The one place the CLI turns `-v FILE` into a `SentenceEncoder`; it becomes
/// `try SubwordVocabulary(contentsOfFile: path)` once S2SSubword provides it.
func loadSentenceEncoder(path: String) throws -> any SentenceEncoder {
    throw CorpusCommandError.vocabularyNotAvailable(path: path)
}

/// Failures of the corpus commands that are not the libraries' own.
enum CorpusCommandError: Error, CustomStringConvertible {
    case vocabularyNotAvailable(path: String)
    case trainingNotAvailable

    var description: String {
        switch self {
        case let .vocabularyNotAvailable(path):
            return "\(path): cannot load: subword vocabulary support is being merged into this build"
        case .trainingNotAvailable:
            return "training is not available yet in this build (use --dry-run to check and batch the data)"
        }
    }
}
