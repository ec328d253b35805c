import S2SDecoding
import S2SService

/// The texts of one request as the lines the model translates: a text of several lines
/// (paragraphs, a list) is split at its line breaks and put back together in the same shape.
struct TextBatch {
    /// Every text's lines, in order.
    let lines: [String]
    /// How many lines each text has.
    private let lineCounts: [Int]

    init(texts: [String]) {
        var lines: [String] = [], counts: [Int] = []
        for text in texts {
            // Split at every "\n" scalar, dropping the "\r" of a CRLF. (Splitting the String by
            // Character would miss "\r\n", one Character, wherever a replacement re-forms it, as
            // in "\r\r\n": the fuzzer found a line holding a line break that way.)
            let split = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { scalars in
                String(String.UnicodeScalarView(scalars.last == "\r" ? scalars.dropLast() : scalars[...]))
            }
            lines += split
            counts.append(split.count)
        }
        self.lines = lines
        lineCounts = counts
    }

    /// The texts again, from one `LineTranslation` per line, taking each line's hypothesis
    /// `rank` (its best when it has fewer), joined with "\n".
    func texts(_ results: [LineTranslation], rank: Int = 0) -> [String] {
        var texts: [String] = [], offset = 0
        for count in lineCounts {
            texts.append(results[offset..<(offset + count)].map { line in
                line.hypotheses[min(rank, line.hypotheses.count - 1)].text
            }.joined(separator: "\n"))
            offset += count
        }
        return texts
    }

    /// Each text's score: the sum over its lines of their best hypothesis's score.
    func scores(_ results: [LineTranslation]) -> [Float] {
        var scores: [Float] = [], offset = 0
        for count in lineCounts {
            scores.append(results[offset..<(offset + count)].reduce(0) { $0 + ($1.hypotheses.first?.score ?? 0) })
            offset += count
        }
        return scores
    }
}
