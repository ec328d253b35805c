import S2SModel
import S2SCore

/// Beam search over a batch of sentences, with finished hypotheses kept aside per sentence.
///
/// Each live hypothesis is one decoder row; rows are grouped by sentence, in sentence order.
/// At each step a sentence's candidates are its open hypotheses × the whole vocabulary
/// (`beam × V` scores `score(h) + log p(v | h)`), of which only the best 2·K are selected (a
/// bounded heap, not a sort). Walking them best first: a `</s>` among the first K finishes a
/// hypothesis (it goes to the sentence's `History`); other tokens fill the next beam up to K
/// (so the beam stays K wide while hypotheses finish, as in fairseq).
///
/// A sentence is done when any of these holds:
/// - K hypotheses have finished;
/// - no open hypothesis is left;
/// - no open hypothesis can still beat the n-th best finished one (`LengthPenalty.bestReachable`:
///   log-probabilities only fall as a hypothesis grows);
/// - its length limit is reached: every open hypothesis is then ended with `</s>`.
/// With K = 1 this is exactly greedy search.
public struct BeamSearch: Sendable {
    /// Beam size, n-best, length limit and normalization, attention collection.
    public var options: SearchOptions

    public init(options: SearchOptions) {
        self.options = options
    }

    /// Translates `sources` (token ids, each ending in `</s>`); result i holds up to
    /// `options.nBest` translations of source i, best first, distinct as token sequences.
    public func translate(_ sources: [[Int32]], with decoder: StepDecoder) throws -> [[Translation]] {
        try validateSources(sources)
        if sources.isEmpty { return [] }
        let beamSize = options.beamSize
        let nBest = options.nBest
        let penalty = options.lengthPenalty
        let vocabularySize = decoder.targetVocabularySize
        let maxLengths = sources.map { options.maxTargetLength(sourceTokens: $0.count) }
        try decoder.begin(sources: sources)

        // logProbabilities: [rows ≤ B·K, V], allocated once.
        let logProbabilities = UnsafeMutableBufferPointer<Float>.allocate(
            capacity: sources.count * beamSize * vocabularySize)
        defer { logProbabilities.deallocate() }

        var histories = [History](repeating: History(), count: sources.count)
        // The live rows: which sentence, which history node, which prefix score.
        var rowSentence = Array(0..<sources.count)
        var rowNode = [Int32](repeating: -1, count: sources.count)
        var rowScore = [Float](repeating: 0, count: sources.count)
        var previousTokens = [Int32](repeating: SpecialTokens.bos, count: sources.count)
        // The next step's rows, built while the current ones are read; swapped each step.
        var nextSentence: [Int] = [], nextNode: [Int32] = [], nextScore: [Float] = []
        var nextTokens: [Int32] = [], parents: [Int32] = []
        let rowCapacity = sources.count * beamSize
        nextSentence.reserveCapacity(rowCapacity); nextNode.reserveCapacity(rowCapacity)
        nextScore.reserveCapacity(rowCapacity); nextTokens.reserveCapacity(rowCapacity)
        parents.reserveCapacity(rowCapacity)
        var selector = TopK(k: 2 * beamSize)
        var candidates: [(score: Float, index: Int)] = []
        candidates.reserveCapacity(2 * beamSize)
        var rowAttention: [[Float]] = []

        var step = 0
        while !rowSentence.isEmpty {
            step += 1
            decoder.step(previousTokens: previousTokens, logProbabilities: logProbabilities)
            if options.collectAttention {
                rowAttention = (0..<rowSentence.count).map { decoder.attention(row: $0) }
            }
            nextSentence.removeAll(keepingCapacity: true); nextNode.removeAll(keepingCapacity: true)
            nextScore.removeAll(keepingCapacity: true); nextTokens.removeAll(keepingCapacity: true)
            parents.removeAll(keepingCapacity: true)

            var groupStart = 0
            while groupStart < rowSentence.count {
                let sentence = rowSentence[groupStart]
                var groupEnd = groupStart + 1
                while groupEnd < rowSentence.count && rowSentence[groupEnd] == sentence { groupEnd += 1 }
                defer { groupStart = groupEnd }
                let maxLength = maxLengths[sentence]

                if step >= maxLength {
                    // Length limit: every open hypothesis ends here with `</s>`.
                    for row in groupStart..<groupEnd {
                        let score = rowScore[row] + logProbabilities[row * vocabularySize + Int(SpecialTokens.eos)]
                        let node = histories[sentence].append(
                            Hypothesis(token: SpecialTokens.eos, score: score, parent: rowNode[row]),
                            attention: options.collectAttention ? rowAttention[row] : nil)
                        histories[sentence].finish(node: node, score: penalty.normalized(score, length: step),
                                                   length: step)
                    }
                    continue
                }

                selector.reset(k: 2 * beamSize)
                for row in groupStart..<groupEnd {
                    let start = row * vocabularySize
                    forbidNonOutputTokens(logProbabilities, rowStart: start, vocabularySize: vocabularySize)
                    selector.offer(UnsafeBufferPointer(rebasing: logProbabilities[start..<start + vocabularySize]),
                                   bias: rowScore[row], indexOffset: (row - groupStart) * vocabularySize)
                }
                selector.sorted(into: &candidates)

                let firstNewRow = nextSentence.count
                for (rank, candidate) in candidates.enumerated() {
                    let row = groupStart + candidate.index / vocabularySize
                    let token = Int32(candidate.index % vocabularySize)
                    let isEnd = token == SpecialTokens.eos
                    if isEnd ? rank >= beamSize : nextSentence.count - firstNewRow >= beamSize { continue }
                    let node = histories[sentence].append(
                        Hypothesis(token: token, score: candidate.score, parent: rowNode[row]),
                        attention: options.collectAttention ? rowAttention[row] : nil)
                    if isEnd {
                        histories[sentence].finish(node: node, score: penalty.normalized(candidate.score, length: step),
                                                   length: step)
                    } else {
                        nextSentence.append(sentence); nextNode.append(node)
                        nextScore.append(candidate.score); nextTokens.append(token)
                        parents.append(Int32(row))
                    }
                }

                // Stop this sentence when its open hypotheses cannot matter any more.
                let openCount = nextSentence.count - firstNewRow
                // (Read in place: a local copy of the History would make the next append copy it.)
                let finishedCount = histories[sentence].finished.count
                var done = openCount == 0 || finishedCount >= beamSize
                if !done && finishedCount >= nBest {
                    let bar = histories[sentence].finishedScore(rank: nBest)
                    // Open rows were added best first, so the first one bounds them all
                    // (the bound is monotonic in the score).
                    done = penalty.bestReachable(nextScore[firstNewRow], maxLength: maxLength) <= bar
                }
                if done {
                    nextSentence.removeLast(openCount); nextNode.removeLast(openCount)
                    nextScore.removeLast(openCount); nextTokens.removeLast(openCount)
                    parents.removeLast(openCount)
                }
            }

            swap(&rowSentence, &nextSentence); swap(&rowNode, &nextNode)
            swap(&rowScore, &nextScore); swap(&previousTokens, &nextTokens)
            if !rowSentence.isEmpty { decoder.select(parents: parents) }
        }
        return histories.map { history in
            let best = history.nBest(nBest)
            // A sentence whose every candidate was -∞ finishes nothing; it still gets a line.
            return best.isEmpty ? [Translation(tokens: [], score: -.infinity, logProbability: -.infinity)] : best
        }
    }
}
