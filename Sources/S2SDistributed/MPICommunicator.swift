import CMPI
import Foundation

/// The ranks of an `mpirun` job, through Open MPI's MPI_COMM_WORLD. Only the training thread
/// calls MPI (MPI_THREAD_FUNNELED); workers inside a rank never do.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private let comm: MPI_Comm

    /// Whether an MPI launcher started this process (Open MPI's and PMIx's variables).
    public static var wasLaunchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    nonisolated(unsafe) private static var shared: MPICommunicator?

    /// The world communicator, initializing MPI on first use (once per process).
    public static func world() throws -> MPICommunicator {
        if let shared { return shared }
        var provided: Int32 = 0
        try check("MPI_Init_thread", MPI_Init_thread(nil, nil, s2s_mpi_thread_funneled(), &provided))
        let made = try MPICommunicator(comm: s2s_mpi_comm_world())
        shared = made
        atexit { MPI_Finalize() }
        return made
    }

    private init(comm: MPI_Comm) throws {
        self.comm = comm
        var rank: Int32 = 0, size: Int32 = 0
        try Self.check("MPI_Comm_rank", MPI_Comm_rank(comm, &rank))
        try Self.check("MPI_Comm_size", MPI_Comm_size(comm, &size))
        self.rank = Int(rank)
        self.size = Int(size)
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        // MPI counts are 32-bit: reduce in slices well below that.
        let slice = 1 << 26
        var start = 0
        while start < values.count {
            let count = min(slice, values.count - start)
            try Self.check("MPI_Allreduce", MPI_Allreduce(s2s_mpi_in_place(), values.baseAddress! + start, Int32(count),
                                                          s2s_mpi_float(), s2s_mpi_sum(), comm))
            start += count
        }
    }

    public func allReduceSum(_ values: inout [Double]) throws { try allReduce(&values, s2s_mpi_sum()) }

    public func allReduceMax(_ values: inout [Double]) throws { try allReduce(&values, s2s_mpi_max()) }

    private func allReduce(_ values: inout [Double], _ operation: MPI_Op) throws {
        let count = Int32(values.count)
        try values.withUnsafeMutableBufferPointer { buffer in
            try Self.check("MPI_Allreduce", MPI_Allreduce(s2s_mpi_in_place(), buffer.baseAddress, count,
                                                          s2s_mpi_double(), operation, comm))
        }
    }

    public func allGather(_ values: [UInt64]) throws -> [[UInt64]] {
        var gathered = [UInt64](repeating: 0, count: values.count * size)
        try values.withUnsafeBufferPointer { mine in
            try gathered.withUnsafeMutableBufferPointer { all in
                try Self.check("MPI_Allgather", MPI_Allgather(mine.baseAddress, Int32(values.count), s2s_mpi_uint64(),
                                                              all.baseAddress, Int32(values.count), s2s_mpi_uint64(), comm))
            }
        }
        return (0..<size).map { Array(gathered[($0 * values.count)..<(($0 + 1) * values.count)]) }
    }

    public func broadcastFromRankZero(_ values: inout [Double]) throws {
        let count = Int32(values.count)
        try values.withUnsafeMutableBufferPointer { buffer in
            try Self.check("MPI_Bcast", MPI_Bcast(buffer.baseAddress, count, s2s_mpi_double(), 0, comm))
        }
    }

    public func abortJob(exitCode: Int32) -> Never {
        MPI_Abort(comm, exitCode)
        exit(exitCode)
    }

    private static func check(_ call: String, _ code: Int32) throws {
        guard code == s2s_mpi_success() else { throw DistributedError.mpiFailed(call: call, code: code) }
    }
}
