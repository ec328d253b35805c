/// The vocabulary file format, version 1: UTF-8 text, one line per piece in id order after a
/// header line, fields separated by tabs (pieces never contain whitespace, so no escaping):
///
///     #s2s-vocab v1 normalization=nfkc size=8000 characters=312 merges=7428 [key=value …]
///     <pad>	special
///     <unk>	special
///     <s>	special
///     </s>	special
///     <0x00>	byte
///     …
///     <0xFF>	byte
///     ▁	char	401234        (alphabet character and its count in the training text)
///     …
///     ▁t	merge	1	▁	t     (merge rank from 1, then the two pieces it joins)
///
/// The line number of a piece minus 2 is its id.
extension SubwordVocabulary {
    /// The file text (see the format above). Deterministic: same vocabulary, same bytes.
    public func serialized() -> String {
        let characterCount = kinds.filter { if case .character = $0 { return true } else { return false } }.count
        var text = "#s2s-vocab v1 normalization=\(normalization.rawValue) size=\(size)"
        text += " characters=\(characterCount) merges=\(size - Int(firstMergeId))"
        for (key, value) in headerNotes { text += " \(key)=\(value)" }
        text += "\n"
        var rank = 0
        for (index, kind) in kinds.enumerated() {
            text += pieceStrings[index]
            switch kind {
            case .special: text += "\tspecial\n"
            case .byte: text += "\tbyte\n"
            case let .character(_, count): text += "\tchar\t\(count)\n"
            case let .merge(left, right):
                rank += 1
                text += "\tmerge\t\(rank)\t\(pieceStrings[Int(left)])\t\(pieceStrings[Int(right)])\n"
            }
        }
        return text
    }

    /// The piece string of byte `value`: `<0x41>`.
    static func bytePiece(_ value: UInt8) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    /// The reserved pieces, ids 0…3.
    static let specialPieces = ["<pad>", "<unk>", "<s>", "</s>"]

    /// Parses and checks every line; errors name `name` and the 1-based line.
    convenience init(lines: [String], name: String) throws {
        func fail(_ line: Int, _ reason: String) -> SubwordError {
            .corruptVocabulary(path: name, line: line, reason: reason)
        }
        guard let header = lines.first else { throw fail(1, "empty file") }
        let headerFields = header.split(separator: " ").map(String.init)
        guard headerFields.first == "#s2s-vocab" else {
            throw fail(1, "missing '#s2s-vocab' header (is this an s2s vocabulary file?)")
        }
        guard headerFields.count >= 2, headerFields[1] == "v1" else {
            throw fail(1, "unsupported version '\(headerFields.count >= 2 ? headerFields[1] : "")' (this s2s reads v1)")
        }
        var settings: [String: String] = [:]
        var notes: [(String, String)] = []
        for field in headerFields.dropFirst(2) {
            guard let equals = field.firstIndex(of: "=") else { throw fail(1, "header field '\(field)' is not key=value") }
            let key = String(field[..<equals]), value = String(field[field.index(after: equals)...])
            settings[key] = value
            if !["normalization", "size", "characters", "merges"].contains(key) { notes.append((key, value)) }
        }
        guard let normalizationName = settings["normalization"],
              let normalization = TextNormalization(rawValue: normalizationName) else {
            throw fail(1, "header needs normalization=nfkc or normalization=none")
        }
        guard let sizeText = settings["size"], let size = Int(sizeText), size >= Self.minimumSize else {
            throw fail(1, "header needs size=N with N ≥ \(Self.minimumSize)")
        }
        guard lines.count - 1 == size else {
            throw fail(lines.count + 1, "header says size=\(size) but the file has \(lines.count - 1) pieces")
        }
        var pieces: [String] = []
        var kinds: [PieceKind] = []
        pieces.reserveCapacity(size)
        kinds.reserveCapacity(size)
        var ids: [String: Int32] = [:]
        var rank = 0
        for (offset, line) in lines.dropFirst().enumerated() {
            let lineNumber = offset + 2
            let id = offset
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 2, !fields[0].isEmpty else { throw fail(lineNumber, "expected 'piece<TAB>kind'") }
            let piece = fields[0], kind = fields[1]
            if piece.unicodeScalars.contains(where: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }) {
                throw fail(lineNumber, "a piece cannot contain whitespace")
            }
            if id < 4 {
                guard kind == "special", fields.count == 2, piece == Self.specialPieces[id] else {
                    throw fail(lineNumber, "id \(id) must be '\(Self.specialPieces[id])<TAB>special'")
                }
                kinds.append(.special)
            } else if id < 260 {
                let value = UInt8(id - 4)
                guard kind == "byte", fields.count == 2, piece == Self.bytePiece(value) else {
                    throw fail(lineNumber, "id \(id) must be '\(Self.bytePiece(value))<TAB>byte'")
                }
                kinds.append(.byte(value))
            } else if kind == "char" {
                let scalars = Array(piece.unicodeScalars)
                guard fields.count == 3, scalars.count == 1, let count = Int(fields[2]), count >= 0 else {
                    throw fail(lineNumber, "expected 'character<TAB>char<TAB>count' with one character")
                }
                guard rank == 0 else { throw fail(lineNumber, "characters must come before merges") }
                guard ids[piece] == nil else { throw fail(lineNumber, "character '\(piece)' appears twice") }
                kinds.append(.character(scalars[0], count: count))
            } else if kind == "merge" {
                rank += 1
                guard fields.count == 5, Int(fields[2]) == rank else {
                    throw fail(lineNumber, "expected 'piece<TAB>merge<TAB>\(rank)<TAB>left<TAB>right'")
                }
                guard let left = ids[fields[3]], let right = ids[fields[4]], left >= 260, right >= 260 else {
                    throw fail(lineNumber, "merge of '\(fields[3])' and '\(fields[4])': both must be earlier characters or merges")
                }
                guard fields[3] + fields[4] == piece else {
                    throw fail(lineNumber, "'\(fields[3])' + '\(fields[4])' does not spell '\(piece)'")
                }
                kinds.append(.merge(left: left, right: right))
            } else {
                throw fail(lineNumber, "unknown kind '\(kind)' (expected special, byte, char or merge)")
            }
            if ids[piece] == nil { ids[piece] = Int32(id) }
            pieces.append(piece)
        }
        guard kinds.contains(.character("\u{2581}", count: 0)) || kinds.contains(where: {
            if case let .character(scalar, _) = $0 { return scalar == wordBoundary } else { return false }
        }) else {
            throw fail(2, "the alphabet lacks the word-boundary character '▁'")
        }
        self.init(normalization: normalization, pieces: pieces, kinds: kinds, headerNotes: notes)
    }
}
