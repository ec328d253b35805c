import Foundation

/// The sacreBLEU release whose numbers, signatures and output format s2s reproduces; the
/// fixtures in Tests/S2SMetricsTests/Fixtures were generated with this version.
public enum SacreBLEUCompatibility {
    public static let version = "2.6.0"
}

/// A reproducibility signature as sacreBLEU prints it: `key:value` pairs joined by `|`, in
/// sacreBLEU's order (nrefs, bootstrap settings, metric settings, version last).
public struct MetricSignature: Equatable, Sendable, CustomStringConvertible {
    /// The pairs in print order.
    public var entries: [(key: String, value: String)]

    public init(entries: [(key: String, value: String)]) { self.entries = entries }

    public var description: String { entries.map { "\($0.key):\($0.value)" }.joined(separator: "|") }

    /// The signature with bootstrap settings (`bs:1000|seed:12345`) after `nrefs`, as sacreBLEU
    /// records them when it reports a confidence interval or runs a paired test.
    public func addingBootstrap(samples: Int, seed: UInt64) -> MetricSignature {
        var copy = self
        copy.entries.insert(contentsOf: [("bs", String(samples)), ("seed", String(seed))],
                            at: min(1, copy.entries.count))
        return copy
    }

    public static func == (lhs: MetricSignature, rhs: MetricSignature) -> Bool {
        lhs.description == rhs.description
    }
}

/// A bootstrap estimate of a corpus score: the mean over resamples and the half-width of the
/// 95% interval (sacreBLEU's `μ = mean ± halfWidth`).
public struct ConfidenceInterval: Equatable, Sendable {
    public var mean: Double
    public var halfWidth: Double
    public init(mean: Double, halfWidth: Double) { self.mean = mean; self.halfWidth = halfWidth }
}

/// Formatting shared by BLEU and chrF scores, matching sacreBLEU's `Score.format`.
enum ScoreFormatting {
    /// `value` with `digits` decimals, rounded like Python's `f"{value:.{digits}f}"`.
    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    /// The one-line text form: `NAME|signature = score [(μ = m ± h)] [verbose]`.
    static func line(name: String, score: Double, signature: MetricSignature, verbose: String,
                     confidence: ConfidenceInterval?, width: Int, scoreOnly: Bool) -> String {
        var scoreText = fixed(score, width)
        if let confidence, confidence.mean > 0 {
            scoreText += " (μ = \(fixed(confidence.mean, width)) ± \(fixed(confidence.halfWidth, width)))"
        }
        if scoreOnly { return scoreText }
        var line = "\(name)|\(signature) = \(scoreText)"
        if !verbose.isEmpty { line += " " + verbose }
        return line
    }

    /// The JSON form sacreBLEU prints with `-f json` (one-space indentation, same keys and order).
    static func json(name: String, score: Double, signature: MetricSignature, verbose: String,
                     confidence: ConfidenceInterval?, width: Int) -> String {
        var fields: [(String, String)] = [
            ("name", quoted(name)),
            ("score", pythonFloat(Double(fixed(score, width))!)),
            ("signature", quoted(signature.description)),
        ]
        if let confidence, confidence.mean > 0 {
            let mean = fixed(confidence.mean, width), half = fixed(confidence.halfWidth, width)
            fields.append(("confidence_mean", pythonFloat(Double(mean)!)))
            fields.append(("confidence_var", pythonFloat(Double(half)!)))
            fields.append(("confidence", quoted("μ = \(mean) ± \(half)")))
        }
        if !verbose.isEmpty { fields.append(("verbose_score", quoted(verbose))) }
        for entry in signature.entries { fields.append((entry.key, quoted(entry.value))) }
        return "{\n" + fields.map { " \(quoted($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}"
    }

    /// A Double as Python's `repr` writes it for ordinary magnitudes (`84.6`, `0.0`).
    static func pythonFloat(_ value: Double) -> String { value.description }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

/// Runs `body` over the UTF-8 bytes of `text` without copying native strings.
@inline(__always)
func withUTF8Bytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
    var copy = text
    return copy.withUTF8(body)
}

/// Splits `count` segments into contiguous chunks and runs `body(range)` for each, on up to
/// `threads` cores. Each chunk writes only its own slots of the caller's output.
func forEachChunk(count: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
    let workers = max(1, min(threads, count / 512))
    if workers == 1 { body(0..<count); return }
    let chunk = (count + workers - 1) / workers
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        let start = worker * chunk
        body(start..<min(count, start + chunk))
    }
}

/// Something that turns one hypothesis and its references into sufficient statistics, keeping
/// reusable scratch space between calls (so each thread needs its own).
protocol SegmentStatisticsExtractor {
    associatedtype Statistics
    mutating func statistics(hypothesis: String, references: [String]) -> Statistics
}

/// The statistics of every segment (`references[set][line]`), on up to `threads` cores, each
/// chunk with its own extractor from `makeExtractor`; `empty` fills the slots before they are
/// computed.
func segmentStatistics<Extractor: SegmentStatisticsExtractor>(
    hypotheses: [String], references: [[String]], threads: Int, empty: Extractor.Statistics,
    makeExtractor: @escaping @Sendable () -> Extractor
) -> [Extractor.Statistics] {
    var result = [Extractor.Statistics](repeating: empty, count: hypotheses.count)
    result.withUnsafeMutableBufferPointer { output in
        nonisolated(unsafe) let output = output
        forEachChunk(count: hypotheses.count, threads: threads) { range in
            var extractor = makeExtractor()
            var referenceLines: [String] = []
            for line in range {
                referenceLines.removeAll(keepingCapacity: true)
                for set in references { referenceLines.append(set[line]) }
                output[line] = extractor.statistics(hypothesis: hypotheses[line], references: referenceLines)
            }
        }
    }
    return result
}

/// The default number of threads for statistics: the machine's cores, at most 2.
public let defaultMetricThreads = max(1, min(2, ProcessInfo.processInfo.activeProcessorCount))
