import Foundation

/// The processes of one training job (its ranks) and the collective operations between them.
/// Every rank calls the same operations in the same order; each call returns once every rank
/// has made it.
public protocol Communicator: AnyObject {
    /// This process's rank, 0 ..< size; rank 0 validates, logs and writes checkpoints.
    var rank: Int { get }
    /// The number of ranks.
    var size: Int { get }
    /// values ← Σ over ranks of values, elementwise, in place (the same bits on every rank).
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// values ← Σ over ranks, elementwise.
    func allReduceSum(_ values: inout [Double]) throws
    /// values ← max over ranks, elementwise.
    func allReduceMax(_ values: inout [Double]) throws
    /// Every rank's `values` (all the same count), in rank order.
    func allGather(_ values: [UInt64]) throws -> [[UInt64]]
    /// values ← rank 0's values.
    func broadcastFromRankZero(_ values: inout [Double]) throws
    /// Ends every rank of the job at once (after a failure on this rank alone, when the others
    /// would wait for it forever).
    func abortJob(exitCode: Int32) -> Never
}

extension Communicator {
    /// Whether this is rank 0, the one that validates, logs and writes.
    public var isLeader: Bool { rank == 0 }
}

/// A job of one process: every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    public func allReduceSum(_ values: inout [Double]) throws {}
    public func allReduceMax(_ values: inout [Double]) throws {}
    public func allGather(_ values: [UInt64]) throws -> [[UInt64]] { [values] }
    public func broadcastFromRankZero(_ values: inout [Double]) throws {}
    public func abortJob(exitCode: Int32) -> Never { exit(exitCode) }
}

/// A collective operation failed, or the ranks of a job disagree.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// An MPI call returned an error code.
    case mpiFailed(call: String, code: Int32)
    /// Rank `rank`'s `what` differs from rank 0's (compared by fingerprint before the first update).
    case rankDiffers(rank: Int, what: String)
    /// The ranks' parameters differ after an update: the job can no longer be trusted.
    case ranksDiverged(update: Int)

    public var description: String {
        switch self {
        case let .mpiFailed(call, code): return "MPI: \(call) failed with error \(code)"
        case let .rankDiffers(rank, what):
            return "rank \(rank) has a different \(what) from rank 0: every rank must train on the same data with the same options"
        case let .ranksDiverged(update):
            return "the ranks' parameters differ after update \(update) (a rank computed something else)"
        }
    }
}

/// The communicator of this process: Open MPI's when `mpirun` (or another MPI launcher) started
/// it, else a job of one process.
public func makeCommunicator() throws -> Communicator {
    MPICommunicator.wasLaunchedByMPI ? try MPICommunicator.world() : SingleProcess()
}
