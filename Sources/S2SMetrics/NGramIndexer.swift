/// Dense, exact ids for the tokens and n-grams of one segment (a hypothesis and its
/// references), so that n-gram counting is array indexing instead of hashing `String` keys.
///
/// A token gets an id from its bytes; an n-gram gets an id from the pair (id of its first n−1
/// units, last unit), so ids are exact — two n-grams share an id only if they are equal.
/// Ids are dense from 0 and the tables are cleared in O(1) by bumping a generation stamp,
/// so one indexer serves a whole corpus without allocating per segment.
final class NGramIndexer {
    /// The prefix id that starts every n-gram chain (a unigram is (start, unit)).
    static let chainStart: UInt32 = .max

    // Raw storage: the table is probed millions of times, and arrays would pay a
    // uniqueness check on every write.
    private var keys: UnsafeMutablePointer<UInt64>
    private var values: UnsafeMutablePointer<UInt32>
    private var stamps: UnsafeMutablePointer<UInt32>
    private var size = 0
    private var mask = 0
    private var generation: UInt32 = 1
    /// How many ids were handed out since the last reset.
    private(set) var count = 0

    init(capacity: Int = 1024) {
        keys = .allocate(capacity: 1); values = .allocate(capacity: 1); stamps = .allocate(capacity: 1)
        allocate(capacity: capacity)
    }

    deinit { keys.deallocate(); values.deallocate(); stamps.deallocate() }

    private func allocate(capacity: Int) {
        var newSize = 16
        while newSize < capacity { newSize <<= 1 }
        keys.deallocate(); values.deallocate(); stamps.deallocate()
        keys = .allocate(capacity: newSize)
        values = .allocate(capacity: newSize)
        stamps = .allocate(capacity: newSize)
        stamps.initialize(repeating: 0, count: newSize)
        size = newSize
        mask = newSize - 1
        generation = 1
    }

    /// Forgets every id.
    func reset() {
        count = 0
        generation &+= 1
        if generation == 0 {  // wrapped: clear stamps for real once every 2^32 resets
            stamps.update(repeating: 0, count: size)
            generation = 1
        }
    }

    @inline(__always)
    static func mix(_ key: UInt64) -> UInt64 {
        var x = key &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        x = x &* 0xBF58_476D_1CE4_E5B9
        return x ^ (x >> 32)
    }

    /// The id of the n-gram that extends n-gram `prefix` by `unit`, assigning a new one if unseen.
    @inline(__always)
    func id(prefix: UInt32, unit: UInt32) -> UInt32 {
        let key = UInt64(prefix) << 32 | UInt64(unit)
        if (count + 1) * 2 > size { grow() }
        var slot = Int(truncatingIfNeeded: Self.mix(key)) & mask
        while true {
            if stamps[slot] != generation {
                stamps[slot] = generation
                keys[slot] = key
                let id = UInt32(count)
                values[slot] = id
                count += 1
                return id
            }
            if keys[slot] == key { return values[slot] }
            slot = (slot + 1) & mask
        }
    }

    private func grow() {
        var live: [(UInt64, UInt32)] = []
        for slot in 0..<size where stamps[slot] == generation { live.append((keys[slot], values[slot])) }
        let generationCount = count
        allocate(capacity: size * 2)
        for (key, value) in live {
            var slot = Int(truncatingIfNeeded: Self.mix(key)) & mask
            while stamps[slot] == generation { slot = (slot + 1) & mask }
            stamps[slot] = generation
            keys[slot] = key
            values[slot] = value
        }
        count = generationCount
    }
}

/// Exact dense ids for byte strings (tokens, words) of one segment.
struct TokenInterner {
    private var hashes: [UInt64] = []
    private var ids: [UInt32] = []
    private var stamps: [UInt32] = []
    /// Where the bytes of each id's first occurrence live, to check equality on hash hits.
    private var firstOccurrence: [Range<Int>] = []
    private var mask = 0
    private var generation: UInt32 = 1

    init(capacity: Int = 256) { allocate(capacity: capacity) }

    private mutating func allocate(capacity: Int) {
        var size = 16
        while size < capacity { size <<= 1 }
        hashes = [UInt64](repeating: 0, count: size)
        ids = [UInt32](repeating: 0, count: size)
        stamps = [UInt32](repeating: 0, count: size)
        mask = size - 1
        generation = 1
    }

    /// How many distinct strings have ids since the last reset.
    var count: Int { firstOccurrence.count }

    mutating func reset() {
        firstOccurrence.removeAll(keepingCapacity: true)
        generation &+= 1
        if generation == 0 {
            for index in stamps.indices { stamps[index] = 0 }
            generation = 1
        }
    }

    /// FNV-1a over the bytes, finished with a 64-bit mixer.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for index in range { h = (h ^ UInt64(bytes[index])) &* 0x0000_0100_0000_01B3 }
        return NGramIndexer.mix(h ^ UInt64(range.count))
    }

    /// The id of the bytes `bytes[range]` (all ranges of a segment index the same buffer).
    @inline(__always)
    mutating func id(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt32 {
        if (count + 1) * 2 > hashes.count { grow() }
        let h = Self.hash(bytes, range)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            if stamps[slot] != generation {
                stamps[slot] = generation
                hashes[slot] = h
                let id = UInt32(firstOccurrence.count)
                ids[slot] = id
                firstOccurrence.append(range)
                return id
            }
            if hashes[slot] == h {
                let other = firstOccurrence[Int(ids[slot])]
                if other.count == range.count
                    && memoryEqual(bytes.baseAddress! + other.lowerBound, bytes.baseAddress! + range.lowerBound,
                                   range.count) {
                    return ids[slot]
                }
            }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        for index in 0..<count where a[index] != b[index] { return false }
        return true
    }

    private mutating func grow() {
        var live: [(UInt64, UInt32)] = []
        for slot in stamps.indices where stamps[slot] == generation { live.append((hashes[slot], ids[slot])) }
        allocate(capacity: hashes.count * 2)
        for (h, id) in live {
            var slot = Int(truncatingIfNeeded: h) & mask
            while stamps[slot] == generation { slot = (slot + 1) & mask }
            stamps[slot] = generation
            hashes[slot] = h
            ids[slot] = id
        }
    }
}
