import Dispatch
import Foundation
import S2SIO
import S2SCore

/// Reads a bitext, checks it, encodes it on every core and keeps the pairs that pass the filter.
///
/// The work goes chunk by chunk so memory stays bounded: one thread copies a chunk of raw lines
/// (a few MB) out of the readers, then all cores validate UTF-8, encode and filter slices of it
/// into per-slice arrays, which are appended in order to the corpus's contiguous token arrays.
/// Encoding happens once here, never again per epoch.
public enum CorpusLoader {
    /// Pairs read before each parallel encoding step (and each progress report). Small enough
    /// that the chunks in flight stay a few MB (on 1M pairs, 8,192 peaks 20 MB lower than
    /// 32,768 at the same speed), large enough that each step's synchronisation is negligible.
    public static let defaultChunkPairs = 8_192

    /// Reads `input` through once, checking only what loading it checks of its shape: both
    /// sides have the same number of lines, and every TSV line has a tab. A command that reads
    /// the files for a long time before loading them (learning a vocabulary) calls this first,
    /// so a mismatch fails after one read of the files, before the much longer work. Standard
    /// input cannot be read twice and is not checked here.
    /// - Throws: `CorpusError.lineCountMismatch`, `.missingTab`, or `IOError`.
    public static func checkAlignment(_ input: CorpusInput) throws {
        switch input {
        case let .files(source, target) where source == "-" || target == "-": return
        case let .tsv(path) where path == "-": return
        default: break
        }
        var reader = try PairReader(input)
        var chunk = RawChunk()
        while try reader.read(into: &chunk, maxPairs: defaultChunkPairs) {}
    }

    /// Loads `input`, encoding with `encoder` and keeping pairs that pass `filter`.
    ///
    /// - Parameter progress: called on the calling thread after each chunk with the running
    ///   statistics (for a progress line on stderr).
    /// - Throws: `IOError` for unreadable files, corrupt gzip or invalid UTF-8 (unless skipped),
    ///   `CorpusError` for a line-count mismatch or a TSV line without a tab.
    public static func load(_ input: CorpusInput, encoder: any SentenceEncoder, filter: CorpusFilter = CorpusFilter(),
                            chunkPairs: Int = defaultChunkPairs,
                            progress: ((CorpusStatistics) -> Void)? = nil) throws -> ParallelCorpus {
        guard filter.maxLength >= 1 else { throw CorpusError.invalidOption("--max-length must be at least 1") }
        if let ratio = filter.maxLengthRatio, !(ratio >= 1) {
            throw CorpusError.invalidOption("--max-length-ratio must be at least 1")
        }
        let reader = ChunkReader(try PairReader(input), chunkPairs: max(1, chunkPairs))
        let sourceTokens = GrowableBuffer<Int32>(reservingCapacity: 1 << 16)
        let targetTokens = GrowableBuffer<Int32>(reservingCapacity: 1 << 16)
        let sourceOffsets = GrowableBuffer<Int64>(reservingCapacity: 1 << 12)
        let targetOffsets = GrowableBuffer<Int64>(reservingCapacity: 1 << 12)
        sourceOffsets.append(0)
        targetOffsets.append(0)
        var statistics = CorpusStatistics()
        let slicesPerChunk = max(1, ProcessInfo.processInfo.activeProcessorCount * 4)
        let readQueue = DispatchQueue(label: "s2s.corpus.read")

        // Per-slice outputs, kept across chunks so their buffers are reused, not reallocated.
        var slices = [EncodedSlice](repeating: EncodedSlice(), count: slicesPerChunk)
        reader.readNext()
        while true {
            guard let chunk = try reader.takeChunk() else { break }
            // Read the next chunk on another thread while every core encodes this one, so
            // reading (and gzip decompression) costs no extra wall time.
            let reading = DispatchGroup()
            readQueue.async(group: reading) { reader.readNext() }
            let sliceCount = encode(chunk, into: &slices, encoder: encoder, filter: filter, maxSlices: slicesPerChunk)
            reading.wait()
            for slice in slices[0..<sliceCount] {
                for (index, verdict) in slice.verdicts.enumerated() {
                    switch verdict {
                    case .kept: break
                    case .invalidSource, .invalidTarget:
                        if !filter.skipInvalidUTF8 {
                            let line = chunk.firstLine + slice.firstPair + index
                            throw IOError.invalidUTF8(path: verdict == .invalidSource ? reader.sourceName : reader.targetName,
                                                      line: line)
                        }
                        statistics.skippedInvalidUTF8 += 1
                    case .empty: statistics.filteredEmpty += 1
                    case .tooLong: statistics.filteredTooLong += 1
                    case .lengthRatio: statistics.filteredLengthRatio += 1
                    }
                }
                append(slice.source, to: sourceTokens, offsets: sourceOffsets)
                append(slice.target, to: targetTokens, offsets: targetOffsets)
            }
            statistics.pairsRead += chunk.count
            statistics.pairsKept = sourceOffsets.count - 1
            statistics.sourceTokens = sourceTokens.count
            statistics.targetTokens = targetTokens.count
            progress?(statistics)
            reader.recycle(consume chunk)
        }
        for buffer in [sourceTokens, targetTokens] { buffer.shrinkToFit() }
        for buffer in [sourceOffsets, targetOffsets] { buffer.shrinkToFit() }
        return ParallelCorpus(sourceTokens: sourceTokens.elements, sourceOffsets: sourceOffsets.elements,
                              targetTokens: targetTokens.elements, targetOffsets: targetOffsets.elements,
                              statistics: statistics, filter: filter,
                              vocabularyFingerprint: encoder.fingerprint, vocabularySize: encoder.vocabularySize,
                              owners: [sourceTokens, sourceOffsets, targetTokens, targetOffsets])
    }

    /// Appends one slice's sentences (ids already ending in `</s>`) and their start offsets.
    private static func append(_ side: EncodedSide, to tokens: GrowableBuffer<Int32>, offsets: GrowableBuffer<Int64>) {
        side.tokens.withUnsafeBufferPointer { tokens.append(contentsOf: $0) }
        var end = offsets.elements.last ?? 0
        for length in side.lengths {
            end += Int64(length)
            offsets.append(end)
        }
    }

    /// Validates, encodes and filters `chunk` in up to `maxSlices` contiguous slices on all
    /// cores, into `slices` (whose first entries are overwritten); returns the slices used.
    private static func encode(_ chunk: RawChunk, into slices: inout [EncodedSlice], encoder: any SentenceEncoder,
                               filter: CorpusFilter, maxSlices: Int) -> Int {
        let perSlice = (chunk.count + maxSlices - 1) / maxSlices
        let sliceCount = (chunk.count + perSlice - 1) / perSlice
        slices.withUnsafeMutableBufferPointer { output in
            let output = UncheckedSendable(output)
            chunk.bytes.withUnsafeBufferPointer { bytes in
                let bytes = UncheckedSendable(bytes)
                DispatchQueue.concurrentPerform(iterations: sliceCount) { slice in
                    let first = slice * perSlice
                    let last = min(first + perSlice, chunk.count)
                    encodeSlice(chunk, bytes: bytes.value, pairs: first..<last, into: &output.value[slice],
                                encoder: encoder, filter: filter)
                }
            }
        }
        return sliceCount
    }

    /// Judges and encodes pairs `pairs` of `chunk` into `slice`, keeping the ids of the pairs that pass.
    private static func encodeSlice(_ chunk: RawChunk, bytes: UnsafeBufferPointer<UInt8>, pairs: Range<Int>,
                                    into slice: inout EncodedSlice, encoder: any SentenceEncoder, filter: CorpusFilter) {
        slice.removeAll()
        slice.firstPair = pairs.lowerBound
        for pair in pairs {
            let sourceBytes = UnsafeBufferPointer(rebasing: bytes[chunk.sourceRanges[pair]])
            let targetBytes = UnsafeBufferPointer(rebasing: bytes[chunk.targetRanges[pair]])
            guard let sourceText = String(validating: sourceBytes, as: UTF8.self) else {
                slice.verdicts.append(.invalidSource); continue
            }
            guard let targetText = String(validating: targetBytes, as: UTF8.self) else {
                slice.verdicts.append(.invalidTarget); continue
            }
            if isBlank(sourceBytes) || isBlank(targetBytes) { slice.verdicts.append(.empty); continue }
            let sourceIds = encoder.encode(sourceText)
            let targetIds = encoder.encode(targetText)
            let verdict = judge(sourceLength: sourceIds.count, targetLength: targetIds.count, filter: filter)
            slice.verdicts.append(verdict)
            guard verdict == .kept else { continue }
            slice.source.append(sourceIds)
            slice.target.append(targetIds)
        }
    }

    /// The filter's verdict on a pair of non-blank sentences with these token counts (no `</s>`).
    static func judge(sourceLength: Int, targetLength: Int, filter: CorpusFilter) -> Verdict {
        // A non-blank line can still encode to nothing (an encoder that drops every character).
        if sourceLength == 0 || targetLength == 0 { return .empty }
        if sourceLength > filter.maxLength || targetLength > filter.maxLength { return .tooLong }
        if let ratio = filter.maxLengthRatio {
            let longer = Double(max(sourceLength, targetLength))
            let shorter = Double(min(sourceLength, targetLength))
            if longer > ratio * shorter { return .lengthRatio }
        }
        return .kept
    }

    /// True when `bytes` holds only ASCII spaces, tabs, carriage returns and form feeds.
    private static func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where !(byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0B || byte == 0x0C) {
            return false
        }
        return true
    }
}

/// Why a pair was kept or dropped.
enum Verdict: UInt8, Sendable {
    case kept, invalidSource, invalidTarget, empty, tooLong, lengthRatio
}

/// The kept sentences of one side of a slice: ids (each sentence ending in `</s>`) and lengths.
struct EncodedSide {
    var tokens: [Int32] = []
    var lengths: [Int32] = []

    mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
    }

    mutating func append(_ ids: [Int32]) {
        tokens.append(contentsOf: ids)
        tokens.append(SpecialTokens.eos)
        lengths.append(Int32(ids.count + 1))
    }
}

/// One slice of a chunk after encoding: a verdict for every pair, ids for the kept ones.
struct EncodedSlice {
    /// Index in the chunk of the slice's first pair.
    var firstPair = 0
    var verdicts: [Verdict] = []
    var source = EncodedSide()
    var target = EncodedSide()

    mutating func removeAll() {
        verdicts.removeAll(keepingCapacity: true)
        source.removeAll()
        target.removeAll()
    }
}

/// A chunk of raw lines copied out of the readers: both sides' bytes in one array.
struct RawChunk {
    /// 1-based line number of the chunk's first pair.
    var firstLine = 1
    var bytes: [UInt8] = []
    var sourceRanges: [Range<Int>] = []
    var targetRanges: [Range<Int>] = []

    var count: Int { sourceRanges.count }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        sourceRanges.removeAll(keepingCapacity: true)
        targetRanges.removeAll(keepingCapacity: true)
    }

    mutating func reserveCapacity(pairs: Int) {
        sourceRanges.reserveCapacity(pairs)
        targetRanges.reserveCapacity(pairs)
    }

    /// Appends `line` and returns where it landed in `bytes`.
    mutating func store(_ line: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        let start = bytes.count
        bytes.append(contentsOf: line)
        return start..<bytes.count
    }
}

/// Reads raw line pairs from two aligned files or one TSV stream, checking alignment.
struct PairReader {
    private let source: LineReader
    private let target: LineReader?
    /// Name of the source side in messages.
    let sourceName: String
    /// Name of the target side in messages (the TSV file itself for a TSV input).
    let targetName: String
    private var linesRead = 0

    init(_ input: CorpusInput) throws {
        switch input {
        case let .files(sourcePath, targetPath):
            source = try LineReader(path: sourcePath)
            target = try LineReader(path: targetPath)
            sourceName = source.name
            targetName = target!.name
        case let .tsv(path):
            source = try LineReader(path: path)
            target = nil
            sourceName = source.name
            targetName = source.name
        }
    }

    /// Replaces `chunk` with up to `maxPairs` next pairs; false when the input is exhausted.
    mutating func read(into chunk: inout RawChunk, maxPairs: Int) throws -> Bool {
        chunk.removeAll()
        chunk.reserveCapacity(pairs: min(maxPairs, 1 << 16))
        chunk.firstLine = linesRead + 1
        while chunk.count < maxPairs {
            guard let line = try source.nextLineBytes() else {
                if let target, try target.nextLineBytes() != nil {
                    throw CorpusError.lineCountMismatch(shorter: sourceName, longer: targetName, lastLine: linesRead)
                }
                break
            }
            if let target {
                let sourceRange = chunk.store(line)
                guard let targetLine = try target.nextLineBytes() else {
                    throw CorpusError.lineCountMismatch(shorter: targetName, longer: sourceName, lastLine: linesRead)
                }
                chunk.sourceRanges.append(sourceRange)
                chunk.targetRanges.append(chunk.store(targetLine))
            } else {
                guard let tab = line.firstIndex(of: 0x09) else {
                    throw CorpusError.missingTab(path: sourceName, line: linesRead + 1)
                }
                let range = chunk.store(line)
                chunk.sourceRanges.append(range.lowerBound..<(range.lowerBound + tab))
                chunk.targetRanges.append((range.lowerBound + tab + 1)..<range.upperBound)
            }
            linesRead += 1
        }
        return chunk.count > 0
    }
}

/// Reads chunks of pairs one step ahead of the encoder, on a background queue.
///
/// Only one read runs at a time and the loader touches the reader only between reads (the
/// dispatch group's wait orders the two), hence `@unchecked Sendable`.
final class ChunkReader: @unchecked Sendable {
    private var reader: PairReader
    private let chunkPairs: Int
    /// The chunk read ahead, nil at the end of the input.
    private var pending: RawChunk?
    /// The failure of the last read, rethrown when its chunk is asked for.
    private var failure: Error?
    /// A spent chunk whose buffers the next read refills: two chunks' memory is reused for the
    /// whole load instead of allocating (and fragmenting the heap with) a new one each time.
    private var spare = RawChunk()

    let sourceName: String
    let targetName: String

    init(_ reader: PairReader, chunkPairs: Int) {
        self.reader = reader
        self.chunkPairs = chunkPairs
        sourceName = reader.sourceName
        targetName = reader.targetName
    }

    /// Reads the next chunk into `pending` (or records the end of input or the failure).
    func readNext() {
        var chunk = spare
        spare = RawChunk()
        do {
            pending = try reader.read(into: &chunk, maxPairs: chunkPairs) ? chunk : nil
        } catch {
            pending = nil
            failure = error
        }
    }

    /// Hands back a chunk the loader is done with, for the next read to refill.
    func recycle(_ chunk: consuming RawChunk) {
        spare = chunk
    }

    /// The chunk read ahead, nil at the end of the input.
    func takeChunk() throws -> RawChunk? {
        if let failure { throw failure }
        defer { pending = nil }
        return pending
    }
}
