#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A growable array of plain values in one manually managed allocation.
///
/// Unlike `Array`, its storage can be handed out as a stable `UnsafeBufferPointer` for as long as
/// the buffer lives, which lets a `ParallelCorpus` treat owned and memory-mapped token arrays
/// alike. It grows with `realloc`, which moves large blocks by remapping pages instead of copying,
/// so loading never holds two copies of the token array.
final class GrowableBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    /// Start of the storage (nil while nothing was ever allocated).
    private(set) var base: UnsafeMutablePointer<Element>?
    /// Number of elements in use.
    private(set) var count = 0
    /// Number of elements allocated.
    private(set) var capacity = 0

    init(reservingCapacity initial: Int = 0) {
        if initial > 0 { grow(toAtLeast: initial) }
    }

    deinit { free(base) }

    /// The elements in use; valid until the next append or the buffer's end.
    var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    /// Appends one element.
    @inline(__always)
    func append(_ element: Element) {
        if count == capacity { grow(toAtLeast: count + 1) }
        base![count] = element
        count += 1
    }

    /// Appends `elements` in one copy.
    func append(contentsOf elements: UnsafeBufferPointer<Element>) {
        guard let source = elements.baseAddress, elements.count > 0 else { return }
        if count + elements.count > capacity { grow(toAtLeast: count + elements.count) }
        (base! + count).update(from: source, count: elements.count)
        count += elements.count
    }

    /// Gives back the unused tail of the allocation once loading is finished.
    func shrinkToFit() {
        guard capacity > count, count > 0 else { return }
        reallocate(count)
    }

    private func grow(toAtLeast needed: Int) {
        // Grow by half rather than double: the token array is the largest thing in memory.
        reallocate(max(needed, capacity + capacity / 2, 1024))
    }

    private func reallocate(_ newCapacity: Int) {
        let bytes = newCapacity * MemoryLayout<Element>.stride
        guard let grown = realloc(base, bytes) else { fatalError("out of memory growing a token buffer to \(bytes) bytes") }
        base = grown.assumingMemoryBound(to: Element.self)
        capacity = newCapacity
    }
}
