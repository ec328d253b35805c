import Foundation
import S2SCheckpoint
import S2SContainer
import S2SIO
import XCTest

/// Damage anywhere in a model or state file is a clean, typed, one-line error — never a crash,
/// a hang, a huge allocation, or a silently different model.
final class CheckpointCorruptionTests: XCTestCase {
    private func isTypedOneLineError(_ error: Error, path: String) -> Bool {
        let typed = error is ContainerError || error is CheckpointError || error is IOError
        let text = "\(error)"
        return typed && text.hasPrefix(path + ": ") && !text.contains("\n")
    }

    /// Every byte of a small model flipped (one bit, cycling through the 8 positions; all bits
    /// of every 4th byte), then every truncation.
    func testEveryByteFlipAndEveryTruncationOfAModelIsATypedError() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try CheckpointIO.write(try Sample.checkpoint(), to: directory + "/model.s2s")
        let file = try DamageableFile(copying: directory + "/model.s2s", name: "model.s2s")
        XCTAssertNoThrow(try CheckpointIO.read(from: file.path))
        XCTAssertGreaterThan(file.original.count, 4000)
        var accepted: [Int] = []
        for position in 0..<file.original.count {
            for pattern: UInt8 in position % 4 == 0 ? [1 << (position % 8), 0xFF] : [1 << (position % 8)] {
                file.flip(position, with: pattern)
                do {
                    _ = try CheckpointIO.read(from: file.path)
                    accepted.append(position)
                } catch {
                    XCTAssertTrue(isTypedOneLineError(error, path: file.path), "byte \(position): \(error)")
                }
            }
            file.restore(position)
        }
        XCTAssertEqual(accepted, [], "flipped bytes that went unnoticed")
        XCTAssertNoThrow(try CheckpointIO.read(from: file.path), "restored")
        for length in stride(from: file.original.count - 1, through: 0, by: -1) {
            file.truncate(to: length)
            XCTAssertThrowsError(try CheckpointIO.read(from: file.path), "length \(length)") {
                XCTAssertTrue(self.isTypedOneLineError($0, path: file.path), "length \(length): \($0)")
            }
        }
    }

    /// A dense sample of byte flips (every 3rd byte) and truncations of a state file.
    func testStateFileDamageIsATypedError() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let checkpoint = try Sample.checkpoint()
        let model = directory + "/model.s2s"
        try CheckpointIO.save(checkpoint, state: try Sample.state(for: checkpoint.parameters), to: model)
        let file = try DamageableFile(copying: CheckpointIO.statePath(for: model), name: "model.s2s.state")
        XCTAssertNoThrow(try TrainingStateFile(path: file.path).state(for: checkpoint.parameters))
        for position in stride(from: 0, to: file.original.count, by: 3) {
            file.flip(position, with: 1 << (position % 8))
            XCTAssertThrowsError(try TrainingStateFile(path: file.path).state(for: checkpoint.parameters), "byte \(position)") {
                XCTAssertTrue(self.isTypedOneLineError($0, path: file.path), "byte \(position): \($0)")
            }
            file.restore(position)
        }
        for length in stride(from: file.original.count - 1, through: 0, by: -3) {
            file.truncate(to: length)
            XCTAssertThrowsError(try TrainingStateFile(path: file.path), "length \(length)") {
                XCTAssertTrue(self.isTypedOneLineError($0, path: file.path), "length \(length): \($0)")
            }
        }
    }

    /// Length fields that claim enormous sizes are rejected before anything is allocated.
    func testHugeLengthFieldsAreRejected() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        try CheckpointIO.write(try Sample.checkpoint(), to: path)
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        for (offset, value) in [(12, [0xFF, 0xFF, 0xFF, 0xFF]), (16, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
                                (16, [0, 0, 0, 0, 0, 1, 0, 0])] as [(Int, [UInt8])] {
            var damaged = bytes
            damaged.replaceSubrange(offset..<(offset + value.count), with: value)
            try damaged.write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try ModelFile(path: path)) { XCTAssertTrue($0 is ContainerError, "\($0)") }
        }
    }
}
