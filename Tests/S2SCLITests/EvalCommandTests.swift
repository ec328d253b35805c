import Foundation
import XCTest

/// Runs the built `s2s` binary on small files and checks what `s2s eval` prints.
final class EvalCommandTests: XCTestCase {
    private var workDirectory: URL!

    override func setUpWithError() throws {
        workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("s2s-eval-tests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: workDirectory)
    }

    /// The `s2s` executable next to the test bundle (SwiftPM builds it for this test target).
    private var binary: URL {
        var directory = Bundle.main.bundleURL
        if directory.pathExtension == "xctest" { directory = directory.deletingLastPathComponent() }
        return directory.appendingPathComponent("s2s")
    }

    private func write(_ name: String, _ lines: [String]) throws -> String {
        let url = workDirectory.appendingPathComponent(name)
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runS2S(arguments)
    }

    private let references = ["Un homme marche dans la rue.", "Deux chiens jouent dans l'herbe verte.",
                              "Une femme lit un livre sur un banc."]
    private let hypotheses = ["Un homme marche dans une rue.", "Deux chiens jouent sur l'herbe.",
                              "Une femme lit un livre sur le banc."]

    func testBLEULineHasSacreBLEUShape() throws {
        let reference = try write("ref.fr", references), hypothesis = try write("hyp.fr", hypotheses)
        let result = try run(["eval", "-r", reference, hypothesis])
        XCTAssertEqual(result.status, 0, result.stderr)
        let line = result.stdout.trimmingCharacters(in: .newlines)
        let pattern = #"^BLEU\|nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:2\.\d+\.\d+ = \d+\.\d{2} "#
            + #"\d+\.\d/\d+\.\d/\d+\.\d/\d+\.\d \(BP = \d\.\d{3} ratio = \d\.\d{3} hyp_len = \d+ ref_len = \d+\)$"#
        XCTAssertNotNil(line.range(of: pattern, options: .regularExpression), line)
    }

    func testScoreOnlyChrFAndTwoReferences() throws {
        let reference = try write("ref.fr", references), second = try write("ref2.fr", hypotheses)
        let hypothesis = try write("hyp.fr", hypotheses)
        let result = try run(["eval", "--chrf", "--score-only", "-r", reference, "-r", second, hypothesis])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "100.00\n")   // the hypothesis is its own second reference
        let full = try run(["eval", "--chrf", "--chrf-word-order", "2", "-r", reference, hypothesis])
        XCTAssertTrue(full.stdout.hasPrefix("chrF2++|nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:"),
                      full.stdout)
    }

    func testLineCountMismatchIsOneLineErrorNamingFiles() throws {
        let reference = try write("ref.fr", references), hypothesis = try write("short.fr", Array(hypotheses.prefix(2)))
        let result = try run(["eval", "-r", reference, hypothesis])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("s2s: error: "), result.stderr)
        XCTAssertTrue(result.stderr.contains("short.fr has 2 lines"), result.stderr)
        XCTAssertTrue(result.stderr.contains("ref.fr has 3 lines"), result.stderr)
    }

    func testModelOptionNamesAMissingModel() throws {
        let reference = try write("ref.fr", references), source = try write("test.en", hypotheses)
        let result = try run(["eval", "-m", "no-such-model.s2s", "--src", source, "-r", reference, "--beam", "5"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("s2s: error: no-such-model.s2s"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one-line error")
    }

    func testSentenceLevelPrintsOneLinePerSegment() throws {
        let reference = try write("ref.fr", references), hypothesis = try write("hyp.fr", hypotheses)
        let result = try run(["eval", "--sentence", "-r", reference, hypothesis])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, hypotheses.count)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("BLEU|nrefs:1|case:mixed|eff:yes|") }, result.stdout)
    }
}
