import S2SCore

/// A lexical shortlist (Marian's `--shortlist`, CTranslate2's vocabulary map): for each
/// source piece, the target pieces most likely to translate it, and the target pieces most
/// frequent overall. A decoding step restricts the output layer to the union of the lists of
/// the sentences it decodes — a few hundred columns of the output matrix instead of the whole target
/// vocabulary — and renormalizes the softmax over them (`Seq2SeqInference.shortlist`).
public struct Shortlist: Sendable, Equatable {
    /// Target pieces of source piece s: targets[offsets[s] ..< offsets[s + 1]], best first.
    public let offsets: [Int32]
    public let targets: [Int32]
    /// The most frequent target pieces, always in the list (the reserved ids too).
    public let frequent: [Int32]
    /// One more than the largest target id listed.
    private let targetBound: Int32

    /// Source vocabulary size (offsets has one more entry).
    public var sourceVocabularySize: Int { offsets.count - 1 }

    public init(offsets: [Int32], targets: [Int32], frequent: [Int32]) throws {
        guard let last = offsets.last, offsets.first == 0, Int(last) == targets.count,
              zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw ModelError.invalidShortlist("offsets do not delimit the target lists")
        }
        self.offsets = offsets
        self.targets = targets
        self.frequent = frequent
        targetBound = max(targets.max() ?? -1, frequent.max() ?? -1) + 1
    }

    /// Per-source lists of at most `perSource` targets (each list best first) and `frequent`.
    public init(lists: [[Int32]], perSource: Int, frequent: [Int32]) throws {
        var offsets: [Int32] = [0], targets: [Int32] = []
        for list in lists {
            targets += list.prefix(perSource)
            offsets.append(Int32(targets.count))
        }
        try self.init(offsets: offsets, targets: targets, frequent: frequent)
    }

    /// Throws unless every id fits the vocabularies.
    public func check(sourceVocabularySize: Int, targetVocabularySize: Int) throws {
        guard self.sourceVocabularySize == sourceVocabularySize else {
            throw ModelError.invalidShortlist("it covers \(self.sourceVocabularySize) source pieces, the model has \(sourceVocabularySize)")
        }
        if let bad = (targets + frequent).first(where: { $0 < 0 || Int($0) >= targetVocabularySize }) {
            throw ModelError.invalidShortlist("target id \(bad) is outside the model's \(targetVocabularySize)")
        }
    }

    /// The sorted union of the lists of every piece of `sources`, the frequent pieces and the
    /// reserved ids: the output columns a batch of these sentences is decoded over.
    public func candidates(for sources: [[Int32]]) -> [Int32] {
        let reserved = [SpecialTokens.pad, SpecialTokens.unk, SpecialTokens.bos, SpecialTokens.eos]
        // One flag per target id, not a hash set: a greedy stream gathers often.
        var chosen = [Bool](repeating: false, count: Int(max(targetBound, reserved.max()! + 1)))
        for id in frequent + reserved where id >= 0 { chosen[Int(id)] = true }
        for sentence in sources {
            for piece in sentence where piece >= 0 && Int(piece) < sourceVocabularySize {
                for id in targets[Int(offsets[Int(piece)])..<Int(offsets[Int(piece) + 1])] where id >= 0 {
                    chosen[Int(id)] = true
                }
            }
        }
        return chosen.indices.filter { chosen[$0] }.map(Int32.init)
    }
}
