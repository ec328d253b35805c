import S2SCore

/// Turns text into subword ids with one vocabulary, remembering each word's ids.
///
/// Words are independent in this BPE (a merge never crosses a `▁`), so a word's ids are
/// computed once and then read from the cache: on real text nearly every word is a hit,
/// which makes encoding a table lookup per word. Not thread-safe: use one encoder per thread
/// (`SubwordVocabulary.makeEncoder()`), or the vocabulary's own `encode`, which is.
public final class SubwordEncoder {
    /// The normalisation of the vocabulary.
    private let normalization: TextNormalization
    /// Id of `▁`.
    private let boundaryId: Int32
    /// ASCII byte → id or -1.
    private let asciiIds: [Int32]
    /// Scalar ≥ 128 → id.
    private let scalarIds: [UInt32: Int32]
    /// Pair → merged id (smaller = earlier merge).
    private let mergeResults: [UInt64: Int32]
    /// Word → entry index; entry i's ids are cachedIds[idStarts[i]..<idStarts[i + 1]].
    private var cache = ByteKeyTable(initialCapacity: 1 << 14)
    private var cachedIds: [Int32] = []
    private var idStarts: [Int] = [0]
    /// Symbols of the word being merged (reused between words).
    private var symbols: [Int32] = []
    /// The cache is emptied when it holds this many words, bounding memory on huge inputs.
    private let cacheLimit = 1 << 20

    init(vocabulary: SubwordVocabulary) {
        normalization = vocabulary.normalization
        boundaryId = vocabulary.boundaryId
        asciiIds = vocabulary.asciiIds
        scalarIds = vocabulary.scalarIds
        mergeResults = vocabulary.mergeResults
    }

    /// Subword ids of `text` (no `<s>`/`</s>`).
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        encode(text, into: &ids)
        return ids
    }

    /// Appends the subword ids of `text` to `ids` (no `<s>`/`</s>`), allocation-free once warm.
    public func encode(_ text: String, into ids: inout [Int32]) {
        var normalized = Normalizer.unicodeNormalize(text, normalization)
        normalized.withUTF8 { bytes in
            Normalizer.forEachWord(in: bytes) { word in appendIds(ofWord: word, to: &ids) }
        }
    }

    /// Appends the subword ids of a line given as UTF-8 bytes, which must be valid UTF-8 (as
    /// `LineReader` checks). Pure-ASCII lines, NFKC-invariant, skip building a String.
    public func encode(utf8 bytes: UnsafeBufferPointer<UInt8>, into ids: inout [Int32]) {
        if Normalizer.isASCII(bytes) {
            Normalizer.forEachWord(in: bytes) { word in appendIds(ofWord: word, to: &ids) }
        } else {
            encode(String(decoding: bytes, as: UTF8.self), into: &ids)
        }
    }

    /// Subword ids of `text` with BPE-dropout probability `dropout` (no cache: every call
    /// draws a fresh segmentation).
    public func encode(_ text: String, dropout: Float, rng: inout SeededRNG) -> [Int32] {
        if dropout <= 0 { return encode(text) }
        var ids: [Int32] = []
        var normalized = Normalizer.unicodeNormalize(text, normalization)
        normalized.withUTF8 { bytes in
            Normalizer.forEachWord(in: bytes) { word in
                loadSymbols(ofWord: word)
                applyMerges(dropout: dropout, rng: &rng)
                ids.append(contentsOf: symbols)
            }
        }
        return ids
    }

    /// Appends one word's ids, from the cache or by running the merges.
    @inline(__always)
    private func appendIds(ofWord word: UnsafeBufferPointer<UInt8>, to ids: inout [Int32]) {
        let hash = ByteKeyTable.hash(word)
        if let entry = cache.find(word, hash: hash) {
            let start = idStarts[entry], end = idStarts[entry + 1]
            cachedIds.withUnsafeBufferPointer { ids.append(contentsOf: UnsafeBufferPointer(rebasing: $0[start..<end])) }
            return
        }
        loadSymbols(ofWord: word)
        var rng = SeededRNG(seed: 0)
        applyMerges(dropout: 0, rng: &rng)
        ids.append(contentsOf: symbols)
        if cache.count >= cacheLimit {
            cache.removeAll()
            cachedIds.removeAll(keepingCapacity: true)
            idStarts = [0]
        }
        _ = cache.findOrInsert(word)
        cachedIds.append(contentsOf: symbols)
        idStarts.append(cachedIds.count)
    }

    /// Fills `symbols` with `▁` and the word's characters; a character outside the alphabet
    /// becomes its UTF-8 byte pieces, which no merge ever joins.
    private func loadSymbols(ofWord word: UnsafeBufferPointer<UInt8>) {
        symbols.removeAll(keepingCapacity: true)
        symbols.append(boundaryId)
        var index = 0
        let count = word.count
        while index < count {
            let lead = word[index]
            if lead < 0x80 {
                let id = asciiIds[Int(lead)]
                symbols.append(id >= 0 ? id : SubwordVocabulary.firstByteId + Int32(lead))
                index += 1
                continue
            }
            // A valid UTF-8 sequence: the lead byte gives its length.
            let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
            let end = min(index + length, count)
            var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for continuation in (index + 1)..<end { value = value << 6 | UInt32(word[continuation] & 0x3F) }
            if let id = scalarIds[value] {
                symbols.append(id)
            } else {
                for byteIndex in index..<end { symbols.append(SubwordVocabulary.firstByteId + Int32(word[byteIndex])) }
            }
            index = end
        }
    }

    /// Repeatedly joins the adjacent pair that was merged earliest in training (leftmost on
    /// a tie) until no learned merge applies. With `dropout` > 0 each candidate pair is
    /// skipped with that probability at every step.
    private func applyMerges(dropout: Float, rng: inout SeededRNG) {
        while symbols.count > 1 {
            var bestPosition = -1
            var bestId = Int32.max
            for position in 0..<(symbols.count - 1) {
                let key = UInt64(UInt32(bitPattern: symbols[position])) << 32
                    | UInt64(UInt32(bitPattern: symbols[position + 1]))
                if let merged = mergeResults[key], merged < bestId {
                    if dropout > 0 && rng.uniform() < dropout { continue }
                    bestId = merged
                    bestPosition = position
                }
            }
            if bestPosition < 0 { return }
            symbols[bestPosition] = bestId
            symbols.remove(at: bestPosition + 1)
        }
    }
}
