import Foundation
import XCTest
@testable import S2SIO

final class LineReaderTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "s2s-io-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testBOMCRLFAndMissingFinalNewline() throws {
        let path = try file("a.txt", [0xEF, 0xBB, 0xBF] + Array("one\r\ntwo\n\nthree".utf8))
        let lines = try LineReader(path: path).readAllLines()
        XCTAssertEqual(lines, ["one", "two", "", "three"])
    }

    func testVeryLongLine() throws {
        let long = String(repeating: "x", count: 10 << 20)
        let path = try file("long.txt", Array((long + "\nshort\n").utf8))
        let lines = try LineReader(path: path).readAllLines()
        XCTAssertEqual(lines.map(\.count), [10 << 20, 5])
    }

    func testInvalidUTF8NamesLine() throws {
        let path = try file("bad.txt", Array("ok\n".utf8) + [0x66, 0xFF, 0x0A])
        XCTAssertThrowsError(try LineReader(path: path).readAllLines()) { error in
            XCTAssertEqual(error as? IOError, .invalidUTF8(path: path, line: 2))
        }
        XCTAssertEqual(try LineReader(path: path).readAllLines(invalidUTF8: .replace), ["ok", "f\u{FFFD}"])
    }

    func testGzipAndTruncatedGzip() throws {
        let plain = try file("c.txt", Array("alpha\nbeta\n".utf8))
        let gz = plain + ".gz"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -c '\(plain)' > '\(gz)'"]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(try LineReader(path: gz).readAllLines(), ["alpha", "beta"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: gz))
        let truncated = try file("t.gz", Array(bytes.prefix(bytes.count - 6)))
        XCTAssertThrowsError(try LineReader(path: truncated).readAllLines()) { error in
            guard case .corruptGzip = error as? IOError else { return XCTFail("\(error)") }
        }
    }

    func testMissingFileAndDirectory() {
        XCTAssertThrowsError(try LineReader(path: directory + "/nope")) { error in
            guard case .cannotOpen = error as? IOError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try LineReader(path: directory)) { error in
            XCTAssertEqual(error as? IOError, .isDirectory(path: directory))
        }
    }

    func testAtomicWriteLeavesNoPartialFile() throws {
        let path = directory + "/out.txt"
        try AtomicFile.write(text: "first", to: path)
        struct Boom: Error {}
        XCTAssertThrowsError(try AtomicFile.write(to: path) { writer in
            try writer.write("partial")
            throw Boom()
        })
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "first")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["out.txt"])
        XCTAssertThrowsError(try AtomicFile.checkWritable(directory + "/missing-dir/x"))
    }
}
