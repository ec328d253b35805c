import Foundation
import S2SIO
import S2SCore

/// A BPE subword vocabulary learned on raw text, SentencePiece style: each word carries a
/// leading `▁` (U+2581) in place of the space before it, so decoding is exact without any
/// detokeniser; characters outside the learned alphabet fall back to their UTF-8 bytes.
///
/// Ids: 0 `<pad>`, 1 `<unk>`, 2 `<s>`, 3 `</s>` (as `SpecialTokens`), 4…259 the byte pieces
/// `<0x00>`…`<0xFF>`, then the alphabet (most frequent character first), then one piece per
/// merge in the order they were learned (the merge rank).
///
/// Immutable and safe to share between threads. `encode` borrows a `SubwordEncoder` from a
/// small pool, so concurrent calls never share a word cache; a hot loop on one thread can
/// hold its own with `makeEncoder()` and skip the pool.
public final class SubwordVocabulary: @unchecked Sendable {
    /// What a vocabulary entry is.
    enum PieceKind: Equatable {
        /// `<pad>`, `<unk>`, `<s>`, `</s>`.
        case special
        /// One raw byte (byte fallback).
        case byte(UInt8)
        /// One Unicode scalar of the alphabet, with its count in the training text.
        case character(Unicode.Scalar, count: Int)
        /// The concatenation of two earlier pieces.
        case merge(left: Int32, right: Int32)
    }

    /// The id of the first byte piece `<0x00>`.
    static let firstByteId: Int32 = 4
    /// The smallest useful size: reserved symbols, the 256 bytes and `▁`.
    public static let minimumSize = 4 + 256 + 1

    /// The normalisation applied to all text before splitting.
    public let normalization: TextNormalization
    /// Piece strings by id.
    let pieceStrings: [String]
    /// Piece kinds by id.
    let kinds: [PieceKind]
    /// Id of the first merge piece (= 260 + alphabet size).
    let firstMergeId: Int32
    /// Id of `▁`.
    let boundaryId: Int32
    /// Alphabet scalar → id, for scalars ≥ 128.
    let scalarIds: [UInt32: Int32]
    /// ASCII byte → id, or -1 when the character is not in the alphabet.
    let asciiIds: [Int32]
    /// (left << 32 | right) → id of the merged piece; a smaller id is an earlier merge.
    let mergeResults: [UInt64: Int32]
    /// What each id decodes to (`▁` → space, byte pieces → their byte), back to back.
    let surfaceBytes: [UInt8]
    /// Id → start of its surface in `surfaceBytes`; size + 1 elements.
    let surfaceStarts: [Int]
    /// UTF-8 of every piece string back to back, for fast printing.
    let pieceText: [UInt8]
    /// Id → start of its piece in `pieceText`; size + 1 elements.
    let pieceTextStarts: [Int]
    /// Piece string → id (the first id, should two merges spell the same string).
    let pieceIds: [String: Int32]
    /// Options recorded in the header for the reader's information (`key=value`).
    let headerNotes: [(String, String)]

    private let poolLock = NSLock()
    nonisolated(unsafe) private var encoderPool: [SubwordEncoder] = []

    /// The number of pieces, reserved symbols and byte pieces included.
    public var size: Int { pieceStrings.count }

    /// Builds the lookup tables from the piece list; `kinds` must be valid (checked by callers).
    init(normalization: TextNormalization, pieces: [String], kinds: [PieceKind],
         headerNotes: [(String, String)] = []) {
        self.normalization = normalization
        self.pieceStrings = pieces
        self.kinds = kinds
        self.headerNotes = headerNotes
        var scalarIds: [UInt32: Int32] = [:]
        var asciiIds = [Int32](repeating: -1, count: 128)
        var mergeResults: [UInt64: Int32] = [:]
        var surfaceBytes: [UInt8] = []
        var surfaceStarts: [Int] = [0]
        var pieceIds: [String: Int32] = [:]
        var firstMergeId = Int32(pieces.count)
        var boundaryId: Int32 = -1
        for (index, kind) in kinds.enumerated() {
            let id = Int32(index)
            switch kind {
            case .special:
                break
            case let .byte(value):
                surfaceBytes.append(value)
            case let .character(scalar, _):
                if scalar.value < 128 { asciiIds[Int(scalar.value)] = id } else { scalarIds[scalar.value] = id }
                if scalar == wordBoundary { boundaryId = id; surfaceBytes.append(0x20) }
                else { surfaceBytes.append(contentsOf: String(scalar).utf8) }
            case let .merge(left, right):
                if firstMergeId == Int32(pieces.count) { firstMergeId = id }
                mergeResults[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))] = id
                // Byte by byte: appending a slice of the array to itself would copy the whole
                // array on every merge (the slice keeps its buffer shared), quadratic in the size.
                for part in [left, right] {
                    for offset in surfaceStarts[Int(part)]..<surfaceStarts[Int(part) + 1] { surfaceBytes.append(surfaceBytes[offset]) }
                }
            }
            surfaceStarts.append(surfaceBytes.count)
            if pieceIds[pieces[index]] == nil { pieceIds[pieces[index]] = id }
        }
        var pieceText: [UInt8] = []
        var pieceTextStarts = [0]
        for piece in pieces {
            pieceText.append(contentsOf: piece.utf8)
            pieceTextStarts.append(pieceText.count)
        }
        self.pieceText = pieceText
        self.pieceTextStarts = pieceTextStarts
        self.scalarIds = scalarIds
        self.asciiIds = asciiIds
        self.mergeResults = mergeResults
        self.surfaceBytes = surfaceBytes
        self.surfaceStarts = surfaceStarts
        self.pieceIds = pieceIds
        self.firstMergeId = firstMergeId
        self.boundaryId = boundaryId
    }

    // MARK: Files

    /// Reads a vocabulary file written by `write(to:)` or `s2s vocab`.
    public convenience init(contentsOfFile path: String) throws {
        let reader = try LineReader(path: path)
        var lines: [String] = []
        while let line = try reader.nextLine() {
            // Reject a foreign file at its first line rather than after reading all of it.
            if lines.isEmpty && !line.hasPrefix("#s2s-vocab") { break }
            lines.append(line)
        }
        if lines.isEmpty, reader.lineNumber > 0 { lines = ["?"] }
        try self.init(lines: lines, name: path)
    }

    /// Parses the text of a vocabulary file; `name` is used in error messages.
    public convenience init(serialized text: String, name: String) throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        try self.init(lines: lines, name: name)
    }

    /// Writes the vocabulary atomically (a reader sees the old file or the new one, whole).
    public func write(to path: String) throws {
        try AtomicFile.write(text: serialized(), to: path)
    }

    /// A stable hex digest (64-bit FNV-1a) of `serialized()`, stored in models and corpora so
    /// a mismatched vocabulary is caught before it silently scrambles ids.
    public var fingerprint: String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in serialized().utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    // MARK: Text ↔ ids

    /// The text as encode/decode see it: NFKC (unless disabled), words joined by single spaces.
    public func normalize(_ text: String) -> String {
        Normalizer.normalize(text, normalization)
    }

    /// A new encoder with its own word cache, for one thread's exclusive use.
    public func makeEncoder() -> SubwordEncoder { SubwordEncoder(vocabulary: self) }

    /// Subword ids of `text` (no `<s>`/`</s>` added). Thread-safe.
    public func encode(_ text: String) -> [Int32] {
        withPooledEncoder { $0.encode(text) }
    }

    /// Subword ids with BPE-dropout (Provilkov et al. 2020): each applicable merge is skipped
    /// with probability `dropout` at every merge step. `dropout` 0 equals `encode(_:)`.
    public func encode(_ text: String, dropout: Float, rng: inout SeededRNG) -> [Int32] {
        let encoder = borrowEncoder()
        defer { returnEncoder(encoder) }
        return encoder.encode(text, dropout: dropout, rng: &rng)
    }

    /// Piece strings of `text` (what `s2s encode` prints).
    public func pieces(_ text: String) -> [String] {
        encode(text).map { pieceStrings[Int($0)] }
    }

    /// The text of `ids`: surfaces concatenated, `▁` read as a space, the leading space
    /// dropped. Ids 0…3 and ids outside the vocabulary are skipped; byte pieces that do not
    /// form valid UTF-8 become U+FFFD.
    public func decode(_ ids: some Sequence<Int32>) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        surfaceBytes.withUnsafeBufferPointer { surfaces in
            for id in ids where id > SpecialTokens.eos && Int(id) < pieceStrings.count {
                let start = surfaceStarts[Int(id)], end = surfaceStarts[Int(id) + 1]
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: surfaces[start..<end]))
            }
        }
        let dropLeadingSpace = bytes.first == 0x20
        return String(decoding: bytes[(dropLeadingSpace ? 1 : 0)...], as: UTF8.self)
    }

    /// The piece string of `id` (`<unk>` for an id outside the vocabulary).
    public func piece(for id: Int32) -> String {
        id >= 0 && Int(id) < pieceStrings.count ? pieceStrings[Int(id)] : pieceStrings[Int(SpecialTokens.unk)]
    }

    /// The id of a piece string, or nil.
    public func id(for piece: String) -> Int32? { pieceIds[piece] }

    private func borrowEncoder() -> SubwordEncoder {
        poolLock.lock()
        let encoder = encoderPool.popLast()
        poolLock.unlock()
        return encoder ?? SubwordEncoder(vocabulary: self)
    }

    private func returnEncoder(_ encoder: SubwordEncoder) {
        poolLock.lock()
        if encoderPool.count < 16 { encoderPool.append(encoder) }
        poolLock.unlock()
    }

    private func withPooledEncoder<T>(_ body: (SubwordEncoder) -> T) -> T {
        let encoder = borrowEncoder()
        defer { returnEncoder(encoder) }
        return body(encoder)
    }
}

extension SubwordVocabulary {
    /// Appends the piece strings of `ids` in UTF-8, separated by single spaces, to `output`
    /// (the text form `s2s encode` prints, without building a String per piece).
    public func appendPieceText(of ids: [Int32], to output: inout [UInt8]) {
        pieceText.withUnsafeBufferPointer { text in
            for (position, id) in ids.enumerated() {
                if position > 0 { output.append(0x20) }
                let known = id >= 0 && Int(id) < size ? Int(id) : Int(SpecialTokens.unk)
                output.append(contentsOf: UnsafeBufferPointer(rebasing: text[pieceTextStarts[known]..<pieceTextStarts[known + 1]]))
            }
        }
    }
}
