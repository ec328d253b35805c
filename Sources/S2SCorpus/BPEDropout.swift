import S2SSubword
import S2SCore

/// BPE-dropout (Provilkov et al., 2020) for training: every time a batch is drawn, each of its
/// sentences is segmented afresh with each applicable merge skipped with `probability`, so the
/// model sees many segmentations of the same words and learns the pieces' composition.
///
/// The corpus stays encoded once (deterministically); a sentence's ids are decoded back to
/// its normalized text, which encodes to the same ids without dropout (the vocabulary's round
/// trip), and re-encoded with dropout. The generator is derived from the seed and the update
/// number, so a resumed run draws exactly the segmentations an uninterrupted one would.
/// Sentences get longer by a few percent, so a batch may exceed its token budget by as much.
public struct BPEDropout: Sendable {
    /// The vocabulary the corpus was encoded with.
    public let vocabulary: SubwordVocabulary
    /// Probability of skipping each applicable merge, in (0, 1).
    public let probability: Float
    /// Seed of the segmentations.
    public let seed: UInt64

    public init(vocabulary: SubwordVocabulary, probability: Float, seed: UInt64) {
        self.vocabulary = vocabulary
        self.probability = probability
        self.seed = seed
    }

    /// `batch` with both sides re-segmented, drawn for update number `update`.
    public func resegment(_ batch: Batch, update: Int) -> Batch {
        var rng = SeededRNG(seed: seed).fork(0xB9E_D809 &+ UInt64(update))
        return Batch(source: resegment(batch.source, rng: &rng), target: resegment(batch.target, rng: &rng),
                     pairIndices: batch.pairIndices)
    }

    /// Each row re-encoded with dropout; `</s>` is kept at the end of rows that had it.
    private func resegment(_ matrix: TokenMatrix, rng: inout SeededRNG) -> TokenMatrix {
        var rows: [[Int32]] = []
        rows.reserveCapacity(matrix.batchSize)
        for row in 0..<matrix.batchSize {
            let ids = matrix.sequence(row)
            let endsWithEOS = ids.last == SpecialTokens.eos
            let text = vocabulary.decode(endsWithEOS ? ids.dropLast() : ids)
            var resegmented = vocabulary.encode(text, dropout: probability, rng: &rng)
            // A sentence made only of pieces that decode to nothing (say, <unk>) keeps its ids.
            if resegmented.isEmpty { resegmented = Array(endsWithEOS ? ids.dropLast() : ids) }
            if endsWithEOS { resegmented.append(SpecialTokens.eos) }
            rows.append(resegmented)
        }
        return TokenMatrix(padding: rows)
    }
}
