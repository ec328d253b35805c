/// Turns one sentence into subword ids: the only thing the corpus loader needs from a vocabulary.
///
/// `SubwordVocabulary` conforms; tests use small deterministic encoders. `encode` must be safe to
/// call from several threads at once, since the loader encodes chunks of lines on every core.
public protocol SentenceEncoder: Sendable {
    /// Number of ids the encoder can produce; every id is in `0..<vocabularySize`.
    var vocabularySize: Int { get }
    /// Identifies the vocabulary, so a prepared corpus can refuse to be used with another one.
    var fingerprint: String { get }
    /// The ids of `text`, without `<s>` or `</s>` (the loader appends `</s>` itself).
    func encode(_ text: String) -> [Int32]
}

import S2SSubword

extension SubwordVocabulary: SentenceEncoder {
    public var vocabularySize: Int { size }
}
