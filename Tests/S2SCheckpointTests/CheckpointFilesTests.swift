import Foundation
import S2SCheckpoint
import S2SIO
import XCTest

final class CheckpointFilesTests: XCTestCase {
    func testNames() {
        XCTAssertEqual(CheckpointFiles.numberedPath(for: "runs/model.s2s", updates: 1000), "runs/model.s2s.iter1000")
        XCTAssertEqual(CheckpointFiles.bestPath(for: "runs/model.s2s"), "runs/model.best.s2s")
        XCTAssertEqual(CheckpointFiles.bestPath(for: "model"), "model.best")
    }

    func testRotationKeepsTheNewestSnapshots() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        let checkpoint = try Sample.checkpoint()
        for updates in [500, 1000, 1500, 2000, 10000] {
            let numbered = CheckpointFiles.numberedPath(for: path, updates: updates)
            try CheckpointIO.save(checkpoint, state: try Sample.state(for: checkpoint.parameters), to: numbered)
        }
        try Data().write(to: URL(fileURLWithPath: path + ".iter12x"))  // not a snapshot
        try CheckpointIO.write(checkpoint, to: path)
        let removed = try CheckpointFiles.rotate(path, keep: 2)
        XCTAssertEqual(removed, [500, 1000, 1500].map { CheckpointFiles.numberedPath(for: path, updates: $0) })
        XCTAssertEqual(try CheckpointFiles.numberedSnapshots(of: path).map(\.updates), [2000, 10000])
        let left = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        XCTAssertEqual(left, ["model.s2s", "model.s2s.iter10000", "model.s2s.iter10000.state", "model.s2s.iter12x",
                              "model.s2s.iter2000", "model.s2s.iter2000.state"])
        XCTAssertEqual(try CheckpointFiles.rotate(path, keep: 0), [])
    }

    func testBestCopyIsIdentical() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        try CheckpointIO.write(try Sample.checkpoint(), to: path)
        let best = CheckpointFiles.bestPath(for: path)
        try CheckpointFiles.copy(from: path, to: best)
        XCTAssertEqual(FileManager.default.contents(atPath: best), FileManager.default.contents(atPath: path))
        XCTAssertNoThrow(try ModelFile(path: best))
    }

    /// A write that fails halfway leaves the previous complete model and no temporary.
    func testFailedWriteKeepsThePreviousModel() throws {
        struct Interrupted: Error {}
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        let previous = try Sample.checkpoint(seed: 1)
        try CheckpointIO.write(previous, to: path)
        let complete = try XCTUnwrap(FileManager.default.contents(atPath: path))
        XCTAssertThrowsError(try AtomicFile.write(to: path) { writer in
            try writer.write(Array(complete.prefix(complete.count / 2)))
            try writer.flush()
            throw Interrupted()
        })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["model.s2s"])
        assertBitIdentical(try CheckpointIO.read(from: path).parameters, previous.parameters)
    }

    /// On Linux the file being written has no name until it is complete, so a process killed
    /// mid-write (which no cleanup can follow) leaves nothing in the folder.
    func testWriteInProgressHasNoNameInTheFolder() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        try CheckpointIO.write(try Sample.checkpoint(seed: 1), to: path)
        let next = try Sample.checkpoint(seed: 2)
        var namesDuringWrite: [String] = []
        try AtomicFile.write(to: path) { writer in
            try writer.write([UInt8](repeating: 7, count: 1 << 21))
            try writer.flush()
            namesDuringWrite = try FileManager.default.contentsOfDirectory(atPath: directory)
        }
        #if os(Linux)
        XCTAssertEqual(namesDuringWrite, ["model.s2s"])
        #endif
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["model.s2s"])
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data(repeating: 7, count: 1 << 21))
        try CheckpointIO.write(next, to: path)
        assertBitIdentical(try CheckpointIO.read(from: path).parameters, next.parameters)
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        XCTAssertEqual(mode, 0o644)
    }

    /// Stray temporaries from a killed write are removed; the complete file and unrelated
    /// files are left alone.
    func testStaleTemporariesAreRemoved() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        try CheckpointIO.write(try Sample.checkpoint(), to: path)
        let stale = ["model.s2s.tmp.a1B2c3", "model.s2s.state.tmp.zzzzzz", "model.s2s.iter500.tmp.QWErty"]
        let unrelated = ["other.s2s.tmp.a1B2c3", "model.s2s.tmp.notes", "model.s2s.backup.tmp.abcdef"]
        for name in stale + unrelated { try Data([1, 2, 3]).write(to: URL(fileURLWithPath: directory + "/" + name)) }
        let removed = try CheckpointFiles.removeStaleTemporaries(of: path)
        XCTAssertEqual(Set(removed), Set(stale.map { directory + "/" + $0 }))
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: directory)), Set(unrelated + ["model.s2s"]))
        XCTAssertNoThrow(try ModelFile(path: path))
    }
}
