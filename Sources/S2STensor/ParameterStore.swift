/// Named Float32 tensors in one contiguous, 64-byte-aligned block.
///
/// Parameters, their gradients and Adam's two moments each live in a store with the same
/// layout, so an optimizer step is a single loop over one buffer, gradient clipping is one
/// norm, and a checkpoint keys tensors by their stable names (`decoder.gru1.W`).
public final class ParameterStore: @unchecked Sendable {
    /// One named tensor: where it sits in `values` and its shape.
    public struct Entry: Equatable, Sendable, Codable {
        /// Stable dotted name, e.g. `encoder.forward.W`.
        public let name: String
        /// Row-major shape, e.g. [3H, E].
        public let shape: [Int]
        /// First element of the tensor in `values`.
        public let offset: Int
        /// Number of elements, the product of `shape`.
        public var count: Int { shape.reduce(1, *) }
    }

    /// The tensors, in layout order.
    public let entries: [Entry]
    /// Every element of every tensor; tensor i is values[entries[i].offset ..< + count].
    public let values: UnsafeMutableBufferPointer<Float>
    private let indexByName: [String: Int]

    /// A zero-filled store with tensors `layout` (name, shape), in that order; each tensor
    /// starts on a 16-float (64-byte) boundary so SIMD loads of a tensor are aligned.
    public init(layout: [(name: String, shape: [Int])]) {
        var entries: [Entry] = []
        var offset = 0
        for (name, shape) in layout {
            precondition(shape.allSatisfy { $0 > 0 }, "tensor \(name) has a non-positive dimension: \(shape)")
            entries.append(Entry(name: name, shape: shape, offset: offset))
            offset += (shape.reduce(1, *) + 15) / 16 * 16
        }
        let pointer = TensorMemory.allocateFloats(max(offset, 16))
        pointer.initialize(repeating: 0, count: max(offset, 16))
        values = UnsafeMutableBufferPointer(start: pointer, count: offset)
        self.entries = entries
        var index: [String: Int] = [:]
        for (i, entry) in entries.enumerated() {
            precondition(index[entry.name] == nil, "tensor \(entry.name) declared twice")
            index[entry.name] = i
        }
        indexByName = index
    }

    /// A zero-filled store with the same layout as `other` (for gradients and moments).
    public convenience init(sameLayoutAs other: ParameterStore) {
        self.init(layout: other.entries.map { ($0.name, $0.shape) })
    }

    deinit { TensorMemory.deallocate(values.baseAddress!) }

    /// A copy of every element. Prefer it to `Array(store.values)`: a store that nothing uses
    /// afterwards may be freed while that expression still reads `values` (AddressSanitizer
    /// caught a test doing so); here `self` lives until the copy is made.
    public var elements: [Float] { Array(values) }

    /// The entry named `name`, if any.
    public func entry(_ name: String) -> Entry? { indexByName[name].map { entries[$0] } }

    /// The elements of tensor `name`; traps if there is no such tensor (names are fixed by code).
    public func tensor(_ name: String) -> UnsafeMutableBufferPointer<Float> {
        guard let entry = entry(name) else { preconditionFailure("no tensor named \(name)") }
        return UnsafeMutableBufferPointer(rebasing: values[entry.offset..<(entry.offset + entry.count)])
    }

    /// Total number of elements over all tensors (padding excluded).
    public var parameterCount: Int { entries.reduce(0) { $0 + $1.count } }

    /// Sets every element (padding included) to zero.
    public func zero() { values.update(repeating: 0) }

    /// Copies every value from `other`, which must have the same layout.
    public func copy(from other: ParameterStore) {
        precondition(other.entries == entries, "ParameterStore layouts differ")
        _ = values.update(fromContentsOf: other.values)
    }
}
