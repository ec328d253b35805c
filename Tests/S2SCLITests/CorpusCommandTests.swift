import Foundation
import S2SCorpus
import S2SIO
import XCTest

/// `s2s prepare` and `s2s train --dry-run`, run as the built binary.
///
/// Text corpora need `s2s vocab`'s vocabulary, which this build does not load yet, so these tests
/// exercise the commands through a prepared corpus made by the library with a stand-in encoder.
final class CorpusCommandTests: XCTestCase {
    /// Characters as ids: a deterministic stand-in for a subword vocabulary.
    private struct CharacterEncoder: SentenceEncoder {
        var vocabularySize: Int { 260 }
        var fingerprint: String { "characters-260" }
        func encode(_ text: String) -> [Int32] { text.utf8.filter { $0 != 0x20 }.map { 4 + Int32($0) } }
    }

    /// The s2s binary built next to the test bundle (`.build/<config>/s2s`).
    private var binary: String {
        #if os(macOS)
        let testBundle = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }!.bundlePath
        #else
        let testBundle = ProcessInfo.processInfo.arguments[0]
        #endif
        return URL(fileURLWithPath: testBundle).deletingLastPathComponent().appendingPathComponent("s2s").path
    }

    /// Runs s2s with `arguments`; returns exit status, stdout and stderr.
    private func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let result = try runS2S(arguments)
        return (result.status, result.stdout, result.stderr)
    }

    private func makePrepared(in folder: String) throws -> (path: String, corpus: ParallelCorpus) {
        let source = folder + "/c.fr", target = folder + "/c.en"
        try (0..<400).map { "phrase \($0) " + String(repeating: "x", count: $0 % 23) }.joined(separator: "\n")
            .write(toFile: source, atomically: true, encoding: .utf8)
        try (0..<400).map { $0 == 7 ? "" : "sentence \($0)" }.joined(separator: "\n")
            .write(toFile: target, atomically: true, encoding: .utf8)
        let corpus = try CorpusLoader.load(.files(source: source, target: target), encoder: CharacterEncoder())
        let path = folder + "/c.s2sd"
        try PreparedCorpus.write(corpus, inputName: "c", to: path)
        return (path, corpus)
    }

    private func temporaryFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "s2s-cli-corpus-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    func testDryRunOnPreparedCorpusPrintsStatistics() throws {
        let folder = try temporaryFolder()
        let (path, corpus) = try makePrepared(in: folder)
        let result = try run(["train", "--data", path, "--dry-run", "--batch-tokens", "500"])
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.output.contains("pairs read         400\n"), result.output)
        XCTAssertTrue(result.output.contains("pairs kept         \(corpus.count)\n"), result.output)
        XCTAssertTrue(result.output.contains("empty 1,"), result.output)
        XCTAssertTrue(result.output.contains("source tokens      \(formatCount(corpus.sourceTokens.count))"), result.output)
        XCTAssertTrue(result.output.contains("corpus memory      \(formatBytes(corpus.storageBytes)) "), result.output)
        let expected = try BatchIterator(corpus: corpus, options: BatchingOptions(targetTokensPerBatch: 500)).epochStatistics()
        XCTAssertTrue(result.output.contains("batches per epoch  \(expected.batches) "), result.output)
        XCTAssertTrue(result.output.contains("padding            source "), result.output)
    }

    func testTrainingOnPreparedDataNeedsItsVocabulary() throws {
        let folder = try temporaryFolder()
        let (path, _) = try makePrepared(in: folder)
        let result = try run(["train", "--data", path, "-o", folder + "/m.s2s"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.error.contains("--data needs the vocabulary it was prepared with: -v FILE"), result.error)
    }

    func testBadDataIsAOneLineError() throws {
        let folder = try temporaryFolder()
        let text = folder + "/text.s2sd"
        try "hello\n".write(toFile: text, atomically: true, encoding: .utf8)
        let foreign = try run(["train", "--data", text, "--dry-run"])
        XCTAssertEqual(foreign.status, 1)
        XCTAssertEqual(foreign.error, "s2s: error: \(text): not an s2s S2SCORPS file (bad magic bytes)\n")
        let missing = try run(["train", "--data", folder + "/none.s2sd", "--dry-run"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.error.hasPrefix("s2s: error: \(folder)/none.s2sd: cannot open"), missing.error)
        // The vocabulary is loaded before any text is read.
        let vocabulary = try run(["prepare", text, text, "-v", folder + "/v.s2sv", "-o", folder + "/out.s2sd"])
        XCTAssertEqual(vocabulary.status, 1)
        XCTAssertTrue(vocabulary.error.hasPrefix("s2s: error: \(folder)/v.s2sv: cannot open"), vocabulary.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/out.s2sd"))
    }

    func testConflictingOrMissingInputsAreUsageErrors() throws {
        let noData = try run(["train", "--dry-run"])
        XCTAssertEqual(noData.status, 64)
        XCTAssertTrue(noData.error.contains("no training data"), noData.error)
        let both = try run(["train", "a", "b", "--data", "c.s2sd", "-v", "v", "--dry-run"])
        XCTAssertEqual(both.status, 64)
        let oneFile = try run(["prepare", "a", "-v", "v", "-o", "o"])
        XCTAssertEqual(oneFile.status, 64)
        XCTAssertTrue(oneFile.error.contains("expected two files"), oneFile.error)
    }
}
