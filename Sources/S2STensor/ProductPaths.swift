import Dispatch
import Foundation
import S2SCore

/// Which path a product with a packed copy takes, chosen by measurement on this machine rather
/// than by CPU family: the packed kernels win at few rows on some CPUs and lose on others
/// (BENCHMARKS.md, "decoding"). The first product of a process with a given thread count
/// times OpenBLAS and the packed kernels on a recurrent matrix of the standard model
/// ([512, 1536]) at 1 to 256 rows (a few tens of milliseconds), and keeps the largest row count
/// up to which the packed kernels were at least as fast at every count measured.
/// The measurement is longer than loading a small model, so its result is kept per CPU (vendor,
/// family, model, stepping, OpenBLAS core, s2s's kernels) and thread count in
/// `cacheFile`, and later processes on the same kind of CPU read it; deleting the file measures
/// afresh. `S2S_PACKED_ROW_LIMIT=N` fixes the limit instead (to reproduce a run's rounding exactly).
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
        if measured[slot] < 0 {
            if let cached = cachedLimit(threads: threads) {
                measured[slot] = cached
            } else {
                measured[slot] = measure(threads: threads).limit
                storeLimit(measured[slot], threads: threads)
            }
        }
        return measured[slot]
    }

    /// Where measured limits are kept: `$S2S_CACHE_DIR/product-paths`, else under
    /// `$XDG_CACHE_HOME/s2s` or `~/.cache/s2s` (nil without a home directory).
    public static let cacheFile: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let directory = environment["S2S_CACHE_DIR"], !directory.isEmpty { return directory + "/product-paths" }
        if let directory = environment["XDG_CACHE_HOME"], !directory.isEmpty { return directory + "/s2s/product-paths" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.cache/s2s/product-paths" }
        return nil
    }()

    /// What the limit depends on besides the thread count: one line of the cache per key and count.
    static var machineKey: String {
        let kernels = CPUFeatures.hasAVX512 ? "avx512" : "avx2"
        return [CPUFeatures.vendor, CPUFeatures.family, CPUFeatures.model, CPUFeatures.stepping, BLAS.coreName, kernels]
            .map { $0.replacingOccurrences(of: "\t", with: " ") }.joined(separator: "/")
    }

    /// Lines `KEY<TAB>THREADS<TAB>LIMIT`; unreadable or foreign lines are ignored.
    private static func cachedLimit(threads: Int) -> Int? {
        guard let cacheFile, let text = try? String(contentsOfFile: cacheFile, encoding: .utf8) else { return nil }
        let key = machineKey
        for line in text.split(separator: "\n").reversed() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            if fields.count == 3, fields[0] == key, Int(fields[1]) == threads, let limit = Int(fields[2]), limit >= 0 {
                return limit
            }
        }
        return nil
    }

    /// Adds a line to the cache, replacing the file atomically; a cache that cannot be written
    /// only means measuring again next time.
    private static func storeLimit(_ limit: Int, threads: Int) {
        guard let cacheFile else { return }
        let url = URL(fileURLWithPath: cacheFile)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let existing = (try? String(contentsOfFile: cacheFile, encoding: .utf8)) ?? ""
        let kept = existing.split(separator: "\n").filter { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            return fields.count == 3 && !(fields[0] == machineKey && Int(fields[1]) == threads)
        }
        let text = (kept + ["\(machineKey)\t\(threads)\t\(limit)"]).joined(separator: "\n") + "\n"
        try? Data(text.utf8).write(to: url, options: .atomic)
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
