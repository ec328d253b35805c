import Foundation

/// How text is normalised before it is split into subwords: the same in learning, encoding
/// and the corpus loader, so a piece seen in training is the piece seen in translation.
public enum TextNormalization: String, Sendable, CaseIterable {
    /// Unicode NFKC (compatibility composition): `ﬁ` → `fi`, full-width `Ａ` → `A`, `①` → `1`.
    case nfkc
    /// Text is used as it is (whitespace handling still applies).
    case none
}

/// The meta symbol that stands for a space at the start of each word (U+2581, `▁`).
let wordBoundary: Unicode.Scalar = "\u{2581}"
/// `▁` in UTF-8.
let wordBoundaryBytes: [UInt8] = [0xE2, 0x96, 0x81]

/// Text normalisation and word splitting, SentencePiece style.
///
/// `normalize(x)` is NFKC (unless disabled), then whitespace canonicalisation: a word is a
/// maximal run of characters other than space, tab, CR, vertical tab, form feed and `▁`;
/// the normalised text is its words joined by single spaces (leading and trailing whitespace
/// removed, runs collapsed). Encoding then decoding gives back exactly `normalize(x)`.
enum Normalizer {
    /// NFKC of `text`, skipping the (slow) Foundation call when every scalar is known to be
    /// NFKC-invariant: ASCII, most of Latin-1 and Latin Extended-A, and common typographic
    /// punctuation. Such scalars are starters with no compatibility mapping, so no sequence
    /// of them can change under NFKC.
    static func nfkc(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        var invariant = true
        for scalar in text.unicodeScalars where !isNFKCInvariant(scalar.value) {
            invariant = false
            break
        }
        return invariant ? text : text.precomposedStringWithCompatibilityMapping
    }

    /// True when every byte is ASCII (and so the text is NFKC-invariant).
    @inline(__always)
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var combined: UInt8 = 0
        for byte in bytes { combined |= byte }
        return combined < 0x80
    }

    /// True for scalars that NFKC leaves alone in any context (a conservative list).
    @inline(__always)
    static func isNFKCInvariant(_ value: UInt32) -> Bool {
        if value < 0xA0 { return true }
        if value < 0x180 {
            switch value {
            case 0xA0, 0xA8, 0xAA, 0xAF, 0xB2, 0xB3, 0xB4, 0xB5, 0xB8, 0xB9, 0xBA, 0xBC, 0xBD, 0xBE,
                 0x132, 0x133, 0x13F, 0x140, 0x149, 0x17F:
                return false
            default:
                return true
            }
        }
        switch value {
        case 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x20AC: return true
        default: return false
        }
    }

    /// True for the UTF-8 bytes that separate words (ASCII whitespace other than newline).
    @inline(__always)
    static func isSpaceByte(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }

    /// Calls `body` with each word of UTF-8 `text` (never empty, never containing whitespace
    /// or `▁`), in order.
    @inline(__always)
    static func forEachWord(in text: UnsafeBufferPointer<UInt8>,
                            _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        let count = text.count
        guard let base = text.baseAddress else { return }
        var index = 0
        var wordStart = 0
        while index < count {
            let byte = base[index]
            var separatorLength = 0
            if isSpaceByte(byte) {
                separatorLength = 1
            } else if byte == 0xE2, index + 2 < count, base[index + 1] == 0x96, base[index + 2] == 0x81 {
                separatorLength = 3
            }
            if separatorLength > 0 {
                if index > wordStart {
                    try body(UnsafeBufferPointer(start: base + wordStart, count: index - wordStart))
                }
                index += separatorLength
                wordStart = index
            } else {
                index += 1
            }
        }
        if count > wordStart {
            try body(UnsafeBufferPointer(start: base + wordStart, count: count - wordStart))
        }
    }

    /// Applies `normalization` (without whitespace canonicalisation).
    static func unicodeNormalize(_ text: String, _ normalization: TextNormalization) -> String {
        normalization == .nfkc ? nfkc(text) : text
    }

    /// The full normalisation: Unicode form, then words joined by single spaces.
    static func normalize(_ text: String, _ normalization: TextNormalization) -> String {
        var unicode = unicodeNormalize(text, normalization)
        var result: [UInt8] = []
        unicode.withUTF8 { bytes in
            result.reserveCapacity(bytes.count)
            forEachWord(in: bytes) { word in
                if !result.isEmpty { result.append(0x20) }
                result.append(contentsOf: word)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}
