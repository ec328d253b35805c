import S2SModel
import S2SCore

/// Beam search over a batch of sentences, with finished hypotheses kept aside per sentence.
///
/// Each live hypothesis is one decoder row; rows are grouped by sentence, in sentence order.
/// At each step a sentence's candidates are its open hypotheses × the whole vocabulary, or the
/// step's shortlisted columns (`beam × W` scores `score(h) + log p(v | h)`, W = V or the
/// shortlist's width), of which only the best 2·K are selected (a
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
        let vocabularySize = decoder.targetVocabularySize
        try decoder.begin(sources: sources)
        // logProbabilities: [rows ≤ B·K, V], allocated once.
        let logProbabilities = UnsafeMutableBufferPointer<Float>.allocate(
            capacity: sources.count * options.beamSize * vocabularySize)
        defer { logProbabilities.deallocate() }

        var search = SearchState(sources: sources, options: options)
        // The live rows, and the next step's, built while the current ones are read.
        var rows = BeamRows(capacity: sources.count * options.beamSize)
        for sentence in sources.indices {
            rows.append(sentence: sentence, node: -1, score: 0, token: SpecialTokens.bos, parent: -1)
        }
        var next = BeamRows(capacity: sources.count * options.beamSize)
        var step = 0
        while rows.count > 0 {
            step += 1
            decoder.step(previousTokens: rows.token, logProbabilities: logProbabilities)
            let columns = ColumnMap(decoder)
            if options.collectAttention {
                search.rowAttention = (0..<rows.count).map { decoder.attention(row: $0) }
            }
            next.removeAll()
            var groupStart = 0
            while groupStart < rows.count {
                let sentence = rows.sentence[groupStart]
                var groupEnd = groupStart + 1
                while groupEnd < rows.count && rows.sentence[groupEnd] == sentence { groupEnd += 1 }
                search.extend(sentence: sentence, rows: groupStart..<groupEnd, of: rows, into: &next, step: step,
                              logProbabilities: logProbabilities, columns: columns)
                groupStart = groupEnd
            }
            swap(&rows, &next)
            if rows.count > 0 { decoder.select(parents: rows.parent) }
        }
        return search.histories.map { history in
            let best = history.nBest(options.nBest)
            // A sentence whose every candidate was -∞ finishes nothing; it still gets a line.
            return best.isEmpty ? [Translation(tokens: [], score: -.infinity, logProbability: -.infinity)] : best
        }
    }
}

/// The live hypotheses of one step, one decoder row each, grouped by sentence in sentence order.
private struct BeamRows {
    /// Per row: its sentence, its node in that sentence's `History`, its prefix score, its last
    /// token, and the row of the previous step it continues.
    var sentence: [Int] = [], node: [Int32] = [], score: [Float] = [], token: [Int32] = [], parent: [Int32] = []

    init(capacity: Int) {
        sentence.reserveCapacity(capacity); node.reserveCapacity(capacity); score.reserveCapacity(capacity)
        token.reserveCapacity(capacity); parent.reserveCapacity(capacity)
    }

    var count: Int { sentence.count }

    mutating func append(sentence: Int, node: Int32, score: Float, token: Int32, parent: Int32) {
        self.sentence.append(sentence); self.node.append(node); self.score.append(score)
        self.token.append(token); self.parent.append(parent)
    }

    mutating func removeLast(_ k: Int) {
        sentence.removeLast(k); node.removeLast(k); score.removeLast(k); token.removeLast(k); parent.removeLast(k)
    }

    mutating func removeAll() {
        sentence.removeAll(keepingCapacity: true); node.removeAll(keepingCapacity: true)
        score.removeAll(keepingCapacity: true); token.removeAll(keepingCapacity: true)
        parent.removeAll(keepingCapacity: true)
    }
}

/// What beam search keeps across steps besides the rows: each sentence's history and length
/// limit, and the scratch of candidate selection.
private struct SearchState {
    let options: SearchOptions
    var histories: [History]
    let maxLengths: [Int]
    var selector: TopK
    var candidates: [(score: Float, index: Int)] = []
    /// Each row's attention weights at this step (only when collecting attention).
    var rowAttention: [[Float]] = []

    init(sources: [[Int32]], options: SearchOptions) {
        self.options = options
        histories = [History](repeating: History(), count: sources.count)
        maxLengths = sources.map { options.maxTargetLength(sourceTokens: $0.count) }
        selector = TopK(k: 2 * options.beamSize)
        candidates.reserveCapacity(2 * options.beamSize)
    }

    /// One step of `sentence`, whose open hypotheses are `rows` of `current`: finishes
    /// hypotheses in its history and appends its next beam to `next` (nothing when the
    /// sentence is done).
    mutating func extend(sentence: Int, rows: Range<Int>, of current: BeamRows, into next: inout BeamRows, step: Int,
                         logProbabilities: UnsafeMutableBufferPointer<Float>, columns: ColumnMap) {
        let beamSize = options.beamSize, maxLength = maxLengths[sentence], width = columns.width
        if step >= maxLength {
            // Length limit: every open hypothesis ends here with `</s>`.
            for row in rows {
                let score = current.score[row] + columns.endScore(logProbabilities, row: row)
                finish(sentence: sentence, Hypothesis(token: SpecialTokens.eos, score: score, parent: current.node[row]),
                       row: row, step: step)
            }
            return
        }
        selector.reset(k: 2 * beamSize)
        for row in rows {
            let start = row * width
            columns.forbidNonOutputTokens(logProbabilities, rowStart: start)
            // Columns ascend with target ids, so ties still go to the lower id.
            selector.offer(UnsafeBufferPointer(rebasing: logProbabilities[start..<start + width]),
                           bias: current.score[row], indexOffset: (row - rows.lowerBound) * width)
        }
        selector.sorted(into: &candidates)
        let firstNewRow = next.count
        for (rank, candidate) in candidates.enumerated() {
            let row = rows.lowerBound + candidate.index / width
            let token = columns.id(ofColumn: candidate.index % width)
            let hypothesis = Hypothesis(token: token, score: candidate.score, parent: current.node[row])
            if token == SpecialTokens.eos {
                if rank < beamSize { finish(sentence: sentence, hypothesis, row: row, step: step) }
            } else if next.count - firstNewRow < beamSize {
                let node = histories[sentence].append(hypothesis, attention: attention(row))
                next.append(sentence: sentence, node: node, score: candidate.score, token: token, parent: Int32(row))
            }
        }
        if isDone(sentence: sentence, openRows: firstNewRow..<next.count, of: next) {
            next.removeLast(next.count - firstNewRow)
        }
    }

    /// Whether `sentence`'s open hypotheses (`openRows` of `next`, best first) cannot matter any more.
    private func isDone(sentence: Int, openRows: Range<Int>, of next: BeamRows) -> Bool {
        // (Read in place: a local copy of the History would make the next append copy it.)
        let finishedCount = histories[sentence].finished.count
        if openRows.isEmpty || finishedCount >= options.beamSize { return true }
        guard finishedCount >= options.nBest else { return false }
        let bar = histories[sentence].finishedScore(rank: options.nBest)
        // The first open row bounds them all (the bound is monotonic in the score).
        return options.lengthPenalty.bestReachable(next.score[openRows.lowerBound], maxLength: maxLengths[sentence]) <= bar
    }

    /// Records `hypothesis`, which ends with `</s>` at `step`, as finished.
    private mutating func finish(sentence: Int, _ hypothesis: Hypothesis, row: Int, step: Int) {
        let node = histories[sentence].append(hypothesis, attention: attention(row))
        histories[sentence].finish(node: node, score: options.lengthPenalty.normalized(hypothesis.score, length: step),
                                   length: step)
    }

    private func attention(_ row: Int) -> [Float]? { options.collectAttention ? rowAttention[row] : nil }
}
