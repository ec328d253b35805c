// What `DispatchQueue.concurrentPerform` workers share: read-only inputs, and one result slot each.

/// A value whose thread safety holds by construction (read-only input, writes to disjoint
/// parts) handed to concurrent workers.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

/// One result slot per worker, each written by its worker only (raw storage, so concurrent
/// writes to different slots are not overlapping accesses to one array).
public final class ResultSlots<Value>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Result<Value, Error>>
    private let count: Int

    public init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: .failure(CancellationError()), count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    public func set(_ slot: Int, _ value: Result<Value, Error>) { slots[slot] = value }

    /// Every slot's result, in slot order.
    public var values: [Result<Value, Error>] { Array(UnsafeBufferPointer(start: slots, count: count)) }
}
