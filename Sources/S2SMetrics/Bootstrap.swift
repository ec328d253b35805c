import S2SCore

/// Bootstrap resampling over segment statistics, as sacreBLEU's `--confidence` and
/// `--paired-bs`: draw N segments with replacement, sum their statistics, score the sum.
///
/// The resampling scheme is sacreBLEU's (1000 samples, one index matrix per seed, shared by all
/// systems of a paired test); the random numbers come from `SeededRNG`, not numpy, so intervals
/// are close to sacreBLEU's but not bit-identical.
public enum Bootstrap {
    /// sacreBLEU's default seed (`SACREBLEU_SEED`).
    public static let defaultSeed: UInt64 = 12345

    /// Mean and 95% half-width of `scores`, sacreBLEU's `estimate_ci`.
    public static func estimate(_ scores: [Double]) -> ConfidenceInterval {
        let sorted = scores.sorted()
        let lowerIndex = sorted.count / 40
        let upperIndex = sorted.count - lowerIndex - 1
        let mean = sorted.reduce(0, +) / Double(sorted.count)
        return ConfidenceInterval(mean: mean, halfWidth: 0.5 * (sorted[upperIndex] - sorted[lowerIndex]))
    }

    /// The scores of `samples` resamples of each system's segment statistics (rows of `width`
    /// numbers). All systems see the same resampled indices.
    /// statistics[system]: [segments × width] → result[system]: [samples]
    public static func resampledScores(statistics: [[Double]], width: Int, samples: Int, seed: UInt64,
                                       score: ([Double]) -> Double) -> [[Double]] {
        let segmentCount = statistics[0].count / width
        var rng = SeededRNG(seed: seed)
        var indices = [Int](repeating: 0, count: segmentCount)
        var sums = [[Double]](repeating: [Double](repeating: 0, count: width), count: statistics.count)
        var result = [[Double]](repeating: [], count: statistics.count)
        for _ in 0..<samples {
            for position in 0..<segmentCount { indices[position] = Int.random(in: 0..<segmentCount, using: &rng) }
            for system in statistics.indices {
                for column in 0..<width { sums[system][column] = 0 }
                statistics[system].withUnsafeBufferPointer { rows in
                    sums[system].withUnsafeMutableBufferPointer { sum in
                        for index in indices {
                            let row = index * width
                            for column in 0..<width { sum[column] += rows[row + column] }
                        }
                    }
                }
                result[system].append(score(sums[system]))
            }
        }
        return result
    }

    /// BLEU with a bootstrap confidence interval (sacreBLEU `--confidence`).
    public static func bleuWithConfidence(_ segments: [BLEUStatistics], options: BLEUOptions, referenceCount: Int,
                                          samples: Int = 1000, seed: UInt64 = defaultSeed) throws -> BLEUScore {
        guard !segments.isEmpty else { throw MetricsError.emptyCorpus("hypothesis") }
        var score = BLEU.computeBLEU(BLEU.sum(segments), options: options, referenceCount: referenceCount)
        let scores = resampledScores(statistics: [flatten(segments)], width: 10, samples: samples, seed: seed) {
            BLEU.computeBLEU(unflatten($0), options: options).score
        }
        score.confidence = estimate(scores[0])
        score.signature = score.signature.addingBootstrap(samples: samples, seed: seed)
        return score
    }

    /// chrF with a bootstrap confidence interval.
    public static func chrfWithConfidence(_ segments: [CHRFStatistics], options: CHRFOptions, referenceCount: Int,
                                          samples: Int = 1000, seed: UInt64 = defaultSeed) throws -> CHRFScore {
        guard !segments.isEmpty else { throw MetricsError.emptyCorpus("hypothesis") }
        let width = 3 * (options.charOrder + options.wordOrder)
        var total = CHRFStatistics(orders: options.charOrder + options.wordOrder)
        for segment in segments { total += segment }
        var score = CHRF.computeCHRF(total, options: options, referenceCount: referenceCount)
        let flat = segments.flatMap { $0.counts.map(Double.init) }
        let scores = resampledScores(statistics: [flat], width: width, samples: samples, seed: seed) {
            CHRF.fScore($0.map { Int($0) }, options: options)
        }
        score.confidence = estimate(scores[0])
        score.signature = score.signature.addingBootstrap(samples: samples, seed: seed)
        return score
    }

    /// One system's result in a paired test.
    public struct PairedResult: Sendable {
        /// The actual corpus score.
        public var score: Double
        /// Bootstrap mean and 95% half-width.
        public var confidence: ConfidenceInterval
        /// p-value of the difference to the baseline (nil for the baseline itself).
        public var pValue: Double?
    }

    /// Paired bootstrap resampling (sacreBLEU `--paired-bs`, after Koehn 2004 and Moses'
    /// bootstrap-hypothesis-difference-significance.pl). `statistics[0]` is the baseline.
    /// statistics[system]: [segments × width], actualScores[system] → one result per system.
    public static func pairedTest(statistics: [[Double]], actualScores: [Double], width: Int,
                                  samples: Int = 1000, seed: UInt64 = defaultSeed,
                                  score: ([Double]) -> Double) -> [PairedResult] {
        let resampled = resampledScores(statistics: statistics, width: width, samples: samples, seed: seed,
                                        score: score)
        var results = [PairedResult(score: actualScores[0], confidence: estimate(resampled[0]), pValue: nil)]
        for system in 1..<statistics.count {
            let realDifference = abs(actualScores[0] - actualScores[system])
            let differences = zip(resampled[system], resampled[0]).map { abs($0 - $1) }
            let meanDifference = differences.reduce(0, +) / Double(differences.count)
            let exceeding = differences.filter { $0 - meanDifference > realDifference }.count
            let pValue = Double(exceeding + 1) / Double(differences.count + 1)
            results.append(PairedResult(score: actualScores[system], confidence: estimate(resampled[system]),
                                        pValue: pValue))
        }
        return results
    }

    /// BLEU statistics as rows of 10 numbers `[hyp_len, ref_len, matches×4, totals×4]`.
    public static func flatten(_ segments: [BLEUStatistics]) -> [Double] {
        var flat: [Double] = []
        flat.reserveCapacity(segments.count * 10)
        for segment in segments { flat.append(contentsOf: segment.flat.map(Double.init)) }
        return flat
    }

    /// The inverse of one row of `flatten`.
    public static func unflatten(_ row: [Double]) -> BLEUStatistics {
        BLEUStatistics(hypothesisLength: Int(row[0]), referenceLength: Int(row[1]),
                       matches: row[2..<6].map { Int($0) }, totals: row[6..<10].map { Int($0) })
    }
}
