import S2SCorpus
import S2SSubword

/// Loads the subword vocabulary at `path` (`-v FILE`) as the corpus loader's encoder.
func loadSentenceEncoder(path: String) throws -> any SentenceEncoder {
    try SubwordVocabulary(contentsOfFile: path)
}
