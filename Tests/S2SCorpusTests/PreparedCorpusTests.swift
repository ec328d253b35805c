import Foundation
import S2SContainer
import S2SCorpus
import XCTest

final class PreparedCorpusTests: XCTestCase {
    private func textCorpus(_ folder: TemporaryFolder) throws -> ParallelCorpus {
        let sources = (0..<300).map { i in (0...(i % 17)).map { "mot\($0 + i)" }.joined(separator: " ") }
        let targets = (0..<300).map { i in (0...(i % 11)).map { "word\($0 * 3 + i)" }.joined(separator: " ") }
        return try CorpusLoader.load(.files(source: folder.write("p.fr", sources.joined(separator: "\n") + "\n\n"),
                                            target: folder.write("p.en", targets.joined(separator: "\n") + "\nx\n")),
                                     encoder: WordHashEncoder())
    }

    func testPreparedFileGivesExactlyTheSameBatchesAsText() throws {
        let folder = TemporaryFolder()
        let text = try textCorpus(folder)
        let path = folder.path + "/corpus.s2sd"
        try PreparedCorpus.write(text, inputName: "p.fr + p.en", to: path)
        let prepared = try PreparedCorpus.open(path, expectedFingerprint: WordHashEncoder().fingerprint)
        XCTAssertEqual(prepared.count, text.count)
        XCTAssertEqual(prepared.statistics, text.statistics)
        XCTAssertEqual(prepared.statistics.filteredEmpty, 1)
        XCTAssertEqual(prepared.filter, text.filter)
        let options = BatchingOptions(targetTokensPerBatch: 120, maxiBatch: 3, seed: 11)
        var fromText = try BatchIterator(corpus: text, options: options)
        var fromFile = try BatchIterator(corpus: prepared, options: options)
        for _ in 0..<(fromText.batchesInEpoch + 5) { XCTAssertEqual(fromText.next(), fromFile.next()) }
        // The arrays are used in place, 64-byte aligned in the mapped file.
        XCTAssertEqual(Int(bitPattern: prepared.sourceTokens.baseAddress) % 64, 0)
    }

    func testOtherVocabularyIsRefused() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/corpus.s2sd"
        try PreparedCorpus.write(try textCorpus(folder), inputName: "x", to: path)
        XCTAssertThrowsError(try PreparedCorpus.open(path, expectedFingerprint: "another")) { error in
            XCTAssertEqual(error as? CorpusError, .vocabularyMismatch(path: path, stored: "word-hash-8000", expected: "another"))
            XCTAssertTrue("\(error)".contains("s2s prepare"))
        }
    }

    func testForeignCorruptAndInconsistentFilesAreRefused() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/corpus.s2sd"
        try PreparedCorpus.write(try textCorpus(folder), inputName: "x", to: path)
        var bytes = Array(FileManager.default.contents(atPath: path)!)

        let text = folder.write("text.s2sd", "not a corpus at all, just some text that is long enough to have a prefix\n")
        XCTAssertThrowsError(try PreparedCorpus.open(text)) { error in
            XCTAssertEqual(error as? ContainerError, .notAContainer(path: text, expected: "S2SCORPS"))
        }
        var model = ContainerWriter(magic: "S2SMODEL", version: 1)
        model.add(name: "w", shape: [1], floats: [1])
        let modelPath = folder.path + "/model.s2s"
        try model.write(to: modelPath)
        XCTAssertThrowsError(try PreparedCorpus.open(modelPath)) { error in
            XCTAssertEqual(error as? ContainerError, .wrongKind(path: modelPath, expected: "S2SCORPS", found: "S2SMODEL"))
        }
        let truncated = folder.write("truncated.s2sd", bytes: Array(bytes[0..<(bytes.count - 100)]))
        XCTAssertThrowsError(try PreparedCorpus.open(truncated)) { error in
            guard case .truncated? = error as? ContainerError else { return XCTFail("\(error)") }
        }
        bytes[bytes.count - 70] ^= 0xFF
        let corrupt = folder.write("corrupt.s2sd", bytes: bytes)
        XCTAssertThrowsError(try PreparedCorpus.open(corrupt)) { error in
            guard case .arrayChecksum? = error as? ContainerError else { return XCTFail("\(error)") }
        }
        // Valid container, inconsistent offsets (say, written by a buggy tool).
        var writer = ContainerWriter(magic: PreparedCorpus.magic, version: PreparedCorpus.version)
        try writer.setMetadata(PreparedCorpus.Metadata(pairCount: 1, statistics: CorpusStatistics(), filter: CorpusFilter(),
                                                       vocabularyFingerprint: "f", vocabularySize: 10, input: "x"))
        writer.add(name: "source.tokens", shape: [2], int32s: [5, 3])
        writer.add(name: "source.offsets", shape: [2], int64s: [0, 7])
        writer.add(name: "target.tokens", shape: [2], int32s: [5, 3])
        writer.add(name: "target.offsets", shape: [2], int64s: [0, 2])
        let inconsistent = folder.path + "/inconsistent.s2sd"
        try writer.write(to: inconsistent)
        XCTAssertThrowsError(try PreparedCorpus.open(inconsistent)) { error in
            XCTAssertEqual(error as? CorpusError, .malformedPrepared(path: inconsistent, reason: "source offsets do not span the token array"))
        }
    }
}
