import S2SModel

/// Several models decoding as one: each step's log-probabilities are the average of the
/// members' (Marian's ensemble with equal weights). The average is not renormalized; it is a
/// score, and search only compares scores. Attention is the members' average too.
public final class EnsembleDecoder: StepDecoder {
    /// The member networks, all with the same target vocabulary.
    public let members: [StepDecoder]
    public let targetVocabularySize: Int
    /// One member's log-probabilities, [rows, V] (as `step` promises every member, even one
    /// that writes fewer columns); grown when rows grow, never per step.
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

    /// out = (1/M) Σ_m log p_m, computed member by member into `out`. Shortlisted members all
    /// decode over the first model's shortlist and the same rows, so their columns agree.
    public func step(previousTokens: [Int32], logProbabilities: UnsafeMutableBufferPointer<Float>) {
        members[0].step(previousTokens: previousTokens, logProbabilities: logProbabilities)
        guard members.count > 1 else { return }
        let capacity = previousTokens.count * targetVocabularySize
        if scratch.count < capacity {
            scratch.deallocate()
            scratch = .allocate(capacity: capacity)
        }
        let count = previousTokens.count * ColumnMap(members[0]).width
        for member in members.dropFirst() {
            member.step(previousTokens: previousTokens, logProbabilities: scratch)
            precondition(member.outputColumns == members[0].outputColumns, "ensemble members restricted to different columns")
            for i in 0..<count { logProbabilities[i] += scratch[i] }
        }
        let scale = 1 / Float(members.count)
        for i in 0..<count { logProbabilities[i] *= scale }
    }

    public var outputColumns: [Int32] { members[0].outputColumns }

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
