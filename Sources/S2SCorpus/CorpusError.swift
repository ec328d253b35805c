import S2SIO

/// A corpus-level failure, described in one line that names the file (and line, where one applies).
public enum CorpusError: Error, CustomStringConvertible, Equatable {
    /// The two sides of a bitext have different line counts: `shorter` ended after `lastLine` lines.
    case lineCountMismatch(shorter: String, longer: String, lastLine: Int)
    /// A line of a tab-separated bitext has no tab.
    case missingTab(path: String, line: Int)
    /// An option value that makes no sense (for example a batch budget of zero).
    case invalidOption(String)
    /// The corpus holds no pairs (`read` of them were read, all filtered out), so there is
    /// nothing to batch.
    case noPairs(source: String, read: Int)
    /// A prepared corpus was made with another vocabulary than the one given.
    case vocabularyMismatch(path: String, stored: String, expected: String)
    /// A prepared corpus whose arrays are inconsistent (written by something else, or damaged).
    case malformedPrepared(path: String, reason: String)
    /// A saved batch position does not belong to this corpus or these batching options.
    case positionMismatch(reason: String)

    public var description: String {
        switch self {
        case let .lineCountMismatch(shorter, longer, lastLine):
            return "\(shorter) ended at line \(formatCount(lastLine)); \(longer) continues "
                + "(the two sides of a bitext must have the same number of lines)"
        case let .missingTab(path, line):
            return "\(path):\(line): no tab: expected 'source<TAB>target'"
        case let .invalidOption(reason):
            return reason
        case let .noPairs(source, read):
            return read == 0 ? "\(source): no sentence pairs"
                             : "\(source): no sentence pairs left after filtering (\(formatCount(read)) read)"
        case let .vocabularyMismatch(path, stored, expected):
            return "\(path): prepared with another vocabulary (fingerprint \(stored), "
                + "vocabulary given has \(expected)); run 's2s prepare' again"
        case let .malformedPrepared(path, reason):
            return "\(path): not a valid prepared corpus: \(reason)"
        case let .positionMismatch(reason):
            return "cannot resume batching: \(reason)"
        }
    }
}
