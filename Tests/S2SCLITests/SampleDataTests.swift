import Foundation
import XCTest

/// The committed sample data (data/sample) runs through the whole pipeline — vocabulary,
/// training, translation, scoring — as data/README.md says it does.
final class SampleDataTests: XCTestCase {
    private static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("data/sample").path

    func testSampleDataTrainsTranslatesAndScores() throws {
        let work = NSTemporaryDirectory() + "s2s-sample-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        for (file, lines) in [("train.en", 177), ("train.fr", 177), ("test.en", 20), ("test.fr", 20)] {
            let text = try String(contentsOfFile: Self.sample + "/" + file, encoding: .utf8)
            XCTAssertEqual(text.split(separator: "\n").count, lines, file)
        }
        let trained = try runS2S(["train", Self.sample + "/train.en", Self.sample + "/train.fr", "-o", work + "/m.s2s",
                                  "--max-updates", "50", "--vocab-size", "400", "--emb", "32", "--hidden", "32",
                                  "--attention", "32", "--quiet"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let info = try runS2S(["info", work + "/m.s2s"])
        XCTAssertTrue(info.stdout.contains("languages    en → fr"), info.stdout)
        let source = try String(contentsOfFile: Self.sample + "/test.en", encoding: .utf8)
        let translated = try runS2S(["translate", "-m", work + "/m.s2s", "--beam", "2"], input: source)
        XCTAssertEqual(translated.status, 0, translated.stderr)
        XCTAssertEqual(translated.stdout.split(separator: "\n", omittingEmptySubsequences: false).count, 21)
        try translated.stdout.write(toFile: work + "/hyp.fr", atomically: true, encoding: .utf8)
        let scored = try runS2S(["eval", "-r", Self.sample + "/test.fr", work + "/hyp.fr"])
        XCTAssertEqual(scored.status, 0, scored.stderr)
        XCTAssertTrue(scored.stdout.hasPrefix("BLEU|nrefs:1|"), scored.stdout)
    }
}
