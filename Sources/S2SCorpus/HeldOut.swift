import S2SCore

extension ParallelCorpus {
    /// Sets aside `count` random pairs (seeded) for validation: returns the corpus without
    /// them and the held-out pairs' indices in this corpus, ascending. Used when training is
    /// given no validation set, so that validation never scores sentences the model trained on.
    public func holdingOut(_ count: Int, seed: UInt64) -> (training: ParallelCorpus, heldOut: [Int]) {
        let count = min(max(count, 0), max(self.count - 1, 0))
        var rng = SeededRNG(seed: seed ^ 0x48_454C_444F_5554)  // "HELDOUT": a stream of its own
        var order = Array(0..<self.count)
        for i in 0..<count {  // partial Fisher–Yates: the first `count` are a uniform sample
            let j = i + Int(rng.next() % UInt64(self.count - i))
            order.swapAt(i, j)
        }
        let heldOut = order.prefix(count).sorted()
        var isHeldOut = [Bool](repeating: false, count: self.count)
        for index in heldOut { isHeldOut[index] = true }

        let storage = HeldOutStorage(corpus: self, keep: isHeldOut.map { !$0 })
        var statistics = self.statistics
        statistics.pairsKept -= heldOut.count
        statistics.sourceTokens = storage.sourceTokens.count
        statistics.targetTokens = storage.targetTokens.count
        let training = ParallelCorpus(
            sourceTokens: UnsafeBufferPointer(storage.sourceTokens), sourceOffsets: UnsafeBufferPointer(storage.sourceOffsets),
            targetTokens: UnsafeBufferPointer(storage.targetTokens), targetOffsets: UnsafeBufferPointer(storage.targetOffsets),
            statistics: statistics, filter: filter, vocabularyFingerprint: vocabularyFingerprint,
            vocabularySize: vocabularySize, owners: [storage])
        return (training, heldOut)
    }
}

/// Token and offset arrays of the pairs kept after holding some out; frees them when the
/// corpus that views them goes away.
private final class HeldOutStorage {
    let sourceTokens: UnsafeMutableBufferPointer<Int32>
    let sourceOffsets: UnsafeMutableBufferPointer<Int64>
    let targetTokens: UnsafeMutableBufferPointer<Int32>
    let targetOffsets: UnsafeMutableBufferPointer<Int64>

    init(corpus: ParallelCorpus, keep: [Bool]) {
        func copy(tokens: (Int) -> UnsafeBufferPointer<Int32>)
            -> (UnsafeMutableBufferPointer<Int32>, UnsafeMutableBufferPointer<Int64>) {
            var total = 0, kept = 0
            for pair in keep.indices where keep[pair] { total += tokens(pair).count; kept += 1 }
            let ids = UnsafeMutableBufferPointer<Int32>.allocate(capacity: total)
            let offsets = UnsafeMutableBufferPointer<Int64>.allocate(capacity: kept + 1)
            var position = 0, row = 0
            offsets[0] = 0
            for pair in keep.indices where keep[pair] {
                let sentence = tokens(pair)
                for (k, id) in sentence.enumerated() { ids[position + k] = id }
                position += sentence.count
                row += 1
                offsets[row] = Int64(position)
            }
            return (ids, offsets)
        }
        (sourceTokens, sourceOffsets) = copy(tokens: corpus.source)
        (targetTokens, targetOffsets) = copy(tokens: corpus.target)
    }

    deinit {
        sourceTokens.deallocate()
        sourceOffsets.deallocate()
        targetTokens.deallocate()
        targetOffsets.deallocate()
    }
}
