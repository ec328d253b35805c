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

    /// A device, a FIFO or a symbolic link is never replaced by a regular file: the device and
    /// the FIFO are written in place, the link's target is replaced and the link stays.
    func testAtomicWriteKeepsDevicesFIFOsAndLinks() throws {
        try AtomicFile.write(text: "discarded", to: "/dev/null")
        var info = stat()
        XCTAssertEqual(stat("/dev/null", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "/dev/null is still a device")

        let fifo = directory + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let copy = directory + "/from-pipe"
        let reader = Thread {
            let fd = open(fifo, O_RDONLY)
            var bytes: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                bytes += buffer[0..<n]
            }
            close(fd)
            FileManager.default.createFile(atPath: copy, contents: Data(bytes))
        }
        reader.start()
        try AtomicFile.write(text: "through the pipe", to: fifo)
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: directory + "/from-pipe") { usleep(10_000) }
        XCTAssertEqual(try String(contentsOfFile: directory + "/from-pipe", encoding: .utf8), "through the pipe")
        XCTAssertEqual(lstat(fifo, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFIFO, "the FIFO is still a FIFO")

        try FileManager.default.createDirectory(atPath: directory + "/real", withIntermediateDirectories: true)
        try AtomicFile.write(text: "old", to: directory + "/real/target.txt")
        try FileManager.default.createSymbolicLink(atPath: directory + "/link.txt", withDestinationPath: "real/target.txt")
        try AtomicFile.write(text: "new", to: directory + "/link.txt")
        XCTAssertEqual(lstat(directory + "/link.txt", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFLNK, "the link is still a link")
        XCTAssertEqual(try String(contentsOfFile: directory + "/real/target.txt", encoding: .utf8), "new")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory + "/real"), ["target.txt"],
                       "no temporary left beside the target")
    }
}
