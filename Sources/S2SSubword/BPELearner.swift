import S2SIO

extension SubwordVocabulary {
    /// Options of `learn`, with the defaults of `s2s vocab`.
    public struct LearnOptions: Sendable, Equatable {
        /// Total pieces wanted, reserved symbols and the 256 byte pieces included. Learning
        /// stops earlier if no pair occurs `minFrequency` times.
        public var size: Int
        /// A pair seen fewer times than this is never merged.
        public var minFrequency: Int
        /// The alphabet is the most frequent characters covering this fraction of all
        /// characters (SentencePiece's `character_coverage`); the rest fall back to bytes.
        public var characterCoverage: Double
        /// Unicode normalisation applied before learning (and stored for encoding).
        public var normalization: TextNormalization
        /// Replace invalid UTF-8 with U+FFFD instead of failing.
        public var lossy: Bool

        public init(size: Int = 8000, minFrequency: Int = 2, characterCoverage: Double = 0.9995,
                    normalization: TextNormalization = .nfkc, lossy: Bool = false) {
            self.size = size
            self.minFrequency = minFrequency
            self.characterCoverage = characterCoverage
            self.normalization = normalization
            self.lossy = lossy
        }

        /// Throws a one-line error for an option outside its domain.
        public func validate() throws {
            if size < SubwordVocabulary.minimumSize {
                throw SubwordError.sizeTooSmall(requested: size, minimum: SubwordVocabulary.minimumSize)
            }
            if minFrequency < 1 { throw SubwordError.invalidOption("--min-frequency must be at least 1, got \(minFrequency)") }
            if !(characterCoverage > 0 && characterCoverage <= 1) {
                throw SubwordError.invalidOption("--character-coverage must be in (0, 1], got \(characterCoverage)")
            }
        }
    }

    /// Learns a joint vocabulary over every line of `files` (plain or gzip; `-` is stdin).
    public static func learn(files: [String], options: LearnOptions) throws -> SubwordVocabulary {
        try options.validate()
        var counter = WordCounter(normalization: options.normalization)
        for path in files {
            let reader = try LineReader(path: path)
            while let line = try reader.nextLine(invalidUTF8: options.lossy ? .replace : .fail) {
                counter.add(line)
            }
        }
        guard counter.words.count > 0 else { throw SubwordError.emptyCorpus(paths: files) }
        return learn(counter: counter, options: options)
    }

    /// Learns a vocabulary from lines in memory (for tests and library callers).
    public static func learn(lines: some Sequence<String>, options: LearnOptions) throws -> SubwordVocabulary {
        try options.validate()
        var counter = WordCounter(normalization: options.normalization)
        for line in lines { counter.add(line) }
        guard counter.words.count > 0 else { throw SubwordError.emptyCorpus(paths: ["<memory>"]) }
        return learn(counter: counter, options: options)
    }

    private static func learn(counter: WordCounter, options: LearnOptions) -> SubwordVocabulary {
        var learner = BPELearner(counter: counter, options: options)
        learner.run()
        let notes: [(String, String)] = [
            ("character-coverage", "\(options.characterCoverage)"),
            ("min-frequency", "\(options.minFrequency)"),
        ]
        return SubwordVocabulary(normalization: options.normalization, pieces: learner.pieces,
                                 kinds: learner.kinds, headerNotes: notes)
    }
}

/// Word frequencies of normalised text.
struct WordCounter {
    let normalization: TextNormalization
    /// Distinct words (UTF-8, without `▁`).
    var words = ByteKeyTable(initialCapacity: 1 << 16)
    /// Word index → occurrences.
    var counts: [Int] = []

    init(normalization: TextNormalization) { self.normalization = normalization }

    mutating func add(_ line: String) {
        var normalized = Normalizer.unicodeNormalize(line, normalization)
        normalized.withUTF8 { bytes in
            Normalizer.forEachWord(in: bytes) { word in
                let (index, inserted) = words.findOrInsert(word)
                if inserted { counts.append(1) } else { counts[index] += 1 }
            }
        }
    }
}

/// Which characters may share a piece, like SentencePiece's `split_by_unicode_script` and
/// `split_by_number`: letters (with their combining marks) stay apart from digits, and both
/// from punctuation and symbols, so `canapé.` learns `canapé` and `.` rather than a piece per
/// punctuated form. `▁` joins anything that follows it.
enum CharacterClass: UInt8 {
    case boundary, letter, number, other

    init(_ scalar: Unicode.Scalar) {
        if scalar == wordBoundary { self = .boundary; return }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        default:
            self = .other
        }
    }
}

/// Byte-pair encoding on word frequencies (Sennrich et al. 2016), with the incremental pair
/// counts and lazy max-heap that make each merge cost only the words it touches.
///
/// Tie rule (deterministic): the most frequent pair wins; among equals, the pair whose left
/// piece is smaller in UTF-8 byte order, then whose right piece is smaller, then (for pieces
/// spelled alike) the smaller ids.
struct BPELearner {
    typealias PieceKind = SubwordVocabulary.PieceKind

    /// Piece strings by id, growing as merges are learned.
    private(set) var pieces: [String] = []
    /// Piece kinds by id.
    private(set) var kinds: [PieceKind] = []
    /// UTF-8 of each piece, for tie-breaking.
    private var pieceBytes: [[UInt8]] = []
    /// Symbols of all distinct words back to back; a word's live length shrinks as it merges.
    /// -1 marks a character outside the alphabet, which no pair may include.
    private var symbols: [Int32] = []
    private var wordStarts: [Int] = []
    private var wordLengths: [Int] = []
    private var wordCounts: [Int] = []
    /// Pair (left << 32 | right) → total occurrences over the corpus.
    private var pairCounts: [UInt64: Int] = [:]
    /// Pair → words that contain (or once contained) it; may hold stale or repeated entries.
    private var pairWords: [UInt64: [Int32]] = [:]
    /// Candidates, best first; an entry is stale when its count differs from `pairCounts`.
    private var heap: [(count: Int, pair: UInt64)] = []
    /// Class of each piece's characters (a merge never mixes classes, except with `▁`).
    private var pieceClasses: [CharacterClass] = []
    /// Length of each piece in Unicode scalars.
    private var pieceLengths: [Int] = []
    private let targetSize: Int
    private let minFrequency: Int
    /// SentencePiece's default `max_piece_length`.
    static let maximumPieceLength = 16

    init(counter: WordCounter, options: SubwordVocabulary.LearnOptions) {
        targetSize = options.size
        minFrequency = options.minFrequency
        for special in SubwordVocabulary.specialPieces { addPiece(special, .special) }
        for value in 0...255 { addPiece(SubwordVocabulary.bytePiece(UInt8(value)), .byte(UInt8(value))) }

        // The alphabet: characters by count, kept while the covered share is below the target.
        var characterCounts: [UInt32: Int] = [wordBoundary.value: 0]
        var words: [[Unicode.Scalar]] = []
        words.reserveCapacity(counter.words.count)
        for index in 0..<counter.words.count {
            let count = counter.counts[index]
            let word = Array(String(decoding: counter.words.key(index), as: UTF8.self).unicodeScalars)
            characterCounts[wordBoundary.value, default: 0] += count
            for scalar in word { characterCounts[scalar.value, default: 0] += count }
            words.append(word)
        }
        let byFrequency = characterCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let total = Double(byFrequency.reduce(0) { $0 + $1.value })
        let room = targetSize - SubwordVocabulary.minimumSize + 1
        var covered = 0
        var alphabet: [UInt32: Int32] = [:]
        var boundaryPending = 1  // `▁` is always kept, so it holds one place until it is added
        for (scalar, count) in byFrequency {
            let isBoundary = scalar == wordBoundary.value
            if isBoundary { boundaryPending = 0 }
            if !isBoundary && (Double(covered) >= options.characterCoverage * total
                               || alphabet.count + boundaryPending >= room) { continue }
            alphabet[scalar] = Int32(pieces.count)
            addPiece(String(Unicode.Scalar(scalar)!), .character(Unicode.Scalar(scalar)!, count: count))
            covered += count
        }

        // Words as symbol sequences, and the initial pair counts.
        for (index, word) in words.enumerated() {
            wordStarts.append(symbols.count)
            symbols.append(alphabet[wordBoundary.value]!)
            for scalar in word { symbols.append(alphabet[scalar.value] ?? -1) }
            wordLengths.append(word.count + 1)
            wordCounts.append(counter.counts[index])
        }
        for word in 0..<wordStarts.count {
            let start = wordStarts[word]
            for position in start..<(start + wordLengths[word] - 1) {
                guard let pair = Self.pairKey(symbols[position], symbols[position + 1], pieceClasses, pieceLengths) else { continue }
                pairCounts[pair, default: 0] += wordCounts[word]
                pairWords[pair, default: []].append(Int32(word))
            }
        }
        var initial: [(count: Int, pair: UInt64)] = pairCounts.map { ($0.value, $0.key) }
        initial.sort { isBetter($0, $1) }  // a sorted array is a valid heap
        heap = initial
    }

    /// Learns merges until the target size is reached or no pair is frequent enough.
    mutating func run() {
        var visitedStamp = [Int](repeating: -1, count: wordStarts.count)
        var delta: [UInt64: Int] = [:]
        while pieces.count < targetSize, let (count, pair) = popBest() {
            if count < minFrequency { break }
            let left = Int32(truncatingIfNeeded: pair >> 32), right = Int32(truncatingIfNeeded: pair & 0xFFFF_FFFF)
            let merged = Int32(pieces.count)
            addPiece(pieces[Int(left)] + pieces[Int(right)], .merge(left: left, right: right))
            delta.removeAll(keepingCapacity: true)
            for word in pairWords.removeValue(forKey: pair) ?? [] where visitedStamp[Int(word)] != Int(merged) {
                visitedStamp[Int(word)] = Int(merged)
                mergeInWord(Int(word), left: left, right: right, into: merged, delta: &delta)
            }
            pairCounts[pair] = nil
            for (changed, change) in delta where change != 0 && changed != pair {
                let updated = pairCounts[changed, default: 0] + change
                if updated > 0 {
                    pairCounts[changed] = updated
                    push((updated, changed))
                } else {
                    pairCounts[changed] = nil
                }
            }
        }
    }

    /// Replaces each `left right` in the word by `merged` (left to right), recording how the
    /// word's pair counts change.
    private mutating func mergeInWord(_ word: Int, left: Int32, right: Int32, into merged: Int32,
                                      delta: inout [UInt64: Int]) {
        let start = wordStarts[word], end = start + wordLengths[word], count = wordCounts[word]
        var found = false
        for position in start..<(end - 1) where symbols[position] == left && symbols[position + 1] == right {
            found = true
            break
        }
        if !found { return }
        for position in start..<(end - 1) {
            if let pair = Self.pairKey(symbols[position], symbols[position + 1], pieceClasses, pieceLengths) { delta[pair, default: 0] -= count }
        }
        var read = start, write = start
        while read < end {
            if read + 1 < end && symbols[read] == left && symbols[read + 1] == right {
                symbols[write] = merged
                read += 2
            } else {
                symbols[write] = symbols[read]
                read += 1
            }
            write += 1
        }
        wordLengths[word] = write - start
        for position in start..<max(start, write - 1) {
            let a = symbols[position], b = symbols[position + 1]
            guard let pair = Self.pairKey(a, b, pieceClasses, pieceLengths) else { continue }
            delta[pair, default: 0] += count
            if a == merged || b == merged { pairWords[pair, default: []].append(Int32(word)) }
        }
    }

    /// The key of an adjacent pair that may merge, or nil: when either symbol is outside the
    /// alphabet (-1), their character classes differ, or the result would exceed
    /// `maximumPieceLength` characters.
    @inline(__always)
    private static func pairKey(_ a: Int32, _ b: Int32, _ pieceClasses: [CharacterClass], _ pieceLengths: [Int]) -> UInt64? {
        guard a >= 0 && b >= 0 else { return nil }
        let classA = pieceClasses[Int(a)], classB = pieceClasses[Int(b)]
        guard classA == classB || classA == .boundary || classB == .boundary else { return nil }
        guard pieceLengths[Int(a)] + pieceLengths[Int(b)] <= maximumPieceLength else { return nil }
        return UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
    }

    private mutating func addPiece(_ piece: String, _ kind: PieceKind) {
        pieces.append(piece)
        kinds.append(kind)
        pieceBytes.append(Array(piece.utf8))
        switch kind {
        case .special, .byte:
            pieceClasses.append(.other)
            pieceLengths.append(1)
        case let .character(scalar, _):
            pieceClasses.append(CharacterClass(scalar))
            pieceLengths.append(1)
        case let .merge(left, right):
            let classLeft = pieceClasses[Int(left)]
            pieceClasses.append(classLeft == .boundary ? pieceClasses[Int(right)] : classLeft)
            pieceLengths.append(pieceLengths[Int(left)] + pieceLengths[Int(right)])
        }
    }

    // MARK: Lazy max-heap

    /// True when `a` should be merged before `b` (the documented tie rule).
    private func isBetter(_ a: (count: Int, pair: UInt64), _ b: (count: Int, pair: UInt64)) -> Bool {
        if a.count != b.count { return a.count > b.count }
        if a.pair == b.pair { return false }
        let aLeft = Int(a.pair >> 32), bLeft = Int(b.pair >> 32)
        if aLeft != bLeft && pieceBytes[aLeft] != pieceBytes[bLeft] {
            return pieceBytes[aLeft].lexicographicallyPrecedes(pieceBytes[bLeft])
        }
        let aRight = Int(a.pair & 0xFFFF_FFFF), bRight = Int(b.pair & 0xFFFF_FFFF)
        if pieceBytes[aRight] != pieceBytes[bRight] { return pieceBytes[aRight].lexicographicallyPrecedes(pieceBytes[bRight]) }
        // Two merges can spell the same piece (ab+c, a+bc); their ids settle the rest, so the
        // order never depends on hashing (which Swift seeds per process).
        return a.pair < b.pair
    }

    private mutating func push(_ entry: (count: Int, pair: UInt64)) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !isBetter(heap[child], heap[parent]) { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// The best pair whose entry is current, or nil when none is left.
    private mutating func popBest() -> (Int, UInt64)? {
        while let top = heap.first {
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var parent = 0
                while true {
                    let leftChild = 2 * parent + 1, rightChild = leftChild + 1
                    var best = parent
                    if leftChild < heap.count && isBetter(heap[leftChild], heap[best]) { best = leftChild }
                    if rightChild < heap.count && isBetter(heap[rightChild], heap[best]) { best = rightChild }
                    if best == parent { break }
                    heap.swapAt(parent, best)
                    parent = best
                }
            }
            if pairCounts[top.pair] == top.count { return (top.count, top.pair) }
        }
        return nil
    }
}
