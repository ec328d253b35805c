import S2STensor

// Where activations live. A pass's buffers are carved, in a fixed order, out of one `BufferArena`;
// the code that carves them (each activation struct's initializer) is the only table of their
// sizes, and the memory estimate runs the same code without allocating (llm.c's activation
// layout, in Swift).

/// Hands out consecutive stretches of one block of Floats, or only counts them.
struct BufferCarver {
    private let base: UnsafeMutablePointer<Float>?
    /// Floats handed out so far.
    private(set) var floats = 0

    /// A carver that only counts: the pointers it hands out must not be used.
    static var counting: BufferCarver { BufferCarver(base: nil) }

    init(base: UnsafeMutablePointer<Float>?) { self.base = base }

    /// The next `count` floats.
    mutating func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        precondition(count >= 0, "BufferCarver: negative size \(count)")
        defer { floats += count }
        return base.map { $0 + floats } ?? BufferCarver.placeholder
    }

    /// What a counting carver hands out: a valid address, never read or written.
    nonisolated(unsafe) private static let placeholder = UnsafeMutablePointer<Float>.allocate(capacity: 1)
}

/// One zero-initialized block of Floats that a pass's buffers are carved from; it grows to the
/// largest layout asked for and is reused, so steps after the largest batch allocate nothing.
final class BufferArena {
    private var storage = TensorMemory.allocateFloats(16)
    /// Floats held.
    private(set) var capacity = 16

    init() { storage.initialize(repeating: 0, count: capacity) }
    deinit { TensorMemory.deallocate(storage) }

    /// Lays out the buffers `carve` takes, growing the block first if they do not fit. Buffers
    /// keep no contents across layouts that grow the block.
    func layout<Buffers>(_ carve: (inout BufferCarver) -> Buffers) -> Buffers {
        var counter = BufferCarver.counting
        _ = carve(&counter)
        if counter.floats > capacity {
            TensorMemory.deallocate(storage)
            capacity = counter.floats
            storage = TensorMemory.allocateFloats(capacity)
            storage.initialize(repeating: 0, count: capacity)
        }
        var carver = BufferCarver(base: storage)
        return carve(&carver)
    }

    /// Floats that `carve` would take: the memory estimate of a layout.
    static func floats<Buffers>(_ carve: (inout BufferCarver) -> Buffers) -> Int {
        var counter = BufferCarver.counting
        _ = carve(&counter)
        return counter.floats
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// Sets `count` floats to zero.
    @inline(__always)
    func zero(_ count: Int) { update(repeating: 0, count: count) }
}

/// A growable scratch array of Floats, reused across batches so the hot path never allocates
/// once the largest batch shape has been seen.
final class FloatBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init(capacity: Int = 16) {
        self.capacity = max(capacity, 16)
        pointer = .allocate(capacity: self.capacity)
        pointer.initialize(repeating: 0, count: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// A pointer to at least `count` floats; old contents are lost when it has to grow.
    @discardableResult
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> { reserve(count, keeping: 0) }

    /// A pointer to at least `count` floats whose first `keeping` floats survive a growth
    /// (to count + count/4, zero-filled beyond them).
    @discardableResult
    func reserve(_ count: Int, keeping: Int) -> UnsafeMutablePointer<Float> {
        guard count > capacity else { return pointer }
        let old = pointer, oldCapacity = capacity
        capacity = count + count / 4
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
        pointer.update(from: old, count: min(keeping, oldCapacity))
        old.deallocate()
        return pointer
    }

    /// Reserves `count` floats and sets them to zero.
    @discardableResult
    func zeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = reserve(count)
        p.update(repeating: 0, count: count)
        return p
    }
}

