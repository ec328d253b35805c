/// An open-addressing hash table from byte strings to dense indices 0, 1, 2, …, with the keys
/// stored back to back in one arena. It counts words while learning and caches word → ids
/// while encoding, without allocating a String or an Array per lookup.
struct ByteKeyTable {
    /// Slot → entry index + 1 (0 = empty). Its size is a power of two, at most half full.
    private var slots: [Int32]
    /// All keys, back to back.
    private(set) var keyBytes: [UInt8] = []
    /// Entry → start of its key in `keyBytes`; entry count + 1 elements (the last is the end).
    private(set) var keyStarts: [Int] = [0]
    /// Entry → hash of its key (kept so growing needs no rehashing of bytes).
    private var hashes: [UInt64] = []

    init(initialCapacity: Int = 1024) {
        var capacity = 16
        while capacity < initialCapacity * 2 { capacity <<= 1 }
        slots = [Int32](repeating: 0, count: capacity)
    }

    /// The number of keys.
    var count: Int { hashes.count }

    /// Bytes of key `index`.
    func key(_ index: Int) -> ArraySlice<UInt8> { keyBytes[keyStarts[index]..<keyStarts[index + 1]] }

    /// FNV-1a 64 over the bytes, finished with a multiply-xorshift so the low bits mix well.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        hash ^= hash >> 29
        hash = hash &* 0xBF58_476D_1CE4_E5B9
        return hash ^ (hash >> 32)
    }

    /// The index of `bytes`, or nil.
    @inline(__always)
    func find(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots in
            keyBytes.withUnsafeBufferPointer { arena in
                while true {
                    let entry = Int(slots[slot]) - 1
                    if entry < 0 { return nil }
                    if hashes[entry] == hash {
                        let start = keyStarts[entry]
                        let length = keyStarts[entry + 1] - start
                        if length == bytes.count
                            && (length == 0 || memcmpEqual(arena.baseAddress! + start, bytes.baseAddress!, length)) {
                            return entry
                        }
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    /// The index of `bytes`, inserting it if new; `inserted` tells which.
    @inline(__always)
    mutating func findOrInsert(_ bytes: UnsafeBufferPointer<UInt8>) -> (index: Int, inserted: Bool) {
        let hash = Self.hash(bytes)
        if let found = find(bytes, hash: hash) { return (found, false) }
        let index = hashes.count
        hashes.append(hash)
        keyBytes.append(contentsOf: bytes)
        keyStarts.append(keyBytes.count)
        if hashes.count * 2 > slots.count {
            rebuild(capacity: slots.count * 2)
        } else {
            place(index, hash: hash)
        }
        return (index, true)
    }

    /// Forgets every key (keeping the memory).
    mutating func removeAll() {
        for index in slots.indices { slots[index] = 0 }
        keyBytes.removeAll(keepingCapacity: true)
        keyStarts.removeAll(keepingCapacity: true)
        keyStarts.append(0)
        hashes.removeAll(keepingCapacity: true)
    }

    private mutating func place(_ index: Int, hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(index + 1)
    }

    private mutating func rebuild(capacity: Int) {
        slots = [Int32](repeating: 0, count: capacity)
        for index in hashes.indices { place(index, hash: hashes[index]) }
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for offset in 0..<count where a[offset] != b[offset] { return false }
    return true
}
