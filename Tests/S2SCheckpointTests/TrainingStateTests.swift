import Foundation
import S2SContainer
import S2SCore
import S2SIO
import S2STensor
import XCTest
@testable import S2SCheckpoint

final class TrainingStateTests: XCTestCase {
    private struct SimulatedCrash: Error {}

    func testStateRoundTripIsBitExact() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        let checkpoint = try Sample.checkpoint()
        let state = try Sample.state(for: checkpoint.parameters)
        let identifier = try CheckpointIO.save(checkpoint, state: state, to: path)

        let (model, resumed) = try CheckpointIO.resume(from: path, expecting: CheckpointExpectation(
            layout: Sample.layout(checkpoint.config), vocabularyFingerprint: checkpoint.vocabulary.fingerprint))
        XCTAssertEqual(model.checkpointID, identifier)
        XCTAssertEqual(resumed.modelCheckpointID, identifier)
        var expected = state.metadata
        expected.modelCheckpointID = identifier
        XCTAssertEqual(resumed.metadata, expected, "counters, schedule, RNGs, corpus position, extra")
        assertBitIdentical(resumed.firstMoment, state.firstMoment)
        assertBitIdentical(resumed.secondMoment, state.secondMoment)
        assertBitIdentical(model.parameters, checkpoint.parameters)

        // The generators continue with exactly the numbers the saved ones would have drawn.
        var saved = state.rngStates["shuffle"]!, restored = resumed.rngStates["shuffle"]!
        XCTAssertEqual((0..<100).map { _ in saved.next() }, (0..<100).map { _ in restored.next() })
        XCTAssertEqual(resumed.rngStates["dropout"], SeededRNG(seed: UInt64.max))
        struct Position: Codable, Equatable { var epoch: Int; var batchIndex: Int; var permutationSeed: UInt64 }
        XCTAssertEqual(try resumed.corpusPosition.decode(as: Position.self),
                       Position(epoch: 3, batchIndex: 17, permutationSeed: UInt64.max - 1))
        XCTAssertEqual(resumed.optimizerStep, 1500)
        XCTAssertFalse(FileManager.default.fileExists(atPath: CheckpointIO.previousStatePath(for: path)))
    }

    /// A save whose writes fail (here the file-size limit, as a full disk would) leaves the
    /// saved pair exactly as it was: the same bytes under the same names, no `.previous`.
    func testAFailedSaveLeavesTheOldPairInPlace() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s", statePath = CheckpointIO.statePath(for: path)
        let first = try Sample.checkpoint(seed: 1)
        try CheckpointIO.save(first, state: try Sample.state(for: first.parameters, seed: 10), to: path)
        let files = [path, statePath].map { FileManager.default.contents(atPath: $0) }
        let sizes = try [path, statePath].map { try XCTUnwrap(FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) }

        let second = try Sample.checkpoint(seed: 2)
        // The state goes first and is the larger file: below its size, its write fails.
        for limit in [sizes[1] / 2, sizes[1] - 1] {
            var old = rlimit()
            getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
            var small = old
            small.rlim_cur = rlim_t(limit)
            signal(SIGXFSZ, SIG_IGN)
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &small)
            let saved = Result { try CheckpointIO.save(second, state: try Sample.state(for: second.parameters, seed: 20), to: path) }
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
            XCTAssertThrowsError(try saved.get(), "limit \(limit)")
            XCTAssertEqual([path, statePath].map { FileManager.default.contents(atPath: $0) }, files, "limit \(limit)")
            XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: directory)), ["model.s2s", "model.s2s.state"])
        }
        XCTAssertGreaterThan(sizes[1], sizes[0], "the state (parameters and two moments) is the larger file")
    }

    /// A crash after the new state but before the new model: the old pair still resumes exactly,
    /// and the next save completes normally.
    func testCrashBetweenStateAndModelResumesThePreviousPair() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        let first = try Sample.checkpoint(seed: 1)
        let firstState = try Sample.state(for: first.parameters, seed: 10)
        let firstID = try CheckpointIO.save(first, state: firstState, to: path)

        let second = try Sample.checkpoint(seed: 2)
        XCTAssertThrowsError(try CheckpointIO.save(second, state: try Sample.state(for: second.parameters, seed: 20), to: path) {
            // A half-written model temporary, as a SIGKILL during the model write leaves it.
            try Data(repeating: 0x53, count: 1000).write(to: URL(fileURLWithPath: path + ".tmp.Ab12Cd"))
            throw SimulatedCrash()
        })
        XCTAssertNotEqual(try TrainingStateFile(path: CheckpointIO.statePath(for: path)).metadata.modelCheckpointID, firstID)
        let (model, state) = try CheckpointIO.resume(from: path)
        XCTAssertEqual(model.checkpointID, firstID)
        assertBitIdentical(model.parameters, first.parameters)
        assertBitIdentical(state.firstMoment, firstState.firstMoment)
        XCTAssertEqual(state.rngStates, firstState.rngStates)

        XCTAssertEqual(try CheckpointFiles.removeStaleTemporaries(of: path), [path + ".tmp.Ab12Cd"])
        let third = try Sample.checkpoint(seed: 3)
        let thirdState = try Sample.state(for: third.parameters, seed: 30)
        let thirdID = try CheckpointIO.save(third, state: thirdState, to: path)
        let (model3, state3) = try CheckpointIO.resume(from: path)
        XCTAssertEqual(model3.checkpointID, thirdID)
        assertBitIdentical(model3.parameters, third.parameters)
        assertBitIdentical(state3.secondMoment, thirdState.secondMoment)
        XCTAssertFalse(FileManager.default.fileExists(atPath: CheckpointIO.previousStatePath(for: path)))
    }

    /// A crash right after the old state was set aside (no `.state` at all) still resumes.
    func testCrashBeforeStateWriteResumesFromPrevious() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        let checkpoint = try Sample.checkpoint()
        let id = try CheckpointIO.save(checkpoint, state: try Sample.state(for: checkpoint.parameters), to: path)
        XCTAssertEqual(rename(CheckpointIO.statePath(for: path), CheckpointIO.previousStatePath(for: path)), 0)
        XCTAssertEqual(try CheckpointIO.resume(from: path).state.modelCheckpointID, id)
    }

    func testStateFromAnotherRunIsRejected() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let a = directory + "/a.s2s", b = directory + "/b.s2s"
        let checkpoint = try Sample.checkpoint()
        try CheckpointIO.save(checkpoint, state: try Sample.state(for: checkpoint.parameters), to: a)
        try CheckpointIO.save(checkpoint, state: try Sample.state(for: checkpoint.parameters), to: b)
        unlink(CheckpointIO.statePath(for: a))
        XCTAssertEqual(link(CheckpointIO.statePath(for: b), CheckpointIO.statePath(for: a)), 0)
        XCTAssertThrowsError(try CheckpointIO.resume(from: a)) { error in
            XCTAssertEqual(error as? CheckpointError, .stateMismatch(path: a + ".state", modelPath: a))
        }
        unlink(CheckpointIO.statePath(for: a))
        XCTAssertThrowsError(try CheckpointIO.resume(from: a)) { XCTAssertTrue($0 is IOError, "\($0)") }
    }

    /// Moments that do not cover the model's tensors are named in the error.
    func testMomentLayoutMustMatchTheModel() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        let checkpoint = try Sample.checkpoint()
        var state = try Sample.state(for: checkpoint.parameters)
        let smaller = Sample.layout(checkpoint.config).filter { $0.name != "decoder.gru2.U" }
        state.firstMoment = ParameterStore(layout: smaller)
        state.secondMoment = ParameterStore(layout: smaller)
        try CheckpointIO.save(checkpoint, state: state, to: path)
        XCTAssertThrowsError(try CheckpointIO.resume(from: path)) { error in
            XCTAssertEqual(error as? ContainerError, .missingArray(path: path + ".state", array: "adam.m.decoder.gru2.U"))
        }
    }
}
