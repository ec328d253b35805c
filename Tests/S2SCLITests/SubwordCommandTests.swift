import Foundation
import XCTest

/// `s2s vocab`, `s2s encode`, `s2s decode` end to end, through the built binary.
final class SubwordCommandTests: XCTestCase {
    private var work = ""

    override func setUpWithError() throws {
        work = NSTemporaryDirectory() + "s2s-subword-cli-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let text = (0..<200).map { "A man rides a bike number \($0 % 7). Un homme fait du vélo ① ﬁn." }
        try text.joined(separator: "\n").write(toFile: work + "/train.txt", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Runs the s2s binary built next to this test bundle.
    private func run(_ arguments: [String], input: String = "") throws -> (status: Int32, stdout: String, stderr: String) {
        try runS2S(arguments, input: input)
    }

    func testVocabEncodeDecodeRoundTrip() throws {
        let vocab = work + "/v.s2sv"
        let learned = try run(["vocab", work + "/train.txt", "-o", vocab, "--size", "300", "--quiet"])
        XCTAssertEqual(learned.status, 0, learned.stderr)
        XCTAssertEqual(learned.stderr, "")
        let input = "A man rides  a bike ①.\n猫 😀\n\n"
        let pieces = try run(["encode", "-v", vocab], input: input)
        XCTAssertEqual(pieces.status, 0, pieces.stderr)
        XCTAssertEqual(pieces.stdout.split(separator: "\n", omittingEmptySubsequences: false).count, 4)
        let decoded = try run(["decode", "-v", vocab], input: pieces.stdout)
        XCTAssertEqual(decoded.stdout, "A man rides a bike 1.\n猫 😀\n\n")
        let ids = try run(["encode", "-v", vocab, "--ids"], input: input)
        let fromIds = try run(["decode", "-v", vocab, "--ids"], input: ids.stdout)
        XCTAssertEqual(fromIds.stdout, decoded.stdout)
    }

    /// `-o /dev/null` discards the vocabulary and leaves the device a device (as root, a
    /// rename would have replaced it with a regular file); `-o /dev/stdout` writes it to the
    /// pipe; `-o link` replaces the link's target and keeps the link.
    func testOutputThatIsADeviceOrALinkIsWrittenThrough() throws {
        let discarded = try run(["vocab", work + "/train.txt", "-o", "/dev/null", "--size", "300", "--quiet"])
        XCTAssertEqual(discarded.status, 0, discarded.stderr)
        var info = stat()
        XCTAssertEqual(stat("/dev/null", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "/dev/null is still a device")
        let piped = try run(["vocab", work + "/train.txt", "-o", "/dev/stdout", "--size", "300", "--quiet"])
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(try run(["vocab", work + "/train.txt", "-o", work + "/v.s2sv", "--size", "300"]).status, 0)
        XCTAssertEqual(Data(piped.stdout.utf8), FileManager.default.contents(atPath: work + "/v.s2sv"),
                       "the vocabulary went down the pipe")
        try FileManager.default.createSymbolicLink(atPath: work + "/link.s2sv", withDestinationPath: "v.s2sv")
        XCTAssertEqual(try run(["vocab", work + "/train.txt", "-o", work + "/link.s2sv", "--size", "320"]).status, 0)
        XCTAssertEqual(lstat(work + "/link.s2sv", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFLNK, "the link is still a link")
        let encoded = try run(["encode", "-v", work + "/link.s2sv"], input: "A man\n")
        XCTAssertEqual(encoded.status, 0, encoded.stderr)
        XCTAssertNotEqual(FileManager.default.contents(atPath: work + "/v.s2sv"), Data(piped.stdout.utf8),
                          "the link's target holds the new, larger vocabulary")
    }

    func testSameInputGivesAByteIdenticalVocabulary() throws {
        XCTAssertEqual(try run(["vocab", work + "/train.txt", "-o", work + "/a.s2sv", "--size", "320"]).status, 0)
        XCTAssertEqual(try run(["vocab", work + "/train.txt", "-o", work + "/b.s2sv", "--size", "320"]).status, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: work + "/a.s2sv"), FileManager.default.contents(atPath: work + "/b.s2sv"))
        // `--vocab-size`, as `s2s train` names it, is the same option; another size differs.
        XCTAssertEqual(try run(["vocab", work + "/train.txt", "-o", work + "/c.s2sv", "--vocab-size", "320"]).status, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: work + "/a.s2sv"), FileManager.default.contents(atPath: work + "/c.s2sv"))
        XCTAssertEqual(try run(["vocab", work + "/train.txt", "-o", work + "/d.s2sv", "--vocab-size", "300"]).status, 0)
        XCTAssertNotEqual(FileManager.default.contents(atPath: work + "/a.s2sv"), FileManager.default.contents(atPath: work + "/d.s2sv"))
    }

    func testBadInputIsOneLineAndNonZeroExit() throws {
        let cases: [([String], String, String)] = [
            (["vocab", work + "/train.txt", "-o", work + "/missing/v.s2sv"], "", "cannot write"),
            (["vocab", work + "/nope.txt", "-o", work + "/v.s2sv"], "", "nope.txt: cannot open"),
            (["vocab", work + "/train.txt", "-o", work + "/v.s2sv", "--size", "50"], "", "too small"),
            (["encode", "-v", work + "/train.txt"], "x\n", "train.txt:1: not a valid s2s vocabulary"),
        ]
        for (arguments, input, fragment) in cases {
            let result = try run(arguments, input: input)
            XCTAssertEqual(result.status, 1, arguments.joined(separator: " "))
            XCTAssertTrue(result.stderr.hasPrefix("s2s: error: ") && result.stderr.contains(fragment), result.stderr)
            XCTAssertEqual(result.stderr.filter { $0 == "\n" }.count, 1, result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/v.s2sv"))
        XCTAssertEqual(try run(["vocab", work + "/train.txt", "-o", work + "/v.s2sv", "--size", "300"]).status, 0)
        let unknown = try run(["decode", "-v", work + "/v.s2sv"], input: "▁ A\n▁zzzqqq\n")
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("<stdin>:2: unknown piece"), unknown.stderr)
    }
}
