import Dispatch
import Foundation
import S2SCore

/// Which path a product with a packed copy takes, chosen by measurement on this machine rather
/// than by CPU family: the packed kernels win at few rows on some CPUs and lose on others
/// (BENCHMARKS.md, "decoding"). The first product of a process with a given thread count
/// times OpenBLAS and the packed kernels on a recurrent matrix of the standard model
/// ([512, 1536]) at 1 to 256 rows (a few tens of milliseconds), and keeps the largest row count
/// up to which the packed kernels were at least as fast at every count measured.
/// `S2S_PACKED_ROW_LIMIT=N` fixes the limit instead (to reproduce a run's rounding exactly).
public enum ProductPaths {
    /// Row counts measured.
    static let rowCounts = [1, 2, 4, 8, 16, 32, 64, 128, 256]

    private static let fixed: Int? = ProcessInfo.processInfo.environment["S2S_PACKED_ROW_LIMIT"].flatMap(Int.init)
    private static let lock = NSLock()
    /// The limit measured for each thread count (−1: not yet); read without the lock once set,
    /// as every product asks.
    nonisolated(unsafe) private static let measured: UnsafeMutablePointer<Int> = {
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: 65)
        slots.initialize(repeating: -1, count: 65)
        return slots
    }()

    /// The row limit for products on `threads` threads.
    public static func packedRowLimit(threads: Int) -> Int {
        if let fixed { return fixed }
        let slot = min(max(threads, 0), 64)
        if measured[slot] >= 0 { return measured[slot] }
        lock.lock()
        defer { lock.unlock() }
        if measured[slot] < 0 { measured[slot] = measure(threads: threads).limit }
        return measured[slot]
    }

    /// Times both paths at every row count (the median of 5 products each); the limit is the
    /// largest count before the first one at which OpenBLAS is faster.
    public static func measure(threads: Int, k: Int = 512, n: Int = 1536)
        -> (limit: Int, timings: [(rows: Int, openBLAS: Double, packed: Double)]) {
        var rng = SeededRNG(seed: 1)
        let b = (0..<(k * n)).map { _ in rng.normal() }
        let a = (0..<(rowCounts.last! * k)).map { _ in rng.normal() }
        var c = [Float](repeating: 0, count: rowCounts.last! * n)
        let packed = b.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, k: k, n: n, ldb: n) }
        func seconds(_ body: () -> Void) -> Double {
            var times: [Double] = []
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return times.sorted()[2]
        }
        var timings: [(rows: Int, openBLAS: Double, packed: Double)] = []
        var limit = 0, stillAhead = true
        for m in rowCounts {
            let plain = seconds { BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, packedB: nil, beta: 0, c: &c, ldc: n) }
            let viaPacked = seconds {
                a.withUnsafeBufferPointer { rows in
                    c.withUnsafeMutableBufferPointer { out in
                        packed.multiply(m: m, a: rows.baseAddress!, lda: k, beta: 0, c: out.baseAddress!, ldc: n, threads: threads)
                    }
                }
            }
            timings.append((m, plain, viaPacked))
            if stillAhead && viaPacked <= plain { limit = m } else { stillAhead = false }
        }
        return (limit, timings)
    }
}
