/// Partial selection of the k best (score, index) pairs out of a long stream, in O(n log k)
/// with one comparison per element in the common case: a bounded min-heap whose root is the
/// worst kept entry. Storage is allocated once and reused across calls (no per-step allocation).
///
/// Order: higher score first; equal scores prefer the lower index, so results are
/// deterministic and the first-best equals `argmax` (first maximum). NaN never enters.
public struct TopK {
    /// Capacity: how many entries to keep.
    public private(set) var k: Int
    private var scores: [Float]
    private var indices: [Int]
    /// Number of entries currently kept.
    public private(set) var count = 0

    public init(k: Int) {
        self.k = max(1, k)
        scores = [Float](repeating: 0, count: self.k)
        indices = [Int](repeating: 0, count: self.k)
    }

    /// Forgets every entry and sets the capacity to `k` (grows storage only when needed).
    public mutating func reset(k newK: Int) {
        k = max(1, newK)
        if scores.count < k {
            scores = [Float](repeating: 0, count: k)
            indices = [Int](repeating: 0, count: k)
        }
        count = 0
    }

    /// True when (s1, i1) ranks worse than (s2, i2).
    @inline(__always)
    private static func worse(_ s1: Float, _ i1: Int, _ s2: Float, _ i2: Int) -> Bool {
        s1 < s2 || (s1 == s2 && i1 > i2)
    }

    /// Offers every element of `values`; element e is known by index `indexOffset + e` and
    /// scored `values[e] + bias`.
    public mutating func offer(_ values: UnsafeBufferPointer<Float>, bias: Float, indexOffset: Int) {
        scores.withUnsafeMutableBufferPointer { heapScores in
            indices.withUnsafeMutableBufferPointer { heapIndices in
                var kept = count
                let capacity = k
                // Threshold: while the heap is full, an element must beat the root to enter.
                var threshold = kept == capacity ? heapScores[0] : -Float.infinity
                var e = 0
                while e < values.count {
                    // Once the heap is full almost nothing enters: skip 16 values at a time
                    // when even their maximum cannot reach the threshold (x + bias is monotone).
                    if kept == capacity && e + 16 <= values.count {
                        let chunk = UnsafeRawPointer(values.baseAddress! + e).loadUnaligned(as: SIMD16<Float>.self)
                        if !anyLane(chunk + SIMD16<Float>(repeating: bias) .>= SIMD16<Float>(repeating: threshold)) {
                            e += 16
                            continue
                        }
                    }
                    let stop = min(values.count, e + 16)
                    while e < stop {
                        defer { e += 1 }
                        let score = values[e] + bias
                        // NaN and -inf compare false here, so they are never kept.
                        guard score >= threshold, score > -Float.infinity else { continue }
                        let index = indexOffset + e
                        if kept < capacity {
                            Self.siftUp(heapScores, heapIndices, at: kept, score: score, index: index)
                            kept += 1
                            if kept == capacity { threshold = heapScores[0] }
                        } else {
                            // Equal to the root: the earlier index (already kept) wins.
                            guard Self.worse(heapScores[0], heapIndices[0], score, index) else { continue }
                            Self.siftDown(heapScores, heapIndices, count: kept, score: score, index: index)
                            threshold = heapScores[0]
                        }
                    }
                }
                count = kept
            }
        }
    }

    @inline(__always)
    private static func siftUp(_ s: UnsafeMutableBufferPointer<Float>, _ ix: UnsafeMutableBufferPointer<Int>,
                               at start: Int, score: Float, index: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard worse(score, index, s[parent], ix[parent]) else { break }
            s[child] = s[parent]; ix[child] = ix[parent]
            child = parent
        }
        s[child] = score; ix[child] = index
    }

    @inline(__always)
    private static func siftDown(_ s: UnsafeMutableBufferPointer<Float>, _ ix: UnsafeMutableBufferPointer<Int>,
                                 count: Int, score: Float, index: Int) {
        var node = 0
        while true {
            var child = 2 * node + 1
            if child >= count { break }
            if child + 1 < count && worse(s[child + 1], ix[child + 1], s[child], ix[child]) { child += 1 }
            guard worse(s[child], ix[child], score, index) else { break }
            s[node] = s[child]; ix[node] = ix[child]
            node = child
        }
        s[node] = score; ix[node] = index
    }

    /// The kept entries, best first. Sorting k entries is negligible next to the scan.
    public func sorted() -> [(score: Float, index: Int)] {
        var result: [(score: Float, index: Int)] = []
        result.reserveCapacity(count)
        for i in 0..<count { result.append((scores[i], indices[i])) }
        result.sort { Self.worse($1.score, $1.index, $0.score, $0.index) }
        return result
    }

    /// Writes the kept entries, best first, into `out` (cleared first; capacity is reused).
    public func sorted(into out: inout [(score: Float, index: Int)]) {
        out.removeAll(keepingCapacity: true)
        for i in 0..<count { out.append((scores[i], indices[i])) }
        out.sort { Self.worse($1.score, $1.index, $0.score, $0.index) }
    }
}

/// True when any lane of `mask` is set. Written as an OR of halves, because the standard
/// library's generic mask reductions compile to a per-lane loop through memory.
@inline(__always)
func anyLane(_ mask: SIMDMask<SIMD16<Int32>>) -> Bool {
    let bits = unsafeBitCast(mask, to: SIMD16<Int32>.self)
    let eight = bits.lowHalf | bits.highHalf
    let four = eight.lowHalf | eight.highHalf
    let two = four.lowHalf | four.highHalf
    return (two[0] | two[1]) != 0
}
