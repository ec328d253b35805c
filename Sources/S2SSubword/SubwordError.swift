/// A failure while learning, reading or applying a subword vocabulary, described in one line
/// that names the file (and line, where one applies) and the problem.
public enum SubwordError: Error, CustomStringConvertible, Equatable {
    /// The vocabulary file is not an s2s vocabulary or is damaged at `line` (1-based).
    case corruptVocabulary(path: String, line: Int, reason: String)
    /// The training files held no words at all.
    case emptyCorpus(paths: [String])
    /// The requested size cannot hold the reserved symbols, the 256 byte pieces and `▁`.
    case sizeTooSmall(requested: Int, minimum: Int)
    /// An option outside its domain, e.g. a character coverage above 1.
    case invalidOption(String)
    /// Text given to `decode` names a piece or id the vocabulary does not have.
    case unknownPiece(path: String, line: Int, piece: String)

    public var description: String {
        switch self {
        case let .corruptVocabulary(path, line, reason):
            return "\(path):\(line): not a valid s2s vocabulary: \(reason)"
        case let .emptyCorpus(paths):
            return "\(paths.joined(separator: ", ")): no text to learn a vocabulary from"
        case let .sizeTooSmall(requested, minimum):
            return "vocabulary size \(requested) is too small: 4 reserved symbols + 256 byte pieces + '▁' need at least \(minimum)"
        case let .invalidOption(message):
            return message
        case let .unknownPiece(path, line, piece):
            return "\(path):\(line): unknown piece or id '\(piece)'"
        }
    }
}
