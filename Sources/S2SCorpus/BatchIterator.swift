import S2SCore
import S2SIO

/// How a corpus is cut into batches.
public struct BatchingOptions: Codable, Equatable, Sendable {
    /// Target tokens per batch, padding included (rows × longest target); used unless
    /// `sentencesPerBatch` is set.
    public var targetTokensPerBatch: Int
    /// A fixed number of sentence pairs per batch instead of a token budget.
    public var sentencesPerBatch: Int?
    /// How many batches' worth of pairs are sorted by length together: bigger windows pad less
    /// but mix lengths less across batches.
    public var maxiBatch: Int
    /// Seed of the shuffles.
    public var seed: UInt64

    public init(targetTokensPerBatch: Int = 2000, sentencesPerBatch: Int? = nil, maxiBatch: Int = 100, seed: UInt64 = 1) {
        self.targetTokensPerBatch = targetTokensPerBatch
        self.sentencesPerBatch = sentencesPerBatch
        self.maxiBatch = maxiBatch
        self.seed = seed
    }
}

/// Where a `BatchIterator` stands: a small value a checkpoint stores, so that an iterator made
/// from it returns exactly the batch the saved one would have returned next.
public struct BatchPosition: Codable, Equatable, Sendable {
    /// 0-based epoch of the next batch.
    public var epoch: Int
    /// 0-based index of the next batch within its epoch.
    public var batchIndex: Int
    /// Generator state at the start of `epoch`, from which that epoch's plan is rebuilt.
    public var epochStartRNG: SeededRNG
    /// Pairs in the corpus the position belongs to (checked on resume).
    public var pairCount: Int
}

/// The padded shape of one batch: [rows, longestSource] → [rows, longestTarget] (`</s>` included).
public struct BatchShape: Equatable, Sendable {
    public var rows: Int
    public var longestSource: Int
    public var longestTarget: Int

    public init(rows: Int, longestSource: Int, longestTarget: Int) {
        self.rows = rows
        self.longestSource = longestSource
        self.longestTarget = longestTarget
    }
}

/// Totals over one epoch's batches.
public struct EpochBatchStatistics: Equatable, Sendable {
    /// Batches in the epoch.
    public var batches = 0
    /// Real source tokens (with `</s>`).
    public var sourceTokens = 0
    /// Source slots, real plus padding (Σ rows × longest source).
    public var sourceSlots = 0
    /// Real target tokens (with `</s>`).
    public var targetTokens = 0
    /// Target slots, real plus padding.
    public var targetSlots = 0

    /// Share of source slots that are padding, in 0...1.
    public var sourcePaddingFraction: Double { sourceSlots == 0 ? 0 : Double(sourceSlots - sourceTokens) / Double(sourceSlots) }
    /// Share of target slots that are padding, in 0...1.
    public var targetPaddingFraction: Double { targetSlots == 0 ? 0 : Double(targetSlots - targetTokens) / Double(targetSlots) }
}

/// Endless, deterministic stream of training batches over a `ParallelCorpus`, epoch after epoch.
///
/// Each epoch: shuffle all pair indices; take windows of `maxiBatch` batches' worth of pairs;
/// sort each window by length (the longer side, then the target) so that both sides of a batch
/// pad little; cut it into
/// batches (by token budget or sentence count); finally shuffle the order of all the epoch's
/// batches so lengths do not come in runs. The same seed gives the same batches, and
/// `position` captures everything needed to continue exactly where it stopped.
public struct BatchIterator: Sendable {
    /// The corpus batched (a shared immutable object).
    public let corpus: ParallelCorpus
    /// The batching options.
    public let options: BatchingOptions
    /// The position of the batch `next()` will return.
    public private(set) var position: BatchPosition

    /// Pair indices of the current epoch, batch after batch in window order.
    private var order: [Int32] = []
    /// Slices of `order`, one per batch, in the (shuffled) order they are returned.
    private var batches: [Range<Int>] = []
    /// Generator state after planning the current epoch: the next epoch starts from it.
    private var nextEpochRNG: SeededRNG

    /// An iterator at the start of epoch 0.
    public init(corpus: ParallelCorpus, options: BatchingOptions) throws {
        try self.init(corpus: corpus, options: options,
                      resumingFrom: BatchPosition(epoch: 0, batchIndex: 0, epochStartRNG: SeededRNG(seed: options.seed),
                                                  pairCount: corpus.count))
    }

    /// An iterator that continues from `position` (saved from an iterator over the same corpus
    /// with the same options).
    public init(corpus: ParallelCorpus, options: BatchingOptions, resumingFrom position: BatchPosition) throws {
        guard corpus.count > 0 else { throw CorpusError.noPairs(source: "corpus", read: corpus.statistics.pairsRead) }
        if let sentences = options.sentencesPerBatch, sentences < 1 {
            throw CorpusError.invalidOption("--batch-size must be at least 1")
        }
        guard options.targetTokensPerBatch >= 1 else { throw CorpusError.invalidOption("--batch-tokens must be at least 1") }
        guard options.maxiBatch >= 1 else { throw CorpusError.invalidOption("--maxi-batch must be at least 1") }
        guard position.pairCount == corpus.count else {
            throw CorpusError.positionMismatch(reason: "it was saved for a corpus of \(formatCount(position.pairCount)) pairs, "
                                               + "this one has \(formatCount(corpus.count))")
        }
        self.corpus = corpus
        self.options = options
        self.position = position
        self.nextEpochRNG = position.epochStartRNG
        planEpoch(startingFrom: position.epochStartRNG)
        guard position.batchIndex >= 0, position.batchIndex <= batches.count else {
            throw CorpusError.positionMismatch(reason: "batch \(position.batchIndex) is past the end of epoch \(position.epoch)")
        }
    }

    /// Number of batches in the current epoch.
    public var batchesInEpoch: Int { batches.count }

    /// The next batch, moving on to a freshly shuffled epoch after the last one.
    public mutating func next() -> Batch {
        if position.batchIndex == batches.count { startNextEpoch() }
        let batch = makeBatch(batches[position.batchIndex])
        position.batchIndex += 1
        return batch
    }

    /// Batch and padding totals over the current epoch's plan (without building the batches).
    public func epochStatistics() -> EpochBatchStatistics {
        var totals = EpochBatchStatistics()
        totals.batches = batches.count
        for range in batches {
            var longestSource = 0, longestTarget = 0
            for slot in range {
                let pair = Int(order[slot])
                let sourceLength = corpus.sourceLength(pair), targetLength = corpus.targetLength(pair)
                longestSource = max(longestSource, sourceLength)
                longestTarget = max(longestTarget, targetLength)
                totals.sourceTokens += sourceLength
                totals.targetTokens += targetLength
            }
            totals.sourceSlots += longestSource * range.count
            totals.targetSlots += longestTarget * range.count
        }
        return totals
    }

    /// Rows and longest source and target of each batch of the current epoch's plan (without
    /// building the batches), for sizing memory before training.
    public func epochBatchShapes() -> [BatchShape] {
        batches.map { range in
            var shape = BatchShape(rows: range.count, longestSource: 0, longestTarget: 0)
            for slot in range {
                let pair = Int(order[slot])
                shape.longestSource = max(shape.longestSource, corpus.sourceLength(pair))
                shape.longestTarget = max(shape.longestTarget, corpus.targetLength(pair))
            }
            return shape
        }
    }

    private mutating func startNextEpoch() {
        position = BatchPosition(epoch: position.epoch + 1, batchIndex: 0, epochStartRNG: nextEpochRNG,
                                 pairCount: corpus.count)
        planEpoch(startingFrom: nextEpochRNG)
    }

    /// Builds the epoch's batches from `rng`: shuffle, sort windows by length, cut, shuffle batches.
    private mutating func planEpoch(startingFrom start: SeededRNG) {
        var rng = start
        let pairCount = corpus.count
        order = (0..<Int32(pairCount)).map { $0 }
        shuffle(&order, using: &rng)

        batches.removeAll(keepingCapacity: true)
        var sortKeys: [UInt64] = []
        var windowPairs: [Int32] = []
        var windowStart = 0
        while windowStart < pairCount {
            let windowEnd = endOfWindow(startingAt: windowStart)
            // Sort key: the longer side's length, then the target's, then the place in the shuffled
            // window (a deterministic, random tie-break). Sorting by target alone leaves the
            // source side of each batch spread out, and its padding several times larger, for
            // no less target padding. Lengths are clamped to 16 bits for the key only.
            sortKeys.removeAll(keepingCapacity: true)
            for slot in windowStart..<windowEnd {
                let pair = Int(order[slot])
                let targetLength = UInt64(min(corpus.targetLength(pair), 0xFFFF))
                let sourceLength = UInt64(min(corpus.sourceLength(pair), 0xFFFF))
                sortKeys.append(max(targetLength, sourceLength) << 48 | targetLength << 32 | UInt64(slot - windowStart))
            }
            sortKeys.sort()
            windowPairs.removeAll(keepingCapacity: true)
            for key in sortKeys { windowPairs.append(order[windowStart + Int(key & 0xFFFF_FFFF)]) }
            for (offset, pair) in windowPairs.enumerated() { order[windowStart + offset] = pair }
            cutIntoBatches(windowStart..<windowEnd)
            windowStart = windowEnd
        }
        shuffle(&batches, using: &rng)
        nextEpochRNG = rng
    }

    /// End of the window that starts at `start`: `maxiBatch` batches' worth of pairs.
    private func endOfWindow(startingAt start: Int) -> Int {
        if let sentences = options.sentencesPerBatch {
            return min(corpus.count, start + sentences * options.maxiBatch)
        }
        let budget = options.targetTokensPerBatch * options.maxiBatch
        var tokens = 0, end = start
        while end < corpus.count && tokens < budget {
            tokens += corpus.targetLength(Int(order[end]))
            end += 1
        }
        return end
    }

    /// Cuts a length-sorted window into batches, appended to `batches`.
    private mutating func cutIntoBatches(_ window: Range<Int>) {
        if let sentences = options.sentencesPerBatch {
            var start = window.lowerBound
            while start < window.upperBound {
                let end = min(start + sentences, window.upperBound)
                batches.append(start..<end)
                start = end
            }
            return
        }
        // The batch is full when one more row would make rows × longest target exceed the budget.
        var start = window.lowerBound
        var longestTarget = 0
        for slot in window {
            let targetLength = corpus.targetLength(Int(order[slot]))
            let rowsWithThis = slot - start + 1
            if rowsWithThis > 1 && rowsWithThis * max(longestTarget, targetLength) > options.targetTokensPerBatch {
                batches.append(start..<slot)
                start = slot
                longestTarget = 0
            }
            longestTarget = max(longestTarget, targetLength)
        }
        if start < window.upperBound { batches.append(start..<window.upperBound) }
    }

    /// The padded source and target matrices of the pairs in `order[range]`.
    private func makeBatch(_ range: Range<Int>) -> Batch {
        let pairs = order[range].map { Int($0) }
        let source = paddedMatrix(pairs, offsets: corpus.sourceOffsets, tokens: corpus.sourceTokens)
        let target = paddedMatrix(pairs, offsets: corpus.targetOffsets, tokens: corpus.targetTokens)
        return Batch(source: source, target: target, pairIndices: pairs)
    }

    /// [B, longest] ids of `pairs`' sentences, padded with 0.
    private func paddedMatrix(_ pairs: [Int], offsets: UnsafeBufferPointer<Int64>,
                              tokens: UnsafeBufferPointer<Int32>) -> TokenMatrix {
        var lengths = [Int32](repeating: 0, count: pairs.count)
        for (row, pair) in pairs.enumerated() { lengths[row] = Int32(offsets[pair + 1] - offsets[pair]) }
        let longest = Int(lengths.max() ?? 0)
        var ids = [Int32](repeating: SpecialTokens.pad, count: pairs.count * longest)
        ids.withUnsafeMutableBufferPointer { output in
            for (row, pair) in pairs.enumerated() {
                let start = Int(offsets[pair])
                (output.baseAddress! + row * longest).update(from: tokens.baseAddress! + start, count: Int(lengths[row]))
            }
        }
        return TokenMatrix(batchSize: pairs.count, maxLength: longest, ids: ids, lengths: lengths)
    }
}

/// Fisher–Yates shuffle drawing from `rng` with Lemire's multiply-shift bound, so the result
/// depends only on the generator (not on the standard library's shuffle algorithm).
func shuffle<Element>(_ elements: inout [Element], using rng: inout SeededRNG) {
    guard elements.count > 1 else { return }
    for i in stride(from: elements.count - 1, to: 0, by: -1) {
        let j = Int(UInt64(i + 1).multipliedFullWidth(by: rng.next()).high)
        elements.swapAt(i, j)
    }
}
