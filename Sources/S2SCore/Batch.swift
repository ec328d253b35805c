/// Padded token sequences, batch-major: `ids[row * maxLength + t]` is token t of sentence `row`,
/// and positions at or beyond `lengths[row]` hold `padId` (0).
public struct TokenMatrix: Equatable, Sendable {
    /// Number of sentences (rows).
    public var batchSize: Int
    /// Length of the longest sentence, the row stride of `ids`.
    public var maxLength: Int
    /// [batchSize, maxLength] token ids, padded with 0.
    public var ids: [Int32]
    /// [batchSize] real lengths, each in 1...maxLength (0 only for a deliberately empty row).
    public var lengths: [Int32]

    public init(batchSize: Int, maxLength: Int, ids: [Int32], lengths: [Int32]) {
        precondition(ids.count == batchSize * maxLength && lengths.count == batchSize)
        self.batchSize = batchSize
        self.maxLength = maxLength
        self.ids = ids
        self.lengths = lengths
    }

    /// Pads `sequences` to a common length with 0.
    public init(padding sequences: [[Int32]]) {
        let maxLength = sequences.map(\.count).max() ?? 0
        var ids = [Int32](repeating: 0, count: sequences.count * maxLength)
        for (row, sequence) in sequences.enumerated() {
            for (t, id) in sequence.enumerated() { ids[row * maxLength + t] = id }
        }
        self.init(batchSize: sequences.count, maxLength: maxLength, ids: ids,
                  lengths: sequences.map { Int32($0.count) })
    }

    /// Total real (unpadded) tokens.
    public var tokenCount: Int { lengths.reduce(0) { $0 + Int($1) } }

    /// Row `row` without padding.
    public func sequence(_ row: Int) -> ArraySlice<Int32> {
        ids[(row * maxLength)..<(row * maxLength + Int(lengths[row]))]
    }
}

/// One training batch: source and target sentences of the same pairs, in the same row order.
///
/// Both sides end with `</s>` (id 3) inside their lengths; the target has no leading `<s>`:
/// the model shifts it right itself (decoder input `<s> y₁ … yₙ`, output `y₁ … yₙ </s>`).
public struct Batch: Equatable, Sendable {
    /// [B, S] source ids, each row ending in `</s>`.
    public var source: TokenMatrix
    /// [B, T] target ids, each row ending in `</s>`.
    public var target: TokenMatrix
    /// Index in the corpus of each row's sentence pair.
    public var pairIndices: [Int]

    public init(source: TokenMatrix, target: TokenMatrix, pairIndices: [Int]) {
        precondition(source.batchSize == target.batchSize && pairIndices.count == source.batchSize)
        self.source = source
        self.target = target
        self.pairIndices = pairIndices
    }
}

/// The reserved ids that every s2s vocabulary starts with.
public enum SpecialTokens {
    public static let pad: Int32 = 0
    public static let unk: Int32 = 1
    public static let bos: Int32 = 2
    public static let eos: Int32 = 3
}

extension Batch {
    /// The batch cut into `count` shares of consecutive rows with about equal numbers of
    /// target tokens, sentences kept whole (data-parallel workers each take one). A share is
    /// nil when there are fewer rows than shares; each share is padded to its own lengths.
    public func shares(_ count: Int) -> [Batch?] {
        precondition(count >= 1, "shares: count must be at least 1")
        let rows = source.batchSize
        if count == 1 { return [self] }
        let total = target.tokenCount
        var bounds: [Int] = [0], cumulative = 0, row = 0
        for share in 0..<(count - 1) {
            let goal = total * (share + 1) / count
            // At least one row per share while rows remain, and enough left for the shares after.
            let latest = max(row, rows - (count - 1 - share))
            var end = min(row + 1, rows)
            cumulative += end > row ? Int(target.lengths[row]) : 0
            while end < latest {
                let next = cumulative + Int(target.lengths[end])
                // Stop where the running total is nearest the goal.
                if abs(next - goal) >= abs(cumulative - goal) { break }
                cumulative = next
                end += 1
            }
            bounds.append(end)
            row = end
        }
        bounds.append(rows)
        return (0..<count).map { share in
            let range = bounds[share]..<bounds[share + 1]
            return range.isEmpty ? nil : self.rows(range)
        }
    }

    /// The rows `range`, padded to their own longest source and target.
    public func rows(_ range: Range<Int>) -> Batch {
        Batch(source: TokenMatrix(padding: range.map { Array(source.sequence($0)) }),
              target: TokenMatrix(padding: range.map { Array(target.sequence($0)) }),
              pairIndices: Array(pairIndices[range]))
    }
}
