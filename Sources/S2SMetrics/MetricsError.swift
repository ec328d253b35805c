/// A metric failure, described in one line that names the file (or stream) and the problem.
public enum MetricsError: Error, CustomStringConvertible, Equatable {
    /// A hypothesis stream and a reference stream do not have the same number of lines.
    case lineCountMismatch(hypothesis: String, hypothesisLines: Int, reference: String, referenceLines: Int)
    /// No reference stream was given.
    case noReferences
    /// An option value sacreBLEU would also reject (for example a negative smoothing value).
    case invalidOption(String)
    /// Confidence intervals and paired tests need at least one segment.
    case emptyCorpus(String)

    public var description: String {
        switch self {
        case let .lineCountMismatch(hypothesis, hypothesisLines, reference, referenceLines):
            return "\(hypothesis) has \(hypothesisLines) lines but reference \(reference) has \(referenceLines) lines; they must match line for line"
        case .noReferences:
            return "no reference given (use -r FILE)"
        case let .invalidOption(message):
            return "invalid option: \(message)"
        case let .emptyCorpus(name):
            return "\(name): no segments to score"
        }
    }
}
