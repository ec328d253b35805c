import S2SCorpus

/// A deterministic stand-in for a subword vocabulary: each whitespace-separated word gets an id
/// from a hash, in 4..<vocabularySize (ids 0–3 are the special tokens).
struct WordHashEncoder: SentenceEncoder {
    var vocabularySize = 8000
    var fingerprint = "word-hash-8000"

    func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        var inWord = false
        for byte in text.utf8 {
            if byte == 0x20 || byte == 0x09 {
                if inWord { ids.append(id(hash)); hash = 0xCBF2_9CE4_8422_2325; inWord = false }
            } else {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
                inWord = true
            }
        }
        if inWord { ids.append(id(hash)) }
        return ids
    }

    private func id(_ hash: UInt64) -> Int32 { Int32(4 + hash % UInt64(vocabularySize - 4)) }
}
