import S2SModel

/// Several models decoding as one: each step's log-probabilities are the average of the
/// members' (Marian's ensemble with equal weights). The average is not renormalized; it is a
/// score, and search only compares scores. Attention is the members' average too.
public final class EnsembleDecoder: StepDecoder {
    /// The member networks, all with the same target vocabulary.
    public let members: [StepDecoder]
    public let targetVocabularySize: Int
    /// One member's log-probabilities, [rows, V]; grown when rows grow, never per step.
    private var scratch: UnsafeMutableBufferPointer<Float>

    public init(members: [StepDecoder]) throws {
        guard let first = members.first else { throw DecodingError.emptyEnsemble }
        for (index, member) in members.enumerated() where member.targetVocabularySize != first.targetVocabularySize {
            throw DecodingError.vocabularyMismatch(expected: first.targetVocabularySize,
                                                   found: member.targetVocabularySize, member: index)
        }
        self.members = members
        targetVocabularySize = first.targetVocabularySize
        scratch = .allocate(capacity: 0)
    }

    deinit { scratch.deallocate() }

    public func begin(sources: [[Int32]]) throws {
        for member in members { try member.begin(sources: sources) }
    }

    /// out = (1/M) Σ_m log p_m, computed member by member into `out`.
    public func step(previousTokens: [Int32], logProbabilities: UnsafeMutableBufferPointer<Float>) {
        let count = previousTokens.count * targetVocabularySize
        members[0].step(previousTokens: previousTokens, logProbabilities: logProbabilities)
        guard members.count > 1 else { return }
        if scratch.count < count {
            scratch.deallocate()
            scratch = .allocate(capacity: count)
        }
        for member in members.dropFirst() {
            member.step(previousTokens: previousTokens, logProbabilities: scratch)
            for i in 0..<count { logProbabilities[i] += scratch[i] }
        }
        let scale = 1 / Float(members.count)
        for i in 0..<count { logProbabilities[i] *= scale }
    }

    public func select(parents: [Int32]) {
        for member in members { member.select(parents: parents) }
    }

    public func start(sentences: [Int32]) {
        for member in members { member.start(sentences: sentences) }
    }

    public func attention(row: Int) -> [Float] {
        var sum = members[0].attention(row: row)
        guard members.count > 1 else { return sum }
        for member in members.dropFirst() {
            let weights = member.attention(row: row)
            for i in 0..<min(sum.count, weights.count) { sum[i] += weights[i] }
        }
        let scale = 1 / Float(members.count)
        return sum.map { $0 * scale }
    }
}
