// swift-tools-version:6.1
// s2s — a command-line GRU encoder-decoder NMT toolkit on OpenBLAS.
import Foundation
import PackageDescription

/// Every module: `haswell` (AVX2 + FMA) is the baseline of every machine this project runs on;
/// without it the standard library's SIMD min/max/select helpers fall back to per-lane loops
/// (../shared/PLATFORM-NOTES.md). Release builds are optimized and checked (`-O`): integer
/// overflow, array bounds and preconditions still trap, so bad input cannot corrupt memory.
/// `S2S_UNCHECKED=1` builds every module with `-Ounchecked` instead, only so that
/// `scripts/bench-checked.sh` can measure what the checks cost, side by side.
let optimization = ProcessInfo.processInfo.environment["S2S_UNCHECKED"] == "1" ? "-Ounchecked" : "-O"
let checked: [SwiftSetting] = [
    .unsafeFlags([optimization, "-wmo"], .when(configuration: .release)),
    .unsafeFlags(["-target-cpu", "haswell"]),
]

/// The panel kernels alone drop the checks: they index explicit unsafe pointers whose bounds
/// their callers check once per product, and their inner loops are the decoder's hottest code.
let kernels: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
]

let package = Package(
    name: "s2s",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "s2s", targets: ["s2s"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The HTTP server of `s2s serve`, without its optional configuration-file support.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // Native libraries, each behind one module map.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),

        // Libraries, one job each; data flows corpus → batch → model → checkpoint → translation
        // → metric (docs/architecture.md draws the graph; PackageGraphTests keeps it true).
        // Batches, special tokens and the seeded generator: the vocabulary every module shares.
        .target(name: "S2SCore", swiftSettings: checked),
        .target(name: "S2SIO", dependencies: ["CZlib"], swiftSettings: checked),
        // CRC-32C with the CPU's instruction (C: SSE 4.2), for the container's checksums.
        .target(name: "S2SCRC32C", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "S2SContainer", dependencies: ["S2SIO", "S2SCRC32C"], swiftSettings: checked),
        // The packed-product kernels; the one module compiled for AVX-512, whose AVX-512
        // functions run only on CPUs that have it (S2STensor inlines the generic ones for AVX2).
        .target(name: "S2SPanelKernels", swiftSettings: kernels + [.unsafeFlags(["-target-cpu", "skylake-avx512"])]),
        // The int8 kernels (C with per-function AVX2 and AVX-512 VNNI targets, chosen at run time).
        .target(name: "S2SInt8Kernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "S2STensor", dependencies: ["S2SCore", "CBLAS", "S2SPanelKernels", "S2SInt8Kernels"],
                swiftSettings: checked),
        .target(name: "S2SSubword", dependencies: ["S2SCore", "S2SIO"], swiftSettings: checked),
        .target(name: "S2SCorpus", dependencies: ["S2SCore", "S2SIO", "S2SContainer", "S2SSubword"],
                swiftSettings: checked),
        .target(name: "S2SModel", dependencies: ["S2SCore", "S2STensor"], swiftSettings: checked),
        .target(name: "S2SCheckpoint", dependencies: ["S2SCore", "S2SIO", "S2SContainer", "S2STensor", "S2SModel"],
                swiftSettings: checked),
        .target(name: "S2SDecoding",
                dependencies: ["S2SCore", "S2SIO", "S2STensor", "S2SSubword", "S2SModel", "S2SCheckpoint"],
                swiftSettings: checked),
        .target(name: "S2SMetrics", dependencies: ["S2SCore"], swiftSettings: checked),
        // The ranks of a multi-process job (Open MPI under `mpirun`, else one process).
        .target(name: "S2SDistributed", dependencies: ["CMPI"], swiftSettings: checked),
        // Translation as a service: requests from many clients batched into shared decoding
        // rounds, with queue limits and deadlines (no HTTP).
        .target(name: "S2SService", dependencies: ["S2SCore", "S2SDecoding"], swiftSettings: checked),
        // `s2s serve`'s HTTP APIs (LibreTranslate's, OpenNMT-py's, Prometheus metrics) on Hummingbird.
        .target(name: "S2SServer", dependencies: [
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
            "S2SContainer", "S2SDecoding", "S2SService",
        ], swiftSettings: checked),
        .target(name: "S2STraining",
                dependencies: ["S2SCore", "S2SIO", "S2SContainer", "S2STensor", "S2SSubword", "S2SCorpus", "S2SModel",
                               "S2SCheckpoint", "S2SDecoding", "S2SMetrics", "S2SDistributed"],
                swiftSettings: checked),

        // The command line: parsing and wiring only.
        .executableTarget(name: "s2s", dependencies: [
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            "S2SCore", "S2SIO", "S2STensor", "S2SSubword", "S2SCorpus", "S2SModel", "S2SCheckpoint", "S2SDecoding",
            "S2SMetrics", "S2SDistributed", "S2STraining", "S2SService", "S2SServer",
        ], swiftSettings: checked),

        // Tests mirror Sources: one target per library, plus the command line's.
        .testTarget(name: "S2STensorTests", dependencies: ["S2SCore", "S2STensor"], swiftSettings: checked),
        .testTarget(name: "S2SIOTests", dependencies: ["S2SIO"]),
        .testTarget(name: "S2SContainerTests", dependencies: ["S2SIO", "S2SContainer"]),
        .testTarget(name: "S2SSubwordTests", dependencies: ["S2SCore", "S2SSubword"], resources: [.copy("Fixtures")]),
        .testTarget(name: "S2SCorpusTests", dependencies: ["S2SCore", "S2SIO", "S2SContainer", "S2SSubword", "S2SCorpus"]),
        .testTarget(name: "S2SModelTests", dependencies: ["S2SCore", "S2STensor", "S2SModel", "S2STraining"],
                    resources: [.copy("Fixtures")], swiftSettings: checked),
        .testTarget(name: "S2SCheckpointTests",
                    dependencies: ["S2SCore", "S2SIO", "S2SContainer", "S2STensor", "S2SModel", "S2SCheckpoint"]),
        .testTarget(name: "S2SMetricsTests", dependencies: ["S2SMetrics"], resources: [.copy("Fixtures")]),
        .testTarget(name: "S2SDecodingTests", dependencies: ["S2SCore", "S2SIO", "S2STensor", "S2SModel", "S2SDecoding"]),
        .testTarget(name: "S2STrainingTests", dependencies: ["S2SCore", "S2STensor", "S2SSubword", "S2SCorpus", "S2SModel",
                                                             "S2SCheckpoint", "S2STraining"]),
        .testTarget(name: "S2SServiceTests", dependencies: ["S2SCore", "S2SDecoding", "S2SService"]),
        .testTarget(name: "S2SCLITests", dependencies: ["s2s", "S2SIO", "S2SCorpus", "S2SDecoding"], exclude: ["Fixtures"]),
    ]
)

/// The libFuzzer binary of scripts/fuzz (one entry point; $S2S_FUZZ_TARGET picks the reader),
/// part of the package only when scripts/fuzz/fuzz.sh builds it (`S2S_FUZZ=1`, with
/// `--sanitize=fuzzer --sanitize=address`): libFuzzer supplies `main`.
if ProcessInfo.processInfo.environment["S2S_FUZZ"] == "1" {
    package.targets.append(.executableTarget(
        name: "S2SFuzz",
        dependencies: ["S2SIO", "S2SContainer", "S2SSubword", "S2SCorpus", "S2SMetrics", "S2SServer"],
        path: "scripts/fuzz", exclude: ["fuzz.sh", "seeds", "seeds-vocabulary"],
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}
