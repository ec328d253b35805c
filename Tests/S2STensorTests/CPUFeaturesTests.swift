import XCTest
@testable import S2STensor

final class CPUFeaturesTests: XCTestCase {
    /// /proc/cpuinfo is read: the project's baseline (AVX2 + FMA, the target every numeric
    /// module is compiled for) is there, and AVX-512 is reported exactly when all five subsets
    /// the AVX-512 kernels are compiled for are.
    func testFlagsAreReadFromCPUInfo() {
        XCTAssertTrue(CPUFeatures.flags.contains("avx2"), "flags: \(CPUFeatures.flags.sorted().prefix(20))")
        XCTAssertTrue(CPUFeatures.flags.contains("fma"))
        XCTAssertFalse(CPUFeatures.vendor.isEmpty)
        XCTAssertEqual(CPUFeatures.hasAVX512, CPUFeatures.avx512Subsets.allSatisfy(CPUFeatures.flags.contains))
        XCTAssertEqual(PackedMatrix.Kernel.best, CPUFeatures.hasAVX512 ? .avx512 : .avx2)
    }
}
