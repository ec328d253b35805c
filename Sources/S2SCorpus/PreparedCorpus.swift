import S2SContainer
import S2SIO

/// The prepared-corpus file (`.s2sd`): a loaded corpus's token and offset arrays, statistics and
/// vocabulary fingerprint in an S2SContainer (magic `S2SCORPS`, version 1), so training can
/// memory-map it instead of reading and encoding text again.
///
/// Arrays: `source.tokens` i32 [N_s], `source.offsets` i64 [pairs + 1], `target.tokens` i32
/// [N_t], `target.offsets` i64 [pairs + 1].
public enum PreparedCorpus {
    /// The container kind.
    public static let magic = "S2SCORPS"
    /// The format version written and the newest read.
    public static let version: UInt32 = 1

    /// The header metadata of a prepared corpus.
    public struct Metadata: Codable, Equatable, Sendable {
        /// Pairs stored.
        public var pairCount: Int
        /// What loading read, kept and dropped.
        public var statistics: CorpusStatistics
        /// The filter applied.
        public var filter: CorpusFilter
        /// Fingerprint of the vocabulary the ids belong to.
        public var vocabularyFingerprint: String
        /// Size of that vocabulary.
        public var vocabularySize: Int
        /// Name of the text input it was made from.
        public var input: String

        public init(pairCount: Int, statistics: CorpusStatistics, filter: CorpusFilter,
                    vocabularyFingerprint: String, vocabularySize: Int, input: String) {
            self.pairCount = pairCount
            self.statistics = statistics
            self.filter = filter
            self.vocabularyFingerprint = vocabularyFingerprint
            self.vocabularySize = vocabularySize
            self.input = input
        }
    }

    /// Writes `corpus` to `path` atomically.
    public static func write(_ corpus: ParallelCorpus, inputName: String, to path: String) throws {
        var writer = ContainerWriter(magic: magic, version: version)
        try writer.setMetadata(Metadata(pairCount: corpus.count, statistics: corpus.statistics, filter: corpus.filter,
                                        vocabularyFingerprint: corpus.vocabularyFingerprint,
                                        vocabularySize: corpus.vocabularySize, input: inputName))
        writer.add(name: "source.tokens", dtype: .i32, shape: [corpus.sourceTokens.count],
                   borrowing: UnsafeRawBufferPointer(corpus.sourceTokens), owner: corpus)
        writer.add(name: "source.offsets", dtype: .i64, shape: [corpus.sourceOffsets.count],
                   borrowing: UnsafeRawBufferPointer(corpus.sourceOffsets), owner: corpus)
        writer.add(name: "target.tokens", dtype: .i32, shape: [corpus.targetTokens.count],
                   borrowing: UnsafeRawBufferPointer(corpus.targetTokens), owner: corpus)
        writer.add(name: "target.offsets", dtype: .i64, shape: [corpus.targetOffsets.count],
                   borrowing: UnsafeRawBufferPointer(corpus.targetOffsets), owner: corpus)
        try writer.write(to: path)
    }

    /// Memory-maps the prepared corpus at `path`; the arrays are used in place, not copied.
    ///
    /// - Parameter expectedFingerprint: the fingerprint of the vocabulary training will use;
    ///   a file made with another vocabulary is refused. Nil skips the check.
    /// - Throws: `IOError`/`ContainerError` for unreadable, foreign, truncated or corrupt files,
    ///   `CorpusError` for a vocabulary mismatch or inconsistent arrays.
    public static func open(_ path: String, expectedFingerprint: String? = nil) throws -> ParallelCorpus {
        let reader = try ContainerReader(path: path, magic: magic, supportedVersion: version)
        let metadata = try reader.metadata(Metadata.self)
        if let expectedFingerprint, expectedFingerprint != metadata.vocabularyFingerprint {
            throw CorpusError.vocabularyMismatch(path: path, stored: metadata.vocabularyFingerprint, expected: expectedFingerprint)
        }
        let pairs = metadata.pairCount
        guard pairs >= 0 else { throw CorpusError.malformedPrepared(path: path, reason: "negative pair count") }
        let sourceOffsets = try reader.int64s("source.offsets", shape: [pairs + 1])
        let targetOffsets = try reader.int64s("target.offsets", shape: [pairs + 1])
        let sourceTokens = try reader.int32s("source.tokens")
        let targetTokens = try reader.int32s("target.tokens")
        try checkOffsets(sourceOffsets, tokenCount: sourceTokens.count, side: "source", path: path)
        try checkOffsets(targetOffsets, tokenCount: targetTokens.count, side: "target", path: path)
        return ParallelCorpus(sourceTokens: sourceTokens, sourceOffsets: sourceOffsets,
                              targetTokens: targetTokens, targetOffsets: targetOffsets,
                              statistics: metadata.statistics, filter: metadata.filter,
                              vocabularyFingerprint: metadata.vocabularyFingerprint,
                              vocabularySize: metadata.vocabularySize, owners: [reader])
    }

    /// Offsets must start at 0, grow by at least one token per sentence and end at the total,
    /// so that no sentence view can reach outside the token array.
    private static func checkOffsets(_ offsets: UnsafeBufferPointer<Int64>, tokenCount: Int, side: String, path: String) throws {
        guard offsets.first == 0, offsets.last == Int64(tokenCount) else {
            throw CorpusError.malformedPrepared(path: path, reason: "\(side) offsets do not span the token array")
        }
        var previous: Int64 = 0
        for offset in offsets.dropFirst() {
            guard offset > previous else {
                throw CorpusError.malformedPrepared(path: path, reason: "\(side) offsets are not increasing")
            }
            previous = offset
        }
    }
}
