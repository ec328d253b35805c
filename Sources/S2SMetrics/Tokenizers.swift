/// Tokenizers for BLEU, one small type each, matching sacreBLEU's byte for byte.
///
/// A tokenizer appends the tokens of one line to a `TokenizedText`: the tokenized bytes and
/// the byte range of every token. Working on UTF-8 bytes (or Unicode scalars where categories
/// matter) keeps the hot path free of `String` and `Character` work.

/// Tokens of one or more lines: UTF-8 bytes and the range of each token in them, plus scratch
/// buffers a tokenizer reuses so that tokenizing a corpus does not allocate per line.
public struct TokenizedText: Sendable {
    /// Token bytes (tokens may share this buffer with other lines' tokens).
    public var bytes: [UInt8] = []
    /// The byte range of each token in `bytes`.
    public var tokens: [Range<Int>] = []
    var scratch: [UInt8] = []
    var scratch2: [UInt8] = []
    var scratch3: [UInt8] = []
    var scalars: [UInt32] = []
    var scalars2: [UInt32] = []

    public init() {}

    /// Forgets all tokens (keeping capacity).
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        tokens.removeAll(keepingCapacity: true)
    }

    /// The tokens as strings (for tests and debugging).
    public var tokenStrings: [String] {
        tokens.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    /// Appends the whitespace-separated words of `source` (Python `str.split()`) as tokens.
    mutating func appendSplitting(_ source: [UInt8]) {
        let base = bytes.count
        bytes.append(contentsOf: source)
        source.withUnsafeBufferPointer { PythonText.split($0, base: base, into: &tokens) }
    }
}

/// A BLEU tokenizer: turns one (already lowercased and right-stripped) line into tokens.
public protocol BLEUTokenizer: Sendable {
    /// The name sacreBLEU prints in the signature (`tok:13a`).
    var signature: String { get }
    /// Appends the tokens of `line` to `output`.
    func tokenize(_ line: UnsafeBufferPointer<UInt8>, into output: inout TokenizedText)
}

extension BLEUTokenizer {
    /// The tokenized line as sacreBLEU returns it: tokens joined by single spaces.
    public func tokenize(_ line: String) -> String {
        var output = TokenizedText()
        var copy = line
        copy.withUTF8 { tokenize($0, into: &output) }
        return output.tokenStrings.joined(separator: " ")
    }
}

/// The tokenizer names accepted by `--tokenize`.
public enum TokenizerKind: String, CaseIterable, Sendable {
    case none, thirteenA = "13a", intl, char

    /// A tokenizer of this kind.
    public func makeTokenizer() -> any BLEUTokenizer {
        switch self {
        case .none: return NoneTokenizer()
        case .thirteenA: return Tokenizer13a()
        case .intl: return TokenizerIntl()
        case .char: return TokenizerChar()
        }
    }
}

/// No tokenization: the line is split on whitespace only (`tok:none`).
public struct NoneTokenizer: BLEUTokenizer {
    public init() {}
    public var signature: String { "none" }
    public func tokenize(_ line: UnsafeBufferPointer<UInt8>, into output: inout TokenizedText) {
        let base = output.bytes.count
        output.bytes.append(contentsOf: line)
        PythonText.split(line, base: base, into: &output.tokens)
    }
}

/// Every non-whitespace character is a token (`tok:char`).
public struct TokenizerChar: BLEUTokenizer {
    public init() {}
    public var signature: String { "char" }
    public func tokenize(_ line: UnsafeBufferPointer<UInt8>, into output: inout TokenizedText) {
        let base = output.bytes.count
        output.bytes.append(contentsOf: line)
        var index = 0
        while index < line.count {
            let length = min(PythonText.sequenceLength(lead: line[index]), line.count - index)
            if PythonText.whitespaceLength(line, at: index) == 0 {
                output.tokens.append((base + index)..<(base + index + length))
            }
            index += length
        }
    }
}

/// The mteval-v13a tokenizer used by WMT and sacreBLEU's default (`tok:13a`).
///
/// It unescapes four HTML entities, pads the line with spaces, then applies four regular
/// expressions in order, each a left-to-right, non-overlapping substitution; each is emulated
/// here by one pass over the bytes. All characters the patterns name are ASCII, so matching a
/// multi-byte character as "not a digit" at its last byte gives the same result as Python.
public struct Tokenizer13a: BLEUTokenizer {
    public init() {}
    public var signature: String { "13a" }

    /// The ASCII punctuation 13a always separates: `{|}~ [\]^_\` space!"#$%& ()*+ :;<=>?@ /`.
    @inline(__always)
    static func isSeparatedPunctuation(_ byte: UInt8) -> Bool {
        (byte >= 0x7B && byte <= 0x7E) || (byte >= 0x5B && byte <= 0x60) || (byte >= 0x20 && byte <= 0x26)
            || (byte >= 0x28 && byte <= 0x2B) || (byte >= 0x3A && byte <= 0x40) || byte == 0x2F
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    @inline(__always) static func isPeriodOrComma(_ byte: UInt8) -> Bool { byte == 0x2E || byte == 0x2C }

    public func tokenize(_ line: UnsafeBufferPointer<UInt8>, into output: inout TokenizedText) {
        var text: [UInt8] = [], next: [UInt8] = []
        swap(&text, &output.scratch)
        swap(&next, &output.scratch2)
        text.removeAll(keepingCapacity: true)
        // The padding spaces make every character have a left and right neighbour.
        text.append(0x20)
        text.append(contentsOf: line)
        text.append(0x20)

        // Language-independent part: `<skipped>` and `-\n` removed, `\n` → space, entities.
        if line.contains(0x3C) { Self.replace(&text, "<skipped>", with: "", using: &next) }
        if line.contains(0x0A) {
            Self.replace(&text, "-\n", with: "", using: &next)
            for index in text.indices where text[index] == 0x0A { text[index] = 0x20 }
        }
        if line.contains(0x26) {
            Self.replace(&text, "&quot;", with: "\"", using: &next)
            Self.replace(&text, "&amp;", with: "&", using: &next)
            Self.replace(&text, "&lt;", with: "<", using: &next)
            Self.replace(&text, "&gt;", with: ">", using: &next)
        }

        // Each pass at most triples the length (pass 1) or doubles it (passes 2–4).
        let capacity = 3 * text.count * 2 * 2 * 2 + 16
        if next.count < capacity { next = [UInt8](repeating: 0, count: capacity) }
        var spare = [UInt8](repeating: 0, count: 0)
        swap(&spare, &output.scratch3)
        if spare.count < capacity { spare = [UInt8](repeating: 0, count: capacity) }
        let finalCount = text.withUnsafeBufferPointer { source in
            next.withUnsafeMutableBufferPointer { first in
                spare.withUnsafeMutableBufferPointer { second in
                    var count = Self.separatePunctuation(source.baseAddress!, source.count, first.baseAddress!)
                    count = Self.separatePeriodCommaAfterNonDigit(first.baseAddress!, count, second.baseAddress!)
                    count = Self.separatePeriodCommaBeforeNonDigit(second.baseAddress!, count, first.baseAddress!)
                    return Self.separateDashAfterDigit(first.baseAddress!, count, second.baseAddress!)
                }
            }
        }
        let base = output.bytes.count
        output.bytes.append(contentsOf: spare[0..<finalCount])
        output.bytes.withUnsafeBufferPointer { bytes in
            PythonText.split(UnsafeBufferPointer(rebasing: bytes[base...]), base: base, into: &output.tokens)
        }
        output.scratch = text
        output.scratch2 = next
        output.scratch3 = spare
    }

    /// 1. `([\{-\~\[-\` -\&\(-\+\:-\@\/])` → `' \1 '`
    @inline(__always)
    static func separatePunctuation(_ source: UnsafePointer<UInt8>, _ count: Int,
                                    _ target: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0
        for index in 0..<count {
            let byte = source[index]
            if isSeparatedPunctuation(byte) {
                target[written] = 0x20; target[written + 1] = byte; target[written + 2] = 0x20
                written += 3
            } else {
                target[written] = byte; written += 1
            }
        }
        return written
    }

    /// 2. `([^0-9])([\.,])` → `'\1 \2 '` (period and comma unless preceded by a digit)
    @inline(__always)
    static func separatePeriodCommaAfterNonDigit(_ source: UnsafePointer<UInt8>, _ count: Int,
                                                 _ target: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0, index = 0
        while index < count {
            let byte = source[index]
            if index + 1 < count, !isDigit(byte), isPeriodOrComma(source[index + 1]) {
                target[written] = byte; target[written + 1] = 0x20
                target[written + 2] = source[index + 1]; target[written + 3] = 0x20
                written += 4; index += 2
            } else {
                target[written] = byte; written += 1; index += 1
            }
        }
        return written
    }

    /// 3. `([\.,])([^0-9])` → `' \1 \2'` (period and comma unless followed by a digit)
    @inline(__always)
    static func separatePeriodCommaBeforeNonDigit(_ source: UnsafePointer<UInt8>, _ count: Int,
                                                  _ target: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0, index = 0
        while index < count {
            let byte = source[index]
            if index + 1 < count, isPeriodOrComma(byte), !isDigit(source[index + 1]) {
                target[written] = 0x20; target[written + 1] = byte
                target[written + 2] = 0x20; target[written + 3] = source[index + 1]
                written += 4; index += 2
            } else {
                target[written] = byte; written += 1; index += 1
            }
        }
        return written
    }

    /// 4. `([0-9])(-)` → `'\1 \2 '` (dash after a digit)
    @inline(__always)
    static func separateDashAfterDigit(_ source: UnsafePointer<UInt8>, _ count: Int,
                                       _ target: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0, index = 0
        while index < count {
            let byte = source[index]
            if index + 1 < count, isDigit(byte), source[index + 1] == 0x2D {
                target[written] = byte; target[written + 1] = 0x20
                target[written + 2] = 0x2D; target[written + 3] = 0x20
                written += 4; index += 2
            } else {
                target[written] = byte; written += 1; index += 1
            }
        }
        return written
    }

    /// Replaces every non-overlapping occurrence of `pattern`, left to right (Python `str.replace`).
    static func replace(_ text: inout [UInt8], _ pattern: StaticString, with replacement: StaticString,
                        using spare: inout [UInt8]) {
        let patternBytes = UnsafeBufferPointer(start: pattern.utf8Start, count: pattern.utf8CodeUnitCount)
        let replacementBytes = UnsafeBufferPointer(start: replacement.utf8Start,
                                                   count: replacement.utf8CodeUnitCount)
        spare.removeAll(keepingCapacity: true)
        var index = 0
        var replacedAny = false
        let count = text.count, patternCount = patternBytes.count
        while index < count {
            if text[index] == patternBytes[0], index + patternCount <= count,
               (0..<patternCount).allSatisfy({ text[index + $0] == patternBytes[$0] }) {
                spare.append(contentsOf: replacementBytes)
                index += patternCount
                replacedAny = true
            } else {
                spare.append(text[index]); index += 1
            }
        }
        if replacedAny { swap(&text, &spare) }
    }
}

/// The international tokenizer of mteval-v14 (`tok:intl`): separates Unicode punctuation
/// unless it sits between digits' neighbours, and separates every Unicode symbol.
///
/// Its three regular expressions are `(\P{N})(\p{P})` → `\1 \2 `, `(\p{P})(\P{N})` → ` \1 \2`
/// and `(\p{S})` → ` \1 `, each emulated by one pass over the scalars.
public struct TokenizerIntl: BLEUTokenizer {
    public init() {}
    public var signature: String { "intl" }

    /// The general category class a pattern asks about.
    enum CategoryClass: UInt8 { case number, punctuation, symbol, other }

    static let asciiClasses: [CategoryClass] = (0..<128).map { classify(UInt32($0)) }

    static func classify(_ value: UInt32) -> CategoryClass {
        guard let scalar = Unicode.Scalar(value) else { return .other }
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return .punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: return .symbol
        default: return .other
        }
    }

    @inline(__always)
    static func categoryClass(_ value: UInt32) -> CategoryClass {
        value < 128 ? asciiClasses[Int(value)] : classify(value)
    }

    public func tokenize(_ line: UnsafeBufferPointer<UInt8>, into output: inout TokenizedText) {
        var text: [UInt32] = [], next: [UInt32] = []
        swap(&text, &output.scalars)
        swap(&next, &output.scalars2)
        text.removeAll(keepingCapacity: true)
        var index = 0
        while index < line.count {
            let (scalar, length) = PythonText.decode(line, at: index)
            text.append(scalar)
            index += length
        }

        // 1. (\P{N})(\p{P}) → '\1 \2 '
        next.removeAll(keepingCapacity: true)
        index = 0
        while index < text.count {
            if index + 1 < text.count, Self.categoryClass(text[index]) != .number,
               Self.categoryClass(text[index + 1]) == .punctuation {
                next.append(text[index]); next.append(0x20); next.append(text[index + 1]); next.append(0x20)
                index += 2
            } else {
                next.append(text[index]); index += 1
            }
        }
        swap(&text, &next)

        // 2. (\p{P})(\P{N}) → ' \1 \2'
        next.removeAll(keepingCapacity: true)
        index = 0
        while index < text.count {
            if index + 1 < text.count, Self.categoryClass(text[index]) == .punctuation,
               Self.categoryClass(text[index + 1]) != .number {
                next.append(0x20); next.append(text[index]); next.append(0x20); next.append(text[index + 1])
                index += 2
            } else {
                next.append(text[index]); index += 1
            }
        }
        swap(&text, &next)

        // 3. (\p{S}) → ' \1 '
        var encoded: [UInt8] = []
        swap(&encoded, &output.scratch)
        encoded.removeAll(keepingCapacity: true)
        for value in text {
            let isSymbol = Self.categoryClass(value) == .symbol
            if isSymbol { encoded.append(0x20) }
            if let scalar = Unicode.Scalar(value) {
                encoded.append(contentsOf: UTF8.encode(scalar)!)
            }
            if isSymbol { encoded.append(0x20) }
        }
        output.appendSplitting(encoded)
        output.scratch = encoded
        output.scalars = text
        output.scalars2 = next
    }
}
