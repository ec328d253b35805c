import S2SModel
import S2SCore

/// Greedy decoding: every sentence takes its most probable token at each step.
///
/// One row per unfinished sentence, at most `rowLimit` at a time. A row that emits `</s>`
/// leaves through `select(parents:)` and the next waiting sentence takes its place through
/// `start(sentences:)` (continuous batching): every step runs a full batch until the sources
/// run out, instead of a batch that thins out as its sentences end. Each weight matrix costs
/// the same to stream through the cache whatever the number of rows, so full steps are what
/// make batching pay. A sentence's translation does not depend on the rows beside it (except
/// through a shortlist, whose columns are those of the rows' sentences).
public struct GreedySearch: Sendable {
    /// Length limit, normalization (only for the reported score) and attention collection.
    public var options: SearchOptions
    /// Sentences decoded at once (the rest wait for a row to free up).
    public var rowLimit: Int

    public init(options: SearchOptions = SearchOptions(), rowLimit: Int = .max) {
        self.options = options
        self.rowLimit = max(1, rowLimit)
    }

    /// Translates `sources` (token ids, each ending in `</s>`); result i is a one-element list
    /// holding source i's translation.
    public func translate(_ sources: [[Int32]], with decoder: StepDecoder) throws -> [[Translation]] {
        try validateSources(sources)
        if sources.isEmpty { return [] }
        let vocabularySize = decoder.targetVocabularySize
        let maxLengths = sources.map { options.maxTargetLength(sourceTokens: $0.count) }
        let limit = min(rowLimit, sources.count)
        try decoder.begin(sources: sources)
        if limit < sources.count { decoder.select(parents: (0..<limit).map(Int32.init)) }

        // logProbabilities: [rows, V], sized once for the widest step (a shortlisted step
        // writes [rows, L], L < V).
        let logProbabilities = UnsafeMutableBufferPointer<Float>.allocate(capacity: limit * vocabularySize)
        defer { logProbabilities.deallocate() }

        var tokens = [[Int32]](repeating: [], count: sources.count)
        var scores = [Float](repeating: 0, count: sources.count)
        var attention = [[[Float]]](repeating: [], count: sources.count)
        var rowSentence = Array(0..<limit)
        var nextSentence = limit
        var previousTokens = [Int32](repeating: SpecialTokens.bos, count: limit)
        var survivors: [Int32] = []
        survivors.reserveCapacity(limit)
        while !rowSentence.isEmpty {
            decoder.step(previousTokens: previousTokens, logProbabilities: logProbabilities)
            let columns = ColumnMap(decoder)
            survivors.removeAll(keepingCapacity: true)
            for row in 0..<rowSentence.count {
                let sentence = rowSentence[row]
                let rowStart = row * columns.width
                columns.forbidNonOutputTokens(logProbabilities, rowStart: rowStart)
                let token: Int32, score: Float
                if tokens[sentence].count + 1 >= maxLengths[sentence] {
                    token = SpecialTokens.eos
                    score = columns.endScore(logProbabilities, row: row)
                } else if let best = argmax(UnsafeBufferPointer(rebasing: logProbabilities[rowStart..<rowStart + columns.width])) {
                    token = columns.id(ofColumn: best)
                    score = logProbabilities[rowStart + best]
                } else {
                    // A broken row (every value −∞ or NaN) ends its sentence instead of looping
                    // to the length limit.
                    token = SpecialTokens.eos
                    score = -.infinity
                }
                tokens[sentence].append(token)
                scores[sentence] += score
                if options.collectAttention { attention[sentence].append(decoder.attention(row: row)) }
                if token != SpecialTokens.eos {
                    survivors.append(Int32(row))
                    previousTokens[survivors.count - 1] = token
                }
            }
            if survivors.count != rowSentence.count {
                rowSentence = survivors.map { rowSentence[Int($0)] }
                previousTokens.removeLast(previousTokens.count - survivors.count)
                let refill = min(limit - survivors.count, sources.count - nextSentence)
                if !survivors.isEmpty || refill > 0 { decoder.select(parents: survivors) }
                if refill > 0 {
                    let starting = nextSentence..<(nextSentence + refill)
                    decoder.start(sentences: starting.map(Int32.init))
                    rowSentence += starting
                    previousTokens += repeatElement(SpecialTokens.bos, count: refill)
                    nextSentence += refill
                }
            }
        }
        return (0..<sources.count).map { sentence in
            var pieces = tokens[sentence]
            let length = pieces.count
            if pieces.last == SpecialTokens.eos { pieces.removeLast() }
            return [Translation(tokens: pieces,
                                score: options.lengthPenalty.normalized(scores[sentence], length: length),
                                logProbability: scores[sentence], attention: attention[sentence])]
        }
    }
}

/// The first index of the largest value; nil when every value is −∞ or NaN.
@inline(__always)
func argmax(_ values: UnsafeBufferPointer<Float>) -> Int? {
    var best = -Float.infinity
    var bestIndex = -1
    var e = 0
    while e < values.count {
        // Skip 16 values at a time when none beats the best so far (the common case).
        if e + 16 <= values.count {
            let chunk = UnsafeRawPointer(values.baseAddress! + e).loadUnaligned(as: SIMD16<Float>.self)
            if !anyLane(chunk .> SIMD16(repeating: best)) { e += 16; continue }  // NaN is never > best
        }
        let stop = min(values.count, e + 16)
        while e < stop {
            if values[e] > best {
                best = values[e]
                bestIndex = e
            }
            e += 1
        }
    }
    return bestIndex < 0 ? nil : bestIndex
}

/// Throws unless every source is non-empty and ends in `</s>`.
func validateSources(_ sources: [[Int32]]) throws {
    for (index, source) in sources.enumerated() where source.last != SpecialTokens.eos {
        throw DecodingError.malformedSource(index: index)
    }
}
