
/// Where a bitext comes from: two aligned files, or one tab-separated stream.
public enum CorpusInput: Sendable, Equatable {
    /// Line i of `source` translates to line i of `target`; plain text or gzip, `-` for stdin.
    case files(source: String, target: String)
    /// One `source<TAB>target` pair per line (split at the first tab); `-` for stdin.
    case tsv(path: String)

    /// A short name for messages and statistics.
    public var name: String {
        switch self {
        case let .files(source, target): return "\(source) + \(target)"
        case let .tsv(path): return path == "-" ? "<stdin>" : path
        }
    }
}

/// Which pairs the loader keeps.
public struct CorpusFilter: Codable, Equatable, Sendable {
    /// Longest side kept, in subword tokens **not counting** the `</s>` the loader appends
    /// (so a stored sentence is at most `maxLength + 1` ids long).
    public var maxLength: Int
    /// Pairs whose longer side is more than this many times the shorter (in tokens, without
    /// `</s>`) are dropped; nil keeps every ratio.
    public var maxLengthRatio: Double?
    /// Skip and count lines that are not valid UTF-8 instead of stopping with an error.
    public var skipInvalidUTF8: Bool

    public init(maxLength: Int = 100, maxLengthRatio: Double? = nil, skipInvalidUTF8: Bool = false) {
        self.maxLength = maxLength
        self.maxLengthRatio = maxLengthRatio
        self.skipInvalidUTF8 = skipInvalidUTF8
    }
}

/// What loading did: pairs read, why pairs were dropped, and how many tokens were kept.
///
/// Each dropped pair is counted once, under the first reason that applies, in this order:
/// invalid UTF-8, empty side, too long, length ratio.
public struct CorpusStatistics: Codable, Equatable, Sendable {
    /// Lines (pairs) read from the input.
    public var pairsRead = 0
    /// Pairs kept after filtering.
    public var pairsKept = 0
    /// Pairs with an invalid UTF-8 side, skipped under `skipInvalidUTF8`.
    public var skippedInvalidUTF8 = 0
    /// Pairs with an empty (or whitespace-only) side.
    public var filteredEmpty = 0
    /// Pairs with a side longer than `maxLength` tokens.
    public var filteredTooLong = 0
    /// Pairs whose length ratio exceeds `maxLengthRatio`.
    public var filteredLengthRatio = 0
    /// Source tokens kept, including one `</s>` per sentence.
    public var sourceTokens = 0
    /// Target tokens kept, including one `</s>` per sentence.
    public var targetTokens = 0

    public init() {}

    /// Pairs dropped for any reason.
    public var pairsDropped: Int { skippedInvalidUTF8 + filteredEmpty + filteredTooLong + filteredLengthRatio }
}

/// An encoded, filtered bitext: every side's token ids in one contiguous array with start
/// offsets, either owned (just loaded) or memory-mapped from a prepared `.s2sd` file.
///
/// Pair i's source is `sourceTokens[sourceOffsets[i] ..< sourceOffsets[i + 1]]`, ending in
/// `</s>` (id 3); likewise for the target. There are no per-sentence objects: memory is about
/// 4 bytes per token plus 8 bytes per sentence and side.
public final class ParallelCorpus: @unchecked Sendable {
    /// All source ids, sentence after sentence.
    public let sourceTokens: UnsafeBufferPointer<Int32>
    /// [count + 1] start of each source sentence in `sourceTokens`; the last entry is the total.
    public let sourceOffsets: UnsafeBufferPointer<Int64>
    /// All target ids, sentence after sentence.
    public let targetTokens: UnsafeBufferPointer<Int32>
    /// [count + 1] start of each target sentence in `targetTokens`; the last entry is the total.
    public let targetOffsets: UnsafeBufferPointer<Int64>
    /// What loading read, kept and dropped.
    public let statistics: CorpusStatistics
    /// The filter the pairs passed.
    public let filter: CorpusFilter
    /// Fingerprint of the vocabulary the ids belong to.
    public let vocabularyFingerprint: String
    /// Size of that vocabulary.
    public let vocabularySize: Int
    /// Keeps the storage behind the views alive (growable buffers or a container reader).
    private let storageOwners: [AnyObject]

    /// A corpus over views whose memory `owners` keep alive. The views must be consistent
    /// (checked by the callers that build them).
    init(sourceTokens: UnsafeBufferPointer<Int32>, sourceOffsets: UnsafeBufferPointer<Int64>,
         targetTokens: UnsafeBufferPointer<Int32>, targetOffsets: UnsafeBufferPointer<Int64>,
         statistics: CorpusStatistics, filter: CorpusFilter, vocabularyFingerprint: String,
         vocabularySize: Int, owners: [AnyObject]) {
        self.sourceTokens = sourceTokens
        self.sourceOffsets = sourceOffsets
        self.targetTokens = targetTokens
        self.targetOffsets = targetOffsets
        self.statistics = statistics
        self.filter = filter
        self.vocabularyFingerprint = vocabularyFingerprint
        self.vocabularySize = vocabularySize
        self.storageOwners = owners
    }

    /// Number of sentence pairs.
    public var count: Int { max(sourceOffsets.count - 1, 0) }

    /// Length of pair `pair`'s source, `</s>` included.
    @inline(__always)
    public func sourceLength(_ pair: Int) -> Int { Int(sourceOffsets[pair + 1] - sourceOffsets[pair]) }

    /// Length of pair `pair`'s target, `</s>` included.
    @inline(__always)
    public func targetLength(_ pair: Int) -> Int { Int(targetOffsets[pair + 1] - targetOffsets[pair]) }

    /// Pair `pair`'s source ids, ending in `</s>`; valid while the corpus lives.
    public func source(_ pair: Int) -> UnsafeBufferPointer<Int32> {
        UnsafeBufferPointer(rebasing: sourceTokens[Int(sourceOffsets[pair])..<Int(sourceOffsets[pair + 1])])
    }

    /// Pair `pair`'s target ids, ending in `</s>`; valid while the corpus lives.
    public func target(_ pair: Int) -> UnsafeBufferPointer<Int32> {
        UnsafeBufferPointer(rebasing: targetTokens[Int(targetOffsets[pair])..<Int(targetOffsets[pair + 1])])
    }

    /// Bytes held by the token and offset arrays.
    public var storageBytes: Int {
        (sourceTokens.count + targetTokens.count) * 4 + (sourceOffsets.count + targetOffsets.count) * 8
    }
}

extension ParallelCorpus {
    /// A 64-bit fingerprint of every pair's token ids and of the vocabulary's fingerprint: equal
    /// for two corpora (on two machines, say) exactly when they hold the same training data,
    /// barring a hash collision.
    public var contentFingerprint: UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ value: UInt64) { hash = (hash ^ value) &* 0x100_0000_01B3 }
        for byte in vocabularyFingerprint.utf8 { mix(UInt64(byte)) }
        for tokens in [sourceTokens, targetTokens] {
            mix(UInt64(tokens.count))
            for id in tokens { mix(UInt64(UInt32(bitPattern: id))) }
        }
        for offsets in [sourceOffsets, targetOffsets] {
            for offset in offsets { mix(UInt64(bitPattern: offset)) }
        }
        return hash
    }
}
