import Foundation
import XCTest

/// An output that names one of the command's own inputs — by the same path, a hard link or a
/// symbolic link — is refused before any work, with one line, and the input is left as it was.
/// (Before, `s2s vocab corpus.en -o corpus.en` replaced the corpus with the vocabulary.)
final class OutputSafetyTests: XCTestCase {
    private static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("data/sample").path
    private var work = ""

    override func setUpWithError() throws {
        work = NSTemporaryDirectory() + "s2s-output-safety-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        for file in ["train.en", "train.fr"] {
            try FileManager.default.copyItem(atPath: Self.sample + "/" + file, toPath: work + "/" + file)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func contents(_ name: String) -> Data? { FileManager.default.contents(atPath: work + "/" + name) }

    /// Runs a command that must be refused because its output is `victim`; checks the message
    /// and that `victim` kept its bytes.
    private func assertRefused(_ arguments: [String], victim: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try XCTUnwrap(contents(victim), file: file, line: line)
        let result = try runS2S(arguments)
        let command = arguments.prefix(2).joined(separator: " ")
        XCTAssertEqual(result.status, 1, "\(command): \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("s2s: error: ") && result.stderr.contains("write the output to another file"),
                      "\(command): \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stderr.filter { $0 == "\n" }.count, 1, result.stderr, file: file, line: line)
        XCTAssertEqual(contents(victim), before, "\(command) kept \(victim)", file: file, line: line)
    }

    func testAnOutputThatIsAnInputIsRefusedAndTheInputKept() throws {
        let (en, fr) = (work + "/train.en", work + "/train.fr")
        // The fixtures every command needs, made before any of them is tried.
        XCTAssertEqual(try runS2S(["vocab", en, fr, "-o", work + "/v.s2sv", "--size", "400", "--quiet"]).status, 0)
        let trained = try runS2S(["train", en, fr, "-v", work + "/v.s2sv", "-o", work + "/m.s2s", "--emb", "16",
                                  "--hidden", "16", "--attention", "16", "--max-updates", "2", "--quiet",
                                  "--log", work + "/train.jsonl"])
        XCTAssertEqual(trained.status, 0, trained.stderr)

        try assertRefused(["vocab", en, fr, "-o", en, "--size", "400", "--quiet"], victim: "train.en")
        try assertRefused(["prepare", en, fr, "-v", work + "/v.s2sv", "-o", fr, "--quiet"], victim: "train.fr")
        try assertRefused(["prepare", en, fr, "-v", work + "/v.s2sv", "-o", work + "/v.s2sv", "--quiet"], victim: "v.s2sv")
        try assertRefused(["train", en, fr, "-v", work + "/v.s2sv", "-o", en, "--max-updates", "1", "--quiet"],
                          victim: "train.en")
        try assertRefused(["train", en, fr, "-v", work + "/v.s2sv", "-o", work + "/n.s2s", "--log", fr,
                           "--max-updates", "1", "--quiet"], victim: "train.fr")
        try assertRefused(["average", work + "/m.s2s", work + "/m.s2s", "-o", work + "/m.s2s", "--quiet"], victim: "m.s2s")
        try assertRefused(["plot", work + "/train.jsonl", "-o", work + "/train.jsonl"], victim: "train.jsonl")
        try assertRefused(["shortlist", en, fr, "-m", work + "/m.s2s", "-o", en, "--quiet"], victim: "train.en")

        // Another name for the same file is the same file.
        XCTAssertEqual(link(en, work + "/hard.en"), 0)
        try FileManager.default.createSymbolicLink(atPath: work + "/soft.en", withDestinationPath: "train.en")
        try assertRefused(["vocab", en, fr, "-o", work + "/hard.en", "--size", "400", "--quiet"], victim: "train.en")
        try assertRefused(["vocab", work + "/soft.en", fr, "-o", en, "--size", "400", "--quiet"], victim: "train.en")
        let named = try runS2S(["vocab", work + "/soft.en", fr, "-o", en, "--size", "400", "--quiet"])
        XCTAssertTrue(named.stderr.contains("is the same file as the input '\(work)/soft.en'"), named.stderr)

        // A different file is written as before.
        let written = try runS2S(["vocab", en, fr, "-o", work + "/other.s2sv", "--size", "400", "--quiet"])
        XCTAssertEqual(written.status, 0, written.stderr)
        XCTAssertEqual(contents("other.s2sv"), contents("v.s2sv"))
    }

    /// A result that cannot be written is an error, not a silent exit 0: `eval`'s score (printed
    /// through stdout's buffer) and `encode`'s pieces on /dev/full.
    func testStdoutThatCannotBeWrittenFailsTheCommand() throws {
        let full = try XCTUnwrap(FileHandle(forWritingAtPath: "/dev/full"), "no /dev/full on this system")
        XCTAssertEqual(try runS2S(["vocab", work + "/train.en", "-o", work + "/v.s2sv", "--size", "300", "--quiet"]).status, 0)
        for arguments in [["eval", "-r", work + "/train.fr", work + "/train.fr", "--quiet"],
                          ["encode", "-v", work + "/v.s2sv", work + "/train.en"]] {
            let process = Process()
            process.executableURL = try s2sBinary()
            process.arguments = arguments
            process.standardOutput = full
            let stderr = Pipe()
            process.standardError = stderr
            try process.run()
            let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 1, "\(arguments[0]): \(message)")
            XCTAssertTrue(message.hasPrefix("s2s: error: ") && message.contains("No space left on device"), message)
            XCTAssertEqual(message.filter { $0 == "\n" }.count, 1, message)
        }
    }

    /// A corpus with no pairs (empty files, or every pair filtered out) is an error naming it,
    /// for `prepare` (which wrote an empty prepared corpus before) as for `train`.
    func testACorpusWithoutPairsIsAnErrorNamingIt() throws {
        XCTAssertEqual(try runS2S(["vocab", work + "/train.en", "-o", work + "/v.s2sv", "--size", "300", "--quiet"]).status, 0)
        let empty = work + "/empty.txt"
        FileManager.default.createFile(atPath: empty, contents: Data())
        for command in [["prepare", "-o", work + "/p.s2sd"], ["train", "-o", work + "/m.s2s", "--max-updates", "1"]] {
            let result = try runS2S([command[0], empty, empty, "-v", work + "/v.s2sv", "--quiet"] + command.dropFirst())
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("s2s: error: ") && result.stderr.contains(empty)
                          && result.stderr.contains("no sentence pairs"), result.stderr)
            XCTAssertEqual(result.stderr.filter { $0 == "\n" }.count, 1, result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/p.s2sd"))
        let filtered = try runS2S(["prepare", work + "/train.en", work + "/train.fr", "-v", work + "/v.s2sv",
                                   "--max-length", "1", "-o", work + "/p.s2sd", "--quiet"])
        XCTAssertEqual(filtered.status, 1, filtered.stderr)
        XCTAssertTrue(filtered.stderr.contains("no sentence pairs left after filtering (177 read)"), filtered.stderr)
    }

    /// A temporary that a killed `prepare` left beside its output (`p.s2sd.tmp.XXXXXX`) is
    /// removed when `prepare` writes that output again; files that only look alike stay.
    func testLeftoverTemporariesOfTheOutputAreRemoved() throws {
        XCTAssertEqual(try runS2S(["vocab", work + "/train.en", "-o", work + "/v.s2sv", "--size", "300", "--quiet"]).status, 0)
        let leftovers = ["p.s2sd.tmp.a1B2c3", "p.s2sd.tmp.ZZZZZZ"], lookalikes = ["p.s2sd.tmp.notes", "q.s2sd.tmp.a1B2c3"]
        for name in leftovers + lookalikes { FileManager.default.createFile(atPath: work + "/" + name, contents: Data([1])) }
        let result = try runS2S(["prepare", work + "/train.en", work + "/train.fr", "-v", work + "/v.s2sv",
                                 "-o", work + "/p.s2sd", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: work))
        XCTAssertTrue(names.isDisjoint(with: leftovers), "\(names)")
        XCTAssertTrue(names.isSuperset(of: lookalikes + ["p.s2sd"]), "\(names)")
    }
}

