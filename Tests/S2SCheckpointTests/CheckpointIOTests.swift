import Foundation
import S2SCheckpoint
import S2SContainer
import S2SIO
import S2SModel
import XCTest

final class CheckpointIOTests: XCTestCase {
    func testModelRoundTripIsBitExact() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        let original = try Sample.checkpoint()
        try CheckpointIO.write(original, to: path)

        let read = try CheckpointIO.read(from: path, expecting: CheckpointExpectation(
            layout: Sample.layout(original.config), config: original.config,
            vocabularyFingerprint: original.vocabulary.fingerprint, corpusFingerprint: "corpus-fp"))
        XCTAssertEqual(read.metadata, original.metadata, "every header field survives")
        XCTAssertEqual(read.progress.validations[2].perplexity, .infinity)
        XCTAssertEqual(read.vocabulary.text, Sample.vocabularyText)
        assertBitIdentical(read.parameters, original.parameters)

        // Without a layout, the file's own order is used; with one, the caller's order.
        let file = try ModelFile(path: path)
        XCTAssertEqual(file.tensors.map(\.name), original.parameters.entries.map(\.name))
        XCTAssertEqual(file.parameterCount, original.parameters.parameterCount)
        let reversed = Array(Sample.layout(original.config).reversed())
        let reordered = try file.parameters(layout: reversed)
        XCTAssertEqual(reordered.entries.map(\.name), reversed.map(\.name))
        for entry in reordered.entries {
            XCTAssertEqual(Array(reordered.tensor(entry.name)).map(\.bitPattern),
                           Array(original.parameters.tensor(entry.name)).map(\.bitPattern))
        }
        // Group counts add up and follow the first dotted component.
        let groups = file.parameterCountsByGroup
        XCTAssertEqual(groups.map(\.group), ["source", "target", "encoder", "decoder", "attention", "output"])
        XCTAssertEqual(groups.reduce(0) { $0 + $1.count }, original.parameters.parameterCount)
        XCTAssertEqual(groups.first { $0.group == "attention" }?.count, 5 * 6 + 5 * 3 + 5)
    }

    func testWritingTwiceGivesIdenticalBytes() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let checkpoint = try Sample.checkpoint()
        try CheckpointIO.write(checkpoint, to: directory + "/a.s2s")
        try CheckpointIO.write(try CheckpointIO.read(from: directory + "/a.s2s"), to: directory + "/b.s2s")
        XCTAssertEqual(FileManager.default.contents(atPath: directory + "/a.s2s"),
                       FileManager.default.contents(atPath: directory + "/b.s2s"))
    }

    func testExpectationsAreEnforcedWithOneLineErrors() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        let checkpoint = try Sample.checkpoint()
        try CheckpointIO.write(checkpoint, to: path)
        let layout = Sample.layout(checkpoint.config)

        func expectError(_ expectation: CheckpointExpectation, _ expected: Error, _ message: String) {
            XCTAssertThrowsError(try CheckpointIO.read(from: path, expecting: expectation)) { error in
                XCTAssertEqual("\(error)", "\(expected)")
                XCTAssertTrue("\(error)".hasPrefix(path + ": "), "names the file: \(error)")
                XCTAssertTrue("\(error)".contains(message), "\(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
        var wider = layout
        wider[0].shape = [13, 8]
        expectError(CheckpointExpectation(layout: wider),
                    CheckpointError.tensorMismatch(path: path, tensor: "source.embedding", reason: "shape [13, 4] in file, model expects [13, 8]"),
                    "source.embedding")
        expectError(CheckpointExpectation(layout: layout + [("decoder.extra", [2])]),
                    ContainerError.missingArray(path: path, array: "decoder.extra"), "missing tensor")
        expectError(CheckpointExpectation(layout: Array(layout.dropLast())),
                    CheckpointError.unexpectedTensor(path: path, tensor: "output.b"), "unexpected tensor")
        var otherConfig = checkpoint.config
        otherConfig.hiddenSize = 7
        otherConfig.tiedEmbeddings = true
        expectError(CheckpointExpectation(config: otherConfig),
                    CheckpointError.configMismatch(path: path, fields: ["hiddenSize", "tiedEmbeddings"]), "hiddenSize")
        expectError(CheckpointExpectation(vocabularyFingerprint: "other"),
                    CheckpointError.vocabularyMismatch(path: path, expected: "other", found: checkpoint.vocabulary.fingerprint),
                    "vocabulary mismatch")
        expectError(CheckpointExpectation(corpusFingerprint: "other"),
                    CheckpointError.corpusMismatch(path: path, expected: "other", found: "corpus-fp"), "corpus mismatch")
    }

    func testForeignAndNewerFilesAreRejected() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        try Data("source sentence\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ModelFile(path: path)) {
            XCTAssertEqual($0 as? ContainerError, .notAContainer(path: path, expected: "S2SMODEL"))
        }
        let checkpoint = try Sample.checkpoint()
        try CheckpointIO.save(checkpoint, state: try Sample.state(for: checkpoint.parameters), to: path)
        XCTAssertThrowsError(try ModelFile(path: CheckpointIO.statePath(for: path))) {
            XCTAssertEqual($0 as? ContainerError, .wrongKind(path: path + ".state", expected: "S2SMODEL", found: "S2SSTATE"))
        }
        let next = CheckpointFormat.version + 1
        var newer = ContainerWriter(magic: "S2SMODEL", version: next)
        try newer.setMetadata(checkpoint.metadata)
        try newer.write(to: path)
        XCTAssertThrowsError(try ModelFile(path: path)) {
            XCTAssertEqual($0 as? ContainerError, .newerVersion(path: path, version: next, supported: CheckpointFormat.version))
        }
        // A version 1 file (before shortlists) still reads.
        var older = ContainerWriter(magic: "S2SMODEL", version: 1)
        try older.setMetadata(checkpoint.metadata)
        for entry in checkpoint.parameters.entries {
            older.add(name: entry.name, shape: entry.shape, floats: UnsafeBufferPointer(checkpoint.parameters.tensor(entry.name)))
        }
        try older.write(to: path)
        XCTAssertEqual(try ModelFile(path: path).formatVersion, 1)
        XCTAssertNil(try ModelFile(path: path).shortlist)
        XCTAssertThrowsError(try ModelFile(path: directory + "/absent.s2s")) { XCTAssertTrue($0 is IOError) }
        XCTAssertThrowsError(try ModelFile(path: directory)) { XCTAssertEqual($0 as? IOError, .isDirectory(path: directory)) }
    }

    /// A header that is valid JSON and correctly checksummed but not a model's metadata.
    func testWrongMetadataSchemaIsAnError() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        var writer = ContainerWriter(magic: "S2SMODEL", version: 1)
        try writer.setMetadata(["config": "none"])
        try writer.write(to: path)
        XCTAssertThrowsError(try ModelFile(path: path)) { error in
            guard case .malformedHeader(path, _)? = error as? ContainerError else { return XCTFail("\(error)") }
        }
        // A vocabulary whose text was edited but whose fingerprint was not.
        var checkpoint = try Sample.checkpoint()
        checkpoint.metadata.vocabulary.text += "extra\n"
        try CheckpointIO.write(checkpoint, to: path)
        XCTAssertThrowsError(try ModelFile(path: path)) {
            XCTAssertEqual($0 as? CheckpointError, .vocabularyCorrupt(path: path))
        }
    }

    func testAverageIsTheElementwiseMean() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let models = try (1...3).map { try Sample.checkpoint(seed: UInt64($0)) }
        var paths: [String] = []
        for (i, var model) in models.enumerated() {
            model.metadata.progress.updates = 1000 * (i + 1)
            // Finite values only: the mean of ±inf specials is not the point here.
            for j in 0..<model.parameters.values.count where !model.parameters.values[j].isFinite { model.parameters.values[j] = Float(j) }
            try CheckpointIO.write(model, to: directory + "/m\(i).s2s")
            paths.append(directory + "/m\(i).s2s")
        }
        let reread = try paths.map { try CheckpointIO.read(from: $0) }
        let average = try CheckpointIO.average(paths, s2sVersion: "test")
        XCTAssertEqual(average.progress.updates, 3000, "progress is taken from the last model")
        XCTAssertEqual(average.averagedFrom, paths)
        for i in 0..<average.parameters.values.count {
            let expected = Float((Double(reread[0].parameters.values[i]) + Double(reread[1].parameters.values[i])
                + Double(reread[2].parameters.values[i])) / 3)
            XCTAssertEqual(average.parameters.values[i], expected, "element \(i)")
        }
        // Averaging one model gives it back.
        assertBitIdentical(try CheckpointIO.average([paths[0]], s2sVersion: "test").parameters, reread[0].parameters)
    }

    func testAverageRejectsDifferentModels() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try CheckpointIO.write(try Sample.checkpoint(), to: directory + "/a.s2s")
        var otherVocabulary = try Sample.checkpoint()
        otherVocabulary.metadata.vocabulary = EmbeddedVocabulary(text: "other")
        try CheckpointIO.write(otherVocabulary, to: directory + "/v.s2s")
        try CheckpointIO.write(try Sample.checkpoint(config: Sample.config(source: 20)), to: directory + "/c.s2s")
        var otherLayout = try Sample.checkpoint()
        let layout = Sample.layout(otherLayout.config).filter { $0.name != "attention.v" }
        otherLayout.parameters = Sample.randomStore(layout, seed: 3)
        try CheckpointIO.write(otherLayout, to: directory + "/l.s2s")
        for (name, reason) in [("v", "vocabulary differs"), ("c", "sourceVocabularySize"), ("l", "attention.v")] {
            XCTAssertThrowsError(try CheckpointIO.average([directory + "/\(name).s2s", directory + "/a.s2s"], s2sVersion: "t")) { error in
                guard case let .incompatibleModels(path, message)? = error as? CheckpointError else { return XCTFail("\(error)") }
                XCTAssertEqual(path, directory + "/\(name).s2s")
                XCTAssertTrue(message.contains(reason), message)
            }
        }
        XCTAssertThrowsError(try CheckpointIO.average([], s2sVersion: "t")) { XCTAssertEqual($0 as? CheckpointError, .noModels) }
    }
}
