import Foundation

/// Settings of chrF / chrF++ (Popović 2015, 2017); the defaults are sacreBLEU 2.x's chrF2.
public struct CHRFOptions: Sendable {
    /// Character n-gram order (6).
    public var charOrder: Int
    /// Word n-gram order: 0 for chrF, 2 for chrF++.
    public var wordOrder: Int
    /// Recall is `beta` times as important as precision (2).
    public var beta: Int
    public var lowercase: Bool
    /// Keep whitespace inside character n-grams (sacreBLEU removes it by default).
    public var whitespace: Bool
    /// Average F-scores with epsilon smoothing instead of sacreBLEU's effective order.
    public var epsSmoothing: Bool
    public var threads: Int

    public init(charOrder: Int = 6, wordOrder: Int = 0, beta: Int = 2, lowercase: Bool = false,
                whitespace: Bool = false, epsSmoothing: Bool = false, threads: Int = defaultMetricThreads) {
        self.charOrder = charOrder
        self.wordOrder = wordOrder
        self.beta = beta
        self.lowercase = lowercase
        self.whitespace = whitespace
        self.epsSmoothing = epsSmoothing
        self.threads = threads
    }

    /// `chrF2`, or `chrF2++` with word order 2.
    public var name: String { "chrF\(beta)" + String(repeating: "+", count: wordOrder) }

    public func signature(referenceCount: Int) -> MetricSignature {
        MetricSignature(entries: [
            ("nrefs", String(referenceCount)),
            ("case", lowercase ? "lc" : "mixed"),
            ("eff", epsSmoothing ? "no" : "yes"),
            ("nc", String(charOrder)),
            ("nw", String(wordOrder)),
            ("space", whitespace ? "yes" : "no"),
            ("version", SacreBLEUCompatibility.version),
        ])
    }
}

/// chrF sufficient statistics: for each order (character orders, then word orders) the
/// hypothesis n-gram count, reference n-gram count and clipped matches.
public struct CHRFStatistics: Equatable, Sendable {
    /// `[hyp, ref, match]` per order, flattened as sacreBLEU stores them.
    public var counts: [Int]

    public init(orders: Int) { counts = [Int](repeating: 0, count: 3 * orders) }
    public init(counts: [Int]) { self.counts = counts }

    public static func += (lhs: inout CHRFStatistics, rhs: CHRFStatistics) {
        for index in lhs.counts.indices { lhs.counts[index] += rhs.counts[index] }
    }
}

/// A chrF score with its signature.
public struct CHRFScore: Sendable, CustomStringConvertible {
    public var name: String
    public var score: Double
    public var signature: MetricSignature
    public var confidence: ConfidenceInterval?

    /// The line sacreBLEU prints: `chrF2|nrefs:1|…|version:2.6.0 = 59.27`.
    public func formatted(width: Int = 2, scoreOnly: Bool = false) -> String {
        ScoreFormatting.line(name: name, score: score, signature: signature, verbose: "",
                             confidence: confidence, width: width, scoreOnly: scoreOnly)
    }

    public func json(width: Int = 2) -> String {
        ScoreFormatting.json(name: name, score: score, signature: signature, verbose: "",
                             confidence: confidence, width: width)
    }

    public var description: String { formatted() }
}

/// chrF and chrF++ identical to sacreBLEU 2.x: character n-gram F-score (whitespace removed),
/// optionally with word n-grams, best reference per segment chosen by segment F-score.
public enum CHRF {
    public static func corpusScore(hypotheses: [String], references: [[String]],
                                   options: CHRFOptions = CHRFOptions()) throws -> CHRFScore {
        let segments = try segmentStatistics(hypotheses: hypotheses, references: references, options: options)
        var total = CHRFStatistics(orders: options.charOrder + options.wordOrder)
        for segment in segments { total += segment }
        return computeCHRF(total, options: options, referenceCount: references.count)
    }

    public static func sentenceScores(hypotheses: [String], references: [[String]],
                                      options: CHRFOptions) throws -> [CHRFScore] {
        try segmentStatistics(hypotheses: hypotheses, references: references, options: options)
            .map { computeCHRF($0, options: options, referenceCount: references.count) }
    }

    public static func segmentStatistics(hypotheses: [String], references: [[String]],
                                         options: CHRFOptions) throws -> [CHRFStatistics] {
        try BLEU.checkLineCounts(hypotheses: hypotheses, references: references)
        let orders = options.charOrder + options.wordOrder
        return S2SMetrics.segmentStatistics(hypotheses: hypotheses, references: references, threads: options.threads,
                                            empty: CHRFStatistics(orders: orders)) { CHRFStatisticsExtractor(options: options) }
    }

    /// The F-score from statistics, sacreBLEU's `_compute_f_score` step for step.
    public static func fScore(_ counts: [Int], options: CHRFOptions) -> Double {
        let epsilon = 1e-16
        let factor = Double(options.beta * options.beta)
        var score = 0.0, averagePrecision = 0.0, averageRecall = 0.0
        var effectiveOrder = 0
        for order in 0..<(options.charOrder + options.wordOrder) {
            let hypothesisCount = counts[3 * order], referenceCount = counts[3 * order + 1]
            let matchCount = Double(counts[3 * order + 2])
            let precision = hypothesisCount > 0 ? matchCount / Double(hypothesisCount) : epsilon
            let recall = referenceCount > 0 ? matchCount / Double(referenceCount) : epsilon
            let denominator = factor * precision + recall
            score += denominator > 0 ? (1 + factor) * precision * recall / denominator : epsilon
            if hypothesisCount > 0 && referenceCount > 0 {
                averagePrecision += precision
                averageRecall += recall
                effectiveOrder += 1
            }
        }
        if options.epsSmoothing { return 100 * score / Double(options.charOrder + options.wordOrder) }
        if effectiveOrder == 0 {
            averagePrecision = 0; averageRecall = 0
        } else {
            averagePrecision /= Double(effectiveOrder)
            averageRecall /= Double(effectiveOrder)
        }
        if averagePrecision + averageRecall != 0 {
            var f = (1 + factor) * averagePrecision * averageRecall
            f /= (factor * averagePrecision) + averageRecall
            return 100 * f
        }
        return 0
    }

    /// chrF from (summed) statistics. A pure function.
    public static func computeCHRF(_ statistics: CHRFStatistics, options: CHRFOptions = CHRFOptions(),
                                   referenceCount: Int = 1) -> CHRFScore {
        CHRFScore(name: options.name, score: fScore(statistics.counts, options: options),
                  signature: options.signature(referenceCount: referenceCount), confidence: nil)
    }
}

/// Extracts chrF statistics segment by segment, reusing its buffers.
struct CHRFStatisticsExtractor: SegmentStatisticsExtractor {
    let options: CHRFOptions
    private var lowered: [UInt8] = []
    private var units: [UInt32] = []
    private var words: [Range<Int>] = []
    private var wordBytes: [UInt8] = []
    private var interner = TokenInterner()
    private let indexer = NGramIndexer()
    private var orderOf: [UInt8] = []
    private var hypothesisCount: [Int32] = []
    private var referenceCount: [Int32] = []
    private var hypothesisIds: [UInt32] = []
    /// Word n-grams chain from a different start than character n-grams, so ids never mix.
    private static let wordChainStart = NGramIndexer.chainStart - 1
    private static let punctuation: Set<UInt8> = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".utf8)

    init(options: CHRFOptions) { self.options = options }

    @inline(__always)
    private mutating func ensureCapacity(_ id: UInt32) {
        if Int(id) >= orderOf.count {
            let extra = max(64, orderOf.count, Int(id) + 1 - orderOf.count)
            orderOf.append(contentsOf: repeatElement(0, count: extra))
            hypothesisCount.append(contentsOf: repeatElement(0, count: extra))
            referenceCount.append(contentsOf: repeatElement(0, count: extra))
        }
    }

    /// The ids and orders of every character and word n-gram of the line last collected.
    private var ngramIds: [UInt32] = []
    private var ngramOrders: [UInt8] = []

    /// Fills `ngramIds`/`ngramOrders` with every character and word n-gram of `line`.
    private mutating func collectNGrams(of line: String) {
        var ids: [UInt32] = [], orders: [UInt8] = []
        swap(&ids, &ngramIds)
        swap(&orders, &ngramOrders)
        ids.removeAll(keepingCapacity: true)
        orders.removeAll(keepingCapacity: true)
        defer { swap(&ids, &ngramIds); swap(&orders, &ngramOrders) }
        let indexer = self.indexer
        withUTF8Bytes(line) { original in
            if options.lowercase {
                PythonText.lowercase(original, into: &lowered)
            } else {
                lowered.removeAll(keepingCapacity: true)
                lowered.append(contentsOf: original)
            }
        }
        var bytesCopy: [UInt8] = []
        swap(&bytesCopy, &lowered)
        defer { swap(&bytesCopy, &lowered) }
        bytesCopy.withUnsafeBufferPointer { bytes in
            // Character n-grams over code points, whitespace removed unless asked to keep it.
            units.removeAll(keepingCapacity: true)
            var index = 0
            while index < bytes.count {
                let (scalar, length) = PythonText.decode(bytes, at: index)
                if options.whitespace || !PythonText.isWhitespace(scalar) { units.append(scalar) }
                index += length
            }
            var unitsCopy: [UInt32] = []
            swap(&unitsCopy, &units)
            for position in unitsCopy.indices {
                var prefix = NGramIndexer.chainStart
                for order in 0..<min(options.charOrder, unitsCopy.count - position) {
                    let id = indexer.id(prefix: prefix, unit: unitsCopy[position + order])
                    ids.append(id)
                    orders.append(UInt8(order))
                    prefix = id
                }
            }
            swap(&unitsCopy, &units)

            guard options.wordOrder > 0 else { return }
            // Words with one leading or trailing ASCII punctuation mark split off (chrF++).
            words.removeAll(keepingCapacity: true)
            PythonText.split(bytes, base: 0, into: &words)
            var wordIds: [UInt32] = []
            for word in words {
                let first = bytes[word.lowerBound], last = bytes[word.upperBound - 1]
                let isSingleCharacter = PythonText.sequenceLength(lead: first) >= word.count
                if !isSingleCharacter && Self.punctuation.contains(last) {
                    wordIds.append(internWord(bytes, word.lowerBound..<(word.upperBound - 1)))
                    wordIds.append(internWord(bytes, (word.upperBound - 1)..<word.upperBound))
                } else if !isSingleCharacter && Self.punctuation.contains(first) {
                    wordIds.append(internWord(bytes, word.lowerBound..<(word.lowerBound + 1)))
                    wordIds.append(internWord(bytes, (word.lowerBound + 1)..<word.upperBound))
                } else {
                    wordIds.append(internWord(bytes, word))
                }
            }
            for position in wordIds.indices {
                var prefix = Self.wordChainStart
                for order in 0..<min(options.wordOrder, wordIds.count - position) {
                    let id = indexer.id(prefix: prefix, unit: wordIds[position + order])
                    ids.append(id)
                    orders.append(UInt8(options.charOrder + order))
                    prefix = id
                }
            }
        }
    }

    /// The id of the word `bytes[range]`, shared by the hypothesis and references of a segment:
    /// words are copied to one arena per segment so the interner compares like with like.
    private mutating func internWord(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt32 {
        let start = wordBytes.count
        wordBytes.append(contentsOf: bytes[range])
        let before = interner.count
        let id = wordBytes.withUnsafeBufferPointer { interner.id($0, start..<wordBytes.count) }
        if interner.count == before { wordBytes.removeLast(range.count) }
        return id
    }

    /// The statistics of the hypothesis against its best reference (highest segment chrF).
    mutating func statistics(hypothesis: String, references: [String]) -> CHRFStatistics {
        let orders = options.charOrder + options.wordOrder
        indexer.reset()
        interner.reset()
        wordBytes.removeAll(keepingCapacity: true)
        var hypothesisTotals = [Int](repeating: 0, count: orders)
        hypothesisIds.removeAll(keepingCapacity: true)
        collectNGrams(of: hypothesis)
        ensureCapacity(UInt32(indexer.count))
        for (id, order) in zip(ngramIds, ngramOrders) { hypothesisTotals[Int(order)] += 1; orderOf[Int(id)] = order }
        hypothesisCount.withUnsafeMutableBufferPointer { counts in
            for id in ngramIds {
                if counts[Int(id)] == 0 { hypothesisIds.append(id) }
                counts[Int(id)] += 1
            }
        }
        var best = CHRFStatistics(orders: orders)
        var bestScore = -1.0
        var referenceTotals = [Int](repeating: 0, count: orders)
        var matches = [Int](repeating: 0, count: orders)
        for reference in references {
            collectNGrams(of: reference)
            ensureCapacity(UInt32(indexer.count))
            for order in 0..<orders { referenceTotals[order] = 0; matches[order] = 0 }
            for order in ngramOrders { referenceTotals[Int(order)] += 1 }
            referenceCount.withUnsafeMutableBufferPointer { counts in
                for id in ngramIds { counts[Int(id)] += 1 }
                hypothesisCount.withUnsafeBufferPointer { hypothesisCounts in
                    orderOf.withUnsafeBufferPointer { orderOf in
                        for id in hypothesisIds {
                            let index = Int(id)
                            matches[Int(orderOf[index])] += Int(min(hypothesisCounts[index], counts[index]))
                        }
                    }
                }
                for id in ngramIds { counts[Int(id)] = 0 }
            }
            var candidate = CHRFStatistics(orders: orders)
            for order in 0..<orders {
                candidate.counts[3 * order] = referenceTotals[order] > 0 ? hypothesisTotals[order] : 0
                candidate.counts[3 * order + 1] = referenceTotals[order]
                candidate.counts[3 * order + 2] = matches[order]
            }
            let score = CHRF.fScore(candidate.counts, options: options)
            if score > bestScore { bestScore = score; best = candidate }
        }
        for id in hypothesisIds { hypothesisCount[Int(id)] = 0 }
        return best
    }
}
