/// Text primitives that behave exactly like the Python `str` methods sacreBLEU relies on
/// (`split()`, `rstrip()`, `lower()`), working on UTF-8 bytes so the hot paths never build
/// a `String`.
enum PythonText {
    /// True for the code points Python's `str.isspace()` accepts, which are the separators of
    /// `str.split()`: ASCII \t \n \v \f \r, the four information separators U+001C–U+001F,
    /// space, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
    @inline(__always)
    static func isWhitespace(_ scalar: UInt32) -> Bool {
        if scalar < 0x80 { return (scalar >= 0x09 && scalar <= 0x0D) || (scalar >= 0x1C && scalar <= 0x20) }
        switch scalar {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// The byte length of the UTF-8 sequence starting with `lead` (1 for stray continuation bytes,
    /// so malformed input can never stall a scan).
    @inline(__always)
    static func sequenceLength(lead: UInt8) -> Int {
        if lead < 0xC0 { return 1 }
        if lead < 0xE0 { return 2 }
        if lead < 0xF0 { return 3 }
        return 4
    }

    /// Decodes the scalar at `index` of valid UTF-8 `bytes`; returns it and its byte length.
    @inline(__always)
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (scalar: UInt32, length: Int) {
        let lead = bytes[index]
        if lead < 0x80 { return (UInt32(lead), 1) }
        let length = min(sequenceLength(lead: lead), bytes.count - index)
        var scalar: UInt32
        switch length {
        case 2: scalar = UInt32(lead & 0x1F)
        case 3: scalar = UInt32(lead & 0x0F)
        case 4: scalar = UInt32(lead & 0x07)
        default: return (UInt32(lead), 1)
        }
        for offset in 1..<length { scalar = (scalar << 6) | UInt32(bytes[index + offset] & 0x3F) }
        return (scalar, length)
    }

    /// The byte length of the whitespace character at `index`, or 0 when it is not whitespace.
    @inline(__always)
    static func whitespaceLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let lead = bytes[index]
        if lead < 0x80 { return isWhitespace(UInt32(lead)) ? 1 : 0 }
        // Only U+0085, U+00A0 (C2 lead), U+1680 (E1), U+2000… (E2) and U+3000 (E3) qualify.
        guard lead == 0xC2 || lead == 0xE1 || lead == 0xE2 || lead == 0xE3 else { return 0 }
        let (scalar, length) = decode(bytes, at: index)
        return isWhitespace(scalar) ? length : 0
    }

    /// The byte count of `bytes` once trailing whitespace is removed (Python `rstrip()`).
    static func rstrippedCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var end = bytes.count
        while end > 0 {
            // Step back to the start of the last character.
            var start = end - 1
            while start > 0 && bytes[start] & 0xC0 == 0x80 && end - start < 4 { start -= 1 }
            let length = whitespaceLength(bytes, at: start)
            if length == end - start { end = start } else { break }
        }
        return end
    }

    /// Python's `str.lower()` of UTF-8 text into `output` (replacing its contents).
    /// ASCII text is lowered byte by byte; other characters take their full Unicode lowercase
    /// mapping (so `İ` becomes `i̇`), and capital sigma becomes final `ς` at the end of a word,
    /// exactly Python's Final_Sigma rule.
    static func lowercase(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.removeAll(keepingCapacity: true)
        var isASCII = true
        for byte in bytes where byte >= 0x80 { isASCII = false; break }
        if isASCII {
            for byte in bytes { output.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) }
            return
        }
        let scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            if scalar.value < 0x80 {
                let byte = UInt8(scalar.value)
                output.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
            } else if scalar.value == 0x3A3 {
                output.append(contentsOf: (isFinalSigma(scalars, at: index) ? "ς" : "σ").utf8)
            } else {
                output.append(contentsOf: scalar.properties.lowercaseMapping.utf8)
            }
        }
    }

    /// Python's Final_Sigma test: a cased letter before (skipping case-ignorable characters)
    /// and none after.
    static func isFinalSigma(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
        var before = index - 1
        while before >= 0 && scalars[before].properties.isCaseIgnorable { before -= 1 }
        guard before >= 0 && scalars[before].properties.isCased else { return false }
        var after = index + 1
        while after < scalars.count && scalars[after].properties.isCaseIgnorable { after += 1 }
        return after == scalars.count || !scalars[after].properties.isCased
    }

    /// Appends the ranges of the whitespace-separated words of `bytes` (Python `str.split()`)
    /// to `ends`/`starts`, offset by `base`.
    static func split(_ bytes: UnsafeBufferPointer<UInt8>, base: Int, into words: inout [Range<Int>]) {
        var index = 0
        var wordStart = -1
        let count = bytes.count
        while index < count {
            let spaceLength = whitespaceLength(bytes, at: index)
            if spaceLength > 0 {
                if wordStart >= 0 { words.append((base + wordStart)..<(base + index)); wordStart = -1 }
                index += spaceLength
            } else {
                if wordStart < 0 { wordStart = index }
                index += 1
            }
        }
        if wordStart >= 0 { words.append((base + wordStart)..<(base + count)) }
    }
}

/// `line` without trailing whitespace, exactly as Python's `str.rstrip()` (what sacreBLEU's
/// command line does to every line it reads).
public func rstrippedLikePython(_ line: String) -> String {
    withUTF8Bytes(line) { bytes in
        let kept = PythonText.rstrippedCount(bytes)
        return kept == bytes.count ? line : String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<kept]), as: UTF8.self)
    }
}
