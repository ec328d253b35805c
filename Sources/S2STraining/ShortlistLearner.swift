import S2SCorpus
import S2SModel

/// Learns a lexical shortlist from a parallel corpus with IBM Model 1 (Brown et al. 1993):
/// t(f | e), the probability that source piece e translates as target piece f (a NULL source
/// covers target pieces that translate nothing), by expectation–maximization over every
/// sentence pair; each source piece keeps its `perSource` most likely target pieces, and the
/// `frequent` most frequent target pieces are always in. `</s>` is left out of the counts (it
/// is always in the list).
public enum ShortlistLearner {
    public struct Options: Sendable {
        /// Target pieces kept per source piece (Marian's default is 100).
        public var perSource = 100
        /// Most frequent target pieces always kept (Marian's default is 100).
        public var frequent = 100
        /// EM iterations.
        public var iterations = 5

        public init() {}
    }

    public static func learn(corpus: ParallelCorpus, sourceVocabularySize: Int, targetVocabularySize: Int,
                             options: Options = Options()) throws -> Shortlist {
        let null = sourceVocabularySize  // the NULL source's row
        func key(_ e: Int, _ f: Int32) -> Int { e * targetVocabularySize + Int(f) }
        // Each pair's pieces without `</s>`, the source's with the NULL source after them.
        let pairs = (0..<corpus.count).map { pair -> (sources: [Int], targets: [Int32]) in
            let source = corpus.source(pair), target = corpus.target(pair)
            return (source.filter { $0 != 3 }.map(Int.init) + [null], target.filter { $0 != 3 })
        }
        // t(f | e), on the pairs that co-occur; uniform to start.
        var translation: [Int: Double] = [:]
        var targetCounts = [Int](repeating: 0, count: targetVocabularySize)
        for (sources, targets) in pairs {
            for f in targets {
                targetCounts[Int(f)] += 1
                for e in sources { translation[key(e, f)] = 1 }
            }
        }
        for _ in 0..<options.iterations {
            var counts = [Int: Double](minimumCapacity: translation.count)
            var totals = [Double](repeating: 0, count: sourceVocabularySize + 1)
            for (sources, targets) in pairs {
                for f in targets {
                    var normalizer = 0.0
                    for e in sources { normalizer += translation[key(e, f)]! }
                    for e in sources {
                        let share = translation[key(e, f)]! / normalizer
                        counts[key(e, f), default: 0] += share
                        totals[e] += share
                    }
                }
            }
            for (pairKey, count) in counts { translation[pairKey] = count / totals[pairKey / targetVocabularySize] }
        }
        var lists = [[(f: Int32, p: Double)]](repeating: [], count: sourceVocabularySize)
        for (pairKey, probability) in translation where pairKey / targetVocabularySize < sourceVocabularySize {
            lists[pairKey / targetVocabularySize].append((Int32(pairKey % targetVocabularySize), probability))
        }
        let ranked = lists.map { list in
            list.sorted { ($0.p, -$0.f) > ($1.p, -$1.f) }.prefix(options.perSource).map(\.f)
        }
        let frequent = targetCounts.indices.sorted { (targetCounts[$0], -$0) > (targetCounts[$1], -$1) }
            .prefix(options.frequent).map { Int32($0) }
        return try Shortlist(lists: ranked.map(Array.init), perSource: options.perSource, frequent: frequent.sorted())
    }
}
