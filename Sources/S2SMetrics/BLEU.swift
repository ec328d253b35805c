import Foundation

/// How BLEU treats an n-gram order with no matches (Chen & Cherry 2014 numbering).
public enum BLEUSmoothing: String, CaseIterable, Sendable {
    /// No smoothing: a zero precision makes the score 0.
    case none
    /// Method 1: a zero count becomes `smoothValue` (default 0.1).
    case floor
    /// Method 2: add `smoothValue` (default 1) to matches and totals of orders 2 and up.
    case addK = "add-k"
    /// Method 3, NIST/mteval-v13a: the k-th zero precision becomes 1 / (2^k · total). Default.
    case exp

    /// sacreBLEU's default smoothing value for this method (nil when it takes none).
    public var defaultValue: Double? {
        switch self {
        case .none, .exp: return nil
        case .floor: return 0.1
        case .addK: return 1
        }
    }
}

/// Settings of a BLEU computation; the defaults are sacreBLEU 2.x's.
public struct BLEUOptions: Sendable {
    public var tokenizer: TokenizerKind
    public var lowercase: Bool
    public var smoothing: BLEUSmoothing
    /// The value for `floor`/`add-k`; nil uses the method's default.
    public var smoothValue: Double?
    /// Average only over n-gram orders that have n-grams (sacreBLEU uses it for sentence BLEU).
    public var effectiveOrder: Bool
    /// Threads for extracting segment statistics.
    public var threads: Int

    public init(tokenizer: TokenizerKind = .thirteenA, lowercase: Bool = false, smoothing: BLEUSmoothing = .exp,
                smoothValue: Double? = nil, effectiveOrder: Bool = false, threads: Int = defaultMetricThreads) {
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.smoothing = smoothing
        self.smoothValue = smoothValue
        self.effectiveOrder = effectiveOrder
        self.threads = threads
    }

    /// The signature for `referenceCount` reference streams.
    public func signature(referenceCount: Int) -> MetricSignature {
        var smooth = smoothing.rawValue
        if let defaultValue = smoothing.defaultValue {
            smooth += "[\(ScoreFormatting.fixed(smoothValue ?? defaultValue, 2))]"
        }
        return MetricSignature(entries: [
            ("nrefs", String(referenceCount)),
            ("case", lowercase ? "lc" : "mixed"),
            ("eff", effectiveOrder ? "yes" : "no"),
            ("tok", tokenizer.rawValue),
            ("smooth", smooth),
            ("version", SacreBLEUCompatibility.version),
        ])
    }
}

/// The sufficient statistics of BLEU for one segment or, summed, for a corpus.
public struct BLEUStatistics: Equatable, Sendable {
    /// Hypothesis length in tokens.
    public var hypothesisLength: Int
    /// The closest reference length (ties to the shorter).
    public var referenceLength: Int
    /// Clipped n-gram matches for n = 1…4.
    public var matches: [Int]
    /// Hypothesis n-gram counts for n = 1…4.
    public var totals: [Int]

    public init(hypothesisLength: Int = 0, referenceLength: Int = 0,
                matches: [Int] = [0, 0, 0, 0], totals: [Int] = [0, 0, 0, 0]) {
        self.hypothesisLength = hypothesisLength
        self.referenceLength = referenceLength
        self.matches = matches
        self.totals = totals
    }

    /// The statistics as sacreBLEU's flat vector `[hyp_len, ref_len, matches…, totals…]`.
    public var flat: [Int] { [hypothesisLength, referenceLength] + matches + totals }

    public static func + (lhs: BLEUStatistics, rhs: BLEUStatistics) -> BLEUStatistics {
        var sum = lhs
        sum += rhs
        return sum
    }

    public static func += (lhs: inout BLEUStatistics, rhs: BLEUStatistics) {
        lhs.hypothesisLength += rhs.hypothesisLength
        lhs.referenceLength += rhs.referenceLength
        for order in 0..<BLEU.maxOrder {
            lhs.matches[order] += rhs.matches[order]
            lhs.totals[order] += rhs.totals[order]
        }
    }
}

/// A BLEU score with the numbers sacreBLEU prints next to it.
public struct BLEUScore: Sendable, CustomStringConvertible {
    /// BLEU in [0, 100].
    public var score: Double
    /// Clipped matches and totals per order (as counted, before any add-k smoothing).
    public var matches: [Int]
    public var totals: [Int]
    /// Smoothed n-gram precisions in percent, n = 1…4.
    public var precisions: [Double]
    public var brevityPenalty: Double
    /// hypothesisLength / referenceLength (0 when the reference is empty).
    public var ratio: Double
    public var hypothesisLength: Int
    public var referenceLength: Int
    public var signature: MetricSignature
    /// Set by bootstrap resampling (`--confidence`).
    public var confidence: ConfidenceInterval?

    /// sacreBLEU's details: `65.2/41.0/27.7/19.2 (BP = 1.000 ratio = 1.010 hyp_len = 9 ref_len = 9)`.
    public var verbose: String {
        let precisionText = precisions.map { ScoreFormatting.fixed($0, 1) }.joined(separator: "/")
        return "\(precisionText) (BP = \(ScoreFormatting.fixed(brevityPenalty, 3)) "
            + "ratio = \(ScoreFormatting.fixed(ratio, 3)) hyp_len = \(hypothesisLength) ref_len = \(referenceLength))"
    }

    /// The line sacreBLEU prints: `BLEU|nrefs:1|…|version:2.6.0 = 34.28 65.2/41.0/27.7/19.2 (BP = …)`.
    public func formatted(width: Int = 2, scoreOnly: Bool = false) -> String {
        ScoreFormatting.line(name: "BLEU", score: score, signature: signature, verbose: verbose,
                             confidence: confidence, width: width, scoreOnly: scoreOnly)
    }

    /// sacreBLEU's JSON form of the score.
    public func json(width: Int = 2) -> String {
        ScoreFormatting.json(name: "BLEU", score: score, signature: signature, verbose: verbose,
                             confidence: confidence, width: width)
    }

    public var description: String { formatted() }
}

/// Corpus and sentence BLEU (Papineni et al. 2002), identical to sacreBLEU 2.x, in three
/// separate steps: per-segment sufficient statistics, their sum, and a pure `computeBLEU`.
public enum BLEU {
    /// The largest n-gram order.
    public static let maxOrder = 4

    /// Corpus BLEU of `hypotheses` against reference sets `references[set][line]`.
    public static func corpusScore(hypotheses: [String], references: [[String]],
                                   options: BLEUOptions = BLEUOptions()) throws -> BLEUScore {
        let segments = try segmentStatistics(hypotheses: hypotheses, references: references, options: options)
        return computeBLEU(sum(segments), options: options, referenceCount: references.count)
    }

    /// BLEU of each line on its own (sacreBLEU `--sentence-level`); pass `effectiveOrder: true`
    /// in `options` to match sacreBLEU's command line, which always does.
    public static func sentenceScores(hypotheses: [String], references: [[String]],
                                      options: BLEUOptions) throws -> [BLEUScore] {
        try segmentStatistics(hypotheses: hypotheses, references: references, options: options)
            .map { computeBLEU($0, options: options, referenceCount: references.count) }
    }

    /// The sum of segment statistics.
    public static func sum(_ segments: [BLEUStatistics]) -> BLEUStatistics {
        var total = BLEUStatistics()
        for segment in segments { total += segment }
        return total
    }

    /// The statistics of every segment, computed on `options.threads` cores.
    /// Throws when a reference set does not have one line per hypothesis.
    public static func segmentStatistics(hypotheses: [String], references: [[String]],
                                         options: BLEUOptions) throws -> [BLEUStatistics] {
        try checkLineCounts(hypotheses: hypotheses, references: references)
        return S2SMetrics.segmentStatistics(hypotheses: hypotheses, references: references, threads: options.threads,
                                            empty: BLEUStatistics()) { BLEUStatisticsExtractor(options: options) }
    }

    /// sacreBLEU's `log` that maps 0 to a huge negative number instead of −∞.
    @inline(__always)
    static func flooredLog(_ value: Double) -> Double { value == 0 ? -9_999_999_999 : Foundation.log(value) }

    /// BLEU from (summed) statistics: smoothed geometric mean of n-gram precisions times the
    /// brevity penalty. A pure function; the arithmetic follows sacreBLEU's `compute_bleu` step
    /// for step so results agree to the last bits.
    public static func computeBLEU(_ statistics: BLEUStatistics, options: BLEUOptions = BLEUOptions(),
                                   referenceCount: Int = 1) -> BLEUScore {
        let hypothesisLength = statistics.hypothesisLength, referenceLength = statistics.referenceLength
        let smoothValue = options.smoothValue ?? options.smoothing.defaultValue ?? 0
        var brevityPenalty = 1.0
        if hypothesisLength < referenceLength {
            brevityPenalty = hypothesisLength > 0
                ? exp(1 - Double(referenceLength) / Double(hypothesisLength)) : 0
        }
        var score = BLEUScore(
            score: 0, matches: statistics.matches, totals: statistics.totals,
            precisions: [Double](repeating: 0, count: maxOrder), brevityPenalty: brevityPenalty,
            ratio: referenceLength > 0 ? Double(hypothesisLength) / Double(referenceLength) : 0,
            hypothesisLength: hypothesisLength, referenceLength: referenceLength,
            signature: options.signature(referenceCount: referenceCount), confidence: nil)
        guard statistics.matches.contains(where: { $0 != 0 }) else { return score }

        var exponentialFactor = 1.0
        var effectiveOrder = maxOrder
        for order in 1...maxOrder {
            var matches = Double(statistics.matches[order - 1])
            var total = Double(statistics.totals[order - 1])
            if options.smoothing == .addK && order > 1 {
                matches += smoothValue
                total += smoothValue
            }
            if total == 0 { break }
            if options.effectiveOrder { effectiveOrder = order }
            if matches == 0 {
                if options.smoothing == .exp {
                    exponentialFactor *= 2
                    score.precisions[order - 1] = 100 / (exponentialFactor * total)
                } else if options.smoothing == .floor {
                    score.precisions[order - 1] = 100 * smoothValue / total
                }
            } else {
                score.precisions[order - 1] = 100 * matches / total
            }
        }
        var logSum = 0.0
        for order in 0..<effectiveOrder { logSum += flooredLog(score.precisions[order]) }
        score.score = brevityPenalty * exp(logSum / Double(effectiveOrder))
        return score
    }

    /// Throws `MetricsError.lineCountMismatch` (naming the streams and their line counts) unless every
    /// reference set has one line per hypothesis, and `.noReferences` when there is none.
    public static func checkLineCounts(hypotheses: [String], references: [[String]],
                                hypothesisName: String = "hypothesis",
                                referenceNames: [String]? = nil) throws {
        guard !references.isEmpty else { throw MetricsError.noReferences }
        for (index, set) in references.enumerated() where set.count != hypotheses.count {
            throw MetricsError.lineCountMismatch(
                hypothesis: hypothesisName, hypothesisLines: hypotheses.count,
                reference: referenceNames?[index] ?? "#\(index + 1)", referenceLines: set.count)
        }
    }
}

/// Extracts BLEU statistics segment by segment, reusing all its buffers across segments.
struct BLEUStatisticsExtractor: SegmentStatisticsExtractor {
    let tokenizer: any BLEUTokenizer
    let lowercase: Bool
    private var text = TokenizedText()
    private var lowered: [UInt8] = []
    private var tokenIds: [UInt32] = []
    private var interner = TokenInterner()
    private let indexer = NGramIndexer()
    /// Per n-gram id: count in the current reference, max over references, count in the hypothesis.
    private var referenceCount: [Int32] = []
    private var referenceMax: [Int32] = []
    private var hypothesisCount: [Int32] = []
    private var ngramIds: [UInt32] = []

    init(options: BLEUOptions) {
        tokenizer = options.tokenizer.makeTokenizer()
        lowercase = options.lowercase
    }

    /// Lowercases (if asked), right-strips and tokenizes `line`, appending its tokens to `text`.
    private mutating func appendTokens(of line: String) {
        withUTF8Bytes(line) { bytes in
            if lowercase {
                PythonText.lowercase(bytes, into: &lowered)
                lowered.withUnsafeBufferPointer { loweredBytes in
                    let kept = PythonText.rstrippedCount(loweredBytes)
                    tokenizer.tokenize(UnsafeBufferPointer(rebasing: loweredBytes[0..<kept]), into: &text)
                }
            } else {
                let kept = PythonText.rstrippedCount(bytes)
                tokenizer.tokenize(UnsafeBufferPointer(rebasing: bytes[0..<kept]), into: &text)
            }
        }
    }

    @inline(__always)
    private mutating func ensureCapacity(_ id: UInt32) {
        if Int(id) >= referenceCount.count {
            let newCount = max(64, referenceCount.count * 2, Int(id) + 1)
            let extra = newCount - referenceCount.count
            referenceCount.append(contentsOf: repeatElement(0, count: extra))
            referenceMax.append(contentsOf: repeatElement(0, count: extra))
            hypothesisCount.append(contentsOf: repeatElement(0, count: extra))
        }
    }

    /// The statistics of one hypothesis against its references.
    mutating func statistics(hypothesis: String, references: [String]) -> BLEUStatistics {
        text.removeAll()
        var tokenBounds: [Int] = [0]
        for reference in references {
            appendTokens(of: reference)
            tokenBounds.append(text.tokens.count)
        }
        appendTokens(of: hypothesis)
        tokenBounds.append(text.tokens.count)

        interner.reset()
        indexer.reset()
        tokenIds.removeAll(keepingCapacity: true)
        text.bytes.withUnsafeBufferPointer { bytes in
            for range in text.tokens { tokenIds.append(interner.id(bytes, range)) }
        }

        // Give every n-gram of the segment its id first, so the counting below can run over
        // fixed-size buffers: ids[position * maxOrder + order], or .max where the n-gram would
        // run past the end of its line.
        let maxOrder = BLEU.maxOrder
        ngramIds.removeAll(keepingCapacity: true)
        for line in 0...references.count {
            let start = tokenBounds[line], end = tokenBounds[line + 1]
            for position in start..<end {
                var prefix = NGramIndexer.chainStart
                for order in 0..<maxOrder {
                    if position + order < end {
                        prefix = indexer.id(prefix: prefix, unit: tokenIds[position + order])
                        ngramIds.append(prefix)
                    } else {
                        ngramIds.append(.max)
                    }
                }
            }
        }
        ensureCapacity(UInt32(indexer.count))

        var statistics = BLEUStatistics()
        var referenceLengths: [Int] = []
        let hypothesisStart = tokenBounds[references.count], hypothesisEnd = tokenBounds[references.count + 1]
        statistics.hypothesisLength = hypothesisEnd - hypothesisStart
        // Move the buffers into locals so the closures below do not overlap accesses to self.
        var referenceCountBuffer: [Int32] = [], referenceMaxBuffer: [Int32] = []
        var hypothesisCountBuffer: [Int32] = [], ngramIdBuffer: [UInt32] = []
        swap(&referenceCountBuffer, &referenceCount)
        swap(&referenceMaxBuffer, &referenceMax)
        swap(&hypothesisCountBuffer, &hypothesisCount)
        swap(&ngramIdBuffer, &ngramIds)
        defer {
            swap(&referenceCountBuffer, &referenceCount)
            swap(&referenceMaxBuffer, &referenceMax)
            swap(&hypothesisCountBuffer, &hypothesisCount)
            swap(&ngramIdBuffer, &ngramIds)
        }
        let ngramCount = indexer.count
        ngramIdBuffer.withUnsafeBufferPointer { ids in
        referenceCountBuffer.withUnsafeMutableBufferPointer { referenceCount in
        referenceMaxBuffer.withUnsafeMutableBufferPointer { referenceMax in
        hypothesisCountBuffer.withUnsafeMutableBufferPointer { hypothesisCount in
            // References: the maximum count of every n-gram over all references.
            for set in 0..<references.count {
                let start = tokenBounds[set], end = tokenBounds[set + 1]
                referenceLengths.append(end - start)
                let slots = (start * maxOrder)..<(end * maxOrder)
                for slot in slots where ids[slot] != .max { referenceCount[Int(ids[slot])] += 1 }
                for slot in slots where ids[slot] != .max {
                    let index = Int(ids[slot])
                    if referenceCount[index] > referenceMax[index] { referenceMax[index] = referenceCount[index] }
                }
                for slot in slots where ids[slot] != .max { referenceCount[Int(ids[slot])] = 0 }
            }
            // Hypothesis: count its n-grams, then clip by the reference maxima.
            for slot in (hypothesisStart * maxOrder)..<(hypothesisEnd * maxOrder) where ids[slot] != .max {
                let index = Int(ids[slot])
                hypothesisCount[index] += 1
                // The slot's position within its group of four is the n-gram's order.
                statistics.totals[slot % maxOrder] += 1
            }
            for slot in (hypothesisStart * maxOrder)..<(hypothesisEnd * maxOrder) where ids[slot] != .max {
                let index = Int(ids[slot])
                let count = hypothesisCount[index]
                if count > 0 {
                    statistics.matches[slot % maxOrder] += Int(min(count, referenceMax[index]))
                    hypothesisCount[index] = 0
                }
            }
            for id in 0..<ngramCount { referenceMax[id] = 0 }
        }
        }
        }
        }
        statistics.referenceLength = Self.closestReferenceLength(statistics.hypothesisLength, referenceLengths)
        return statistics
    }

    /// The reference length closest to the hypothesis length; ties go to the shorter one.
    static func closestReferenceLength(_ hypothesisLength: Int, _ referenceLengths: [Int]) -> Int {
        var closestDifference = -1, closestLength = -1
        for length in referenceLengths {
            let difference = abs(hypothesisLength - length)
            if closestDifference == -1 || difference < closestDifference {
                closestDifference = difference
                closestLength = length
            } else if difference == closestDifference && length < closestLength {
                closestLength = length
            }
        }
        return closestLength
    }
}
