/// Hard word alignments read off attention: each target piece is aligned to the source piece
/// it attended to most (argmax of α; first maximum on ties).
///
/// Indices are 0-based piece indices (source piece, target piece), `</s>` excluded on both
/// sides, printed as Moses/fast_align pairs `i-j` ordered by target piece: `0-0 2-1 1-2`.
public enum AlignmentPrinter {
    /// (source piece, target piece) pairs for `attention[j][i]` (target × source).
    public static func hardAlignment(_ attention: [[Float]]) -> [(source: Int, target: Int)] {
        attention.enumerated().compactMap { target, row in
            guard !row.isEmpty else { return nil }
            var best = 0
            for i in row.indices where row[i] > row[best] { best = i }
            return (source: best, target: target)
        }
    }

    /// The alignment as one line, `i-j` pairs separated by spaces (empty for no pieces).
    public static func format(_ attention: [[Float]]) -> String {
        hardAlignment(attention).map { "\($0.source)-\($0.target)" }.joined(separator: " ")
    }
}
