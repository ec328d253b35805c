/// Formats a line's translation for stdout, Moses/Marian style. Fields are joined by ` ||| `.
///
/// - 1-best: `translation`, then ` ||| alignment` with `--alignment`, then ` ||| score` with
///   `--scores`.
/// - n-best: one line per hypothesis, `id ||| translation ||| score` (with
///   `||| alignment` before the score when asked), id = 0-based input line number, best first.
public struct TranslationFormatter: Sendable, Equatable {
    /// Print every hypothesis of the n-best list.
    public var nBest: Bool
    /// Append the score to 1-best output.
    public var scores: Bool
    /// Append hard alignments (`AlignmentPrinter`).
    public var alignment: Bool

    public init(nBest: Bool = false, scores: Bool = false, alignment: Bool = false) {
        self.nBest = nBest
        self.scores = scores
        self.alignment = alignment
    }

    /// The output text for `line`, one or more lines each ending in `\n`.
    public func format(_ line: LineTranslation) -> String {
        if nBest {
            var out = ""
            for hypothesis in line.hypotheses {
                var fields = [String(line.index), hypothesis.text]
                if alignment { fields.append(AlignmentPrinter.format(hypothesis.attention)) }
                fields.append(Self.formatScore(hypothesis.score))
                out += fields.joined(separator: " ||| ") + "\n"
            }
            return out
        }
        let best = line.hypotheses.first ?? LineHypothesis(text: "", tokens: [], score: 0, attention: [])
        var fields = [best.text]
        if alignment { fields.append(AlignmentPrinter.format(best.attention)) }
        if scores { fields.append(Self.formatScore(best.score)) }
        return fields.joined(separator: " ||| ") + "\n"
    }

    /// A score with six decimals (`-1.234568`), `-inf` when nothing could be produced.
    public static func formatScore(_ score: Float) -> String {
        guard score.isFinite else { return score.isNaN ? "nan" : (score < 0 ? "-inf" : "inf") }
        let micro = (Double(score) * 1_000_000).rounded()
        let sign = micro < 0 ? "-" : ""
        let magnitude = Int64(abs(micro))
        let fraction = String(magnitude % 1_000_000)
        return "\(sign)\(magnitude / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }
}
