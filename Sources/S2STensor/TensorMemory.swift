#if canImport(Glibc)
import Glibc
#endif

/// Memory for tensors: 64-byte aligned (no SIMD load straddles two cache lines), and blocks
/// of 2 MiB and more on transparent huge pages (`madvise`; Linux leaves it off unless asked),
/// so a pass over the weights needs one TLB entry per 2 MiB instead of one per 4 KiB, and a
/// fresh block takes one page fault per 2 MiB. Release with `deallocate`.
public enum TensorMemory {
    /// The huge-page size of x86-64 and of most aarch64 kernels.
    static let hugePageBytes = 2 << 20

    /// An uninitialized block of `byteCount` bytes.
    public static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let huge = byteCount >= hugePageBytes
        var block: UnsafeMutableRawPointer?
        guard posix_memalign(&block, huge ? hugePageBytes : 64, max(byteCount, 64)) == 0, let block else {
            fatalError("out of memory allocating \(byteCount) bytes for a tensor")
        }
        #if os(Linux)
        if huge { _ = madvise(block, byteCount, MADV_HUGEPAGE) }
        #endif
        return block
    }

    /// An uninitialized block of `count` floats.
    public static func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
        allocate(byteCount: count * MemoryLayout<Float>.stride).bindMemory(to: Float.self, capacity: count)
    }

    /// Returns a block from `allocate`.
    public static func deallocate(_ block: UnsafeMutableRawPointer) { free(block) }
}
