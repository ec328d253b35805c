// swift-tools-version:6.0
// s2s — a command-line GRU encoder-decoder NMT toolkit on OpenBLAS.
import PackageDescription

/// Optimisation for the numeric targets in release builds. `haswell` (AVX2 + FMA) is the
/// baseline of every machine this project runs on; without it the standard library's SIMD
/// min/max/select helpers fall back to per-lane loops (see ../shared/PLATFORM-NOTES.md).
let fastMath: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
    .unsafeFlags(["-target-cpu", "haswell"]),
]

let package = Package(
    name: "s2s",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "s2s", targets: ["s2s"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Native libraries, each behind one module map.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Libraries, one job each; data flows corpus → batch → model → checkpoint → translation.
        // The packed-product kernels; the one module compiled for AVX-512, whose AVX-512
        // functions run only on CPUs that have it (S2STensor inlines the generic ones for AVX2).
        .target(name: "S2SPanelKernels", swiftSettings: [
            .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
            .unsafeFlags(["-target-cpu", "skylake-avx512"]),
        ]),
        .target(name: "S2STensor", dependencies: ["CBLAS", "S2SPanelKernels"], swiftSettings: fastMath),
        .target(name: "S2SIO", dependencies: ["CZlib"], swiftSettings: fastMath),
        .target(name: "S2SContainer", dependencies: ["S2SIO"], swiftSettings: fastMath),
        .target(name: "S2SSubword", dependencies: ["S2SIO", "S2STensor"], swiftSettings: fastMath),
        .target(name: "S2SCorpus", dependencies: ["S2SIO", "S2SContainer", "S2SSubword", "S2STensor"],
                swiftSettings: fastMath),
        .target(name: "S2SModel", dependencies: ["S2STensor"], swiftSettings: fastMath),
        .target(name: "S2SCheckpoint", dependencies: ["S2SContainer", "S2SModel", "S2SSubword", "S2SIO", "S2STensor"],
                swiftSettings: fastMath),
        .target(name: "S2SMetrics", dependencies: ["S2SIO", "S2STensor"], swiftSettings: fastMath),
        .target(name: "S2SDecoding", dependencies: ["S2SModel", "S2SSubword", "S2STensor", "S2SIO"],
                swiftSettings: fastMath),
        .target(name: "S2STraining",
                dependencies: ["S2SModel", "S2SCorpus", "S2SCheckpoint", "S2SDecoding", "S2SMetrics",
                               "S2SSubword", "S2STensor", "S2SIO"],
                swiftSettings: fastMath),

        // The command line: parsing and wiring only.
        .executableTarget(name: "s2s", dependencies: [
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            "S2STensor", "S2SIO", "S2SContainer", "S2SSubword", "S2SCorpus", "S2SModel",
            "S2SCheckpoint", "S2SMetrics", "S2SDecoding", "S2STraining",
        ], swiftSettings: fastMath),

        // Tests mirror Sources: one target per library.
        .testTarget(name: "S2STensorTests", dependencies: ["S2STensor"], swiftSettings: fastMath),
        .testTarget(name: "S2SIOTests", dependencies: ["S2SIO"]),
        .testTarget(name: "S2SContainerTests", dependencies: ["S2SContainer", "S2SIO"]),
        .testTarget(name: "S2SSubwordTests", dependencies: ["S2SSubword", "S2SIO"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "S2SCorpusTests", dependencies: ["S2SCorpus", "S2SSubword", "S2SIO", "S2STensor"]),
        .testTarget(name: "S2SModelTests", dependencies: ["S2SModel", "S2STensor", "S2STraining"],
                    resources: [.copy("Fixtures")], swiftSettings: fastMath),
        .testTarget(name: "S2SCheckpointTests", dependencies: ["S2SCheckpoint", "S2SContainer", "S2SModel", "S2STensor", "S2SIO",
                                                               "S2SSubword", "S2STraining"]),
        .testTarget(name: "S2SMetricsTests", dependencies: ["S2SMetrics"], resources: [.copy("Fixtures")]),
        .testTarget(name: "S2SDecodingTests", dependencies: ["S2SDecoding", "S2SModel", "S2STensor"]),
        .testTarget(name: "S2STrainingTests", dependencies: ["S2STraining", "S2SModel", "S2SCorpus",
                                                             "S2SCheckpoint", "S2STensor"]),
        .testTarget(name: "S2SCLITests", dependencies: ["s2s"], exclude: ["Fixtures"]),
    ]
)
