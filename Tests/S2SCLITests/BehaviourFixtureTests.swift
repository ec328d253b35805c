import Foundation
import XCTest

/// What s2s computes end to end must not change by accident: `scripts/make-behaviour-fixture.sh`
/// trains two small models on real Multi30k pairs with a fixed seed and pinned kernels, and
/// translates 200 validation sentences greedily and with beam 5. The fixture in
/// Fixtures/behaviour was made by the same script; this test runs it again and compares. A
/// change that alters the numbers on purpose re-records the fixture (and says why in its commit).
final class BehaviourFixtureTests: XCTestCase {
    private static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/behaviour")
    private static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/make-behaviour-fixture.sh").standardized

    func testTrainingLossesAndTranslationsMatchTheFixture() throws {
        let out = NSTemporaryDirectory() + "s2s-behaviour-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.script.path, try s2sBinary().path, try multi30kPath(), out]
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: errors, as: UTF8.self))

        for variant in ["defaults", "tied-plain"] {
            let expected = try Self.losses(Self.fixture.appendingPathComponent("\(variant).losses.tsv").path)
            let actual = try Self.losses(out + "/\(variant).losses.tsv")
            XCTAssertEqual(actual.count, expected.count, variant)
            XCTAssertGreaterThanOrEqual(expected.count, 50)
            for (update, (have, want)) in zip(actual, expected).enumerated() {
                XCTAssertEqual(have, want, accuracy: 1e-5 * abs(want), "\(variant): loss of update \(update + 1)")
            }
            for search in ["greedy", "beam5"] {
                let name = "\(variant).\(search).fr"
                let want = try String(contentsOf: Self.fixture.appendingPathComponent(name), encoding: .utf8)
                let have = try String(contentsOfFile: out + "/" + name, encoding: .utf8)
                XCTAssertEqual(have.split(separator: "\n", omittingEmptySubsequences: false).count, 201, name)
                XCTAssertEqual(have, want, "\(name) differs from the fixture")
            }
        }
    }

    /// The losses of a `update<TAB>loss` file, in update order.
    private static func losses(_ path: String) throws -> [Double] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").enumerated().map { index, line in
            let fields = line.split(separator: "\t")
            guard fields.count == 2, Int(fields[0]) == index + 1, let loss = Double(fields[1]) else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path])
            }
            return loss
        }
    }
}

/// Multi30k from `$S2S_CORPUS` or ../shared next to the checkout (`make test` passes it).
func multi30kPath() throws -> String {
    if let path = ProcessInfo.processInfo.environment["S2S_CORPUS"], !path.isEmpty { return path }
    let beside = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/corpora/multi30k-en-fr").standardized.path
    guard FileManager.default.fileExists(atPath: beside + "/train.en") else {
        XCTFail("Multi30k not found at \(beside); set S2S_CORPUS or run scripts/fetch-multi30k.sh")
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: beside])
    }
    return beside
}
