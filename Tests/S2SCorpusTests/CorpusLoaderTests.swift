import S2SCorpus
import S2SIO
import S2SCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class CorpusLoaderTests: XCTestCase {
    let encoder = WordHashEncoder()

    private func load(_ input: CorpusInput, filter: CorpusFilter = CorpusFilter(), chunkPairs: Int = 3) throws -> ParallelCorpus {
        try CorpusLoader.load(input, encoder: encoder, filter: filter, chunkPairs: chunkPairs)
    }

    private func sentences(_ corpus: ParallelCorpus) -> [([Int32], [Int32])] {
        (0..<corpus.count).map { (Array(corpus.source($0)), Array(corpus.target($0))) }
    }

    func testEncodesEachSideWithEndOfSentenceInContiguousArrays() throws {
        let folder = TemporaryFolder()
        let source = folder.write("a.fr", "le chat\nun chien noir\nbonjour\n")
        let target = folder.write("a.en", "the cat\na black dog\nhello\n")
        let corpus = try load(.files(source: source, target: target), chunkPairs: 2)
        XCTAssertEqual(corpus.count, 3)
        XCTAssertEqual(Array(corpus.source(1)), encoder.encode("un chien noir") + [SpecialTokens.eos])
        XCTAssertEqual(Array(corpus.target(2)), encoder.encode("hello") + [SpecialTokens.eos])
        XCTAssertEqual(Array(corpus.sourceOffsets), [0, 3, 7, 9])
        XCTAssertEqual(corpus.statistics.pairsRead, 3)
        XCTAssertEqual(corpus.statistics.pairsKept, 3)
        XCTAssertEqual(corpus.statistics.sourceTokens, 9)
        XCTAssertEqual(corpus.statistics.targetTokens, corpus.targetTokens.count)
        XCTAssertEqual(corpus.vocabularyFingerprint, encoder.fingerprint)
    }

    func testLineCountMismatchNamesBothFilesAndWhereTheShorterEnds() throws {
        let folder = TemporaryFolder()
        let source = folder.write("corpus.fr", "a\nb\n")
        let target = folder.write("corpus.en", "a\nb\nc\nd\n")
        XCTAssertThrowsError(try load(.files(source: source, target: target))) { error in
            XCTAssertEqual(error as? CorpusError, .lineCountMismatch(shorter: source, longer: target, lastLine: 2))
            XCTAssertTrue("\(error)".hasPrefix("\(source) ended at line 2; \(target) continues"), "\(error)")
        }
        XCTAssertThrowsError(try load(.files(source: target, target: source))) { error in
            XCTAssertEqual(error as? CorpusError, .lineCountMismatch(shorter: source, longer: target, lastLine: 2))
        }
        XCTAssertEqual(CorpusError.lineCountMismatch(shorter: "corpus.fr", longer: "corpus.en", lastLine: 28_991).description,
                       "corpus.fr ended at line 28,991; corpus.en continues (the two sides of a bitext must have the same number of lines)")
    }

    func testByteOrderMarkCarriageReturnsAndMissingFinalNewline() throws {
        let folder = TemporaryFolder()
        let source = folder.write("bom.fr", bytes: [0xEF, 0xBB, 0xBF] + Array("le chat\r\nun chien".utf8))
        let target = folder.write("bom.en", "the cat\r\na dog")
        let corpus = try load(.files(source: source, target: target))
        XCTAssertEqual(sentences(corpus).map(\.0), [encoder.encode("le chat") + [3], encoder.encode("un chien") + [3]])
        XCTAssertEqual(sentences(corpus).map(\.1), [encoder.encode("the cat") + [3], encoder.encode("a dog") + [3]])
    }

    func testGzipAndPlainGiveTheSameCorpus() throws {
        let folder = TemporaryFolder()
        let sourceText = (0..<50).map { "phrase numéro \($0)" }.joined(separator: "\n") + "\n"
        let targetText = (0..<50).map { "sentence number \($0) here" }.joined(separator: "\n") + "\n"
        let plain = try load(.files(source: folder.write("p.fr", sourceText), target: folder.write("p.en", targetText)))
        // Named without .gz on purpose: gzip is detected by content.
        let gzipped = try load(.files(source: folder.writeGzip("g.fr", sourceText), target: folder.writeGzip("g.en", targetText)))
        XCTAssertEqual(gzipped.count, 50)
        XCTAssertTrue(sentences(plain).elementsEqual(sentences(gzipped), by: ==))
    }

    func testTabSeparatedInputMatchesTwoFiles() throws {
        let folder = TemporaryFolder()
        let pair = try load(.files(source: folder.write("t.fr", "un\tdeux trois\nquatre\n"),
                                   target: folder.write("t.en", "one\nfour\n")))
        XCTAssertEqual(pair.count, 2)
        let tsv = try load(.tsv(path: folder.write("t.tsv", "un\tone\nquatre\tfour\n")))
        XCTAssertEqual(tsv.count, 2)
        XCTAssertEqual(Array(tsv.source(1)), Array(pair.source(1)))
        XCTAssertEqual(Array(tsv.target(0)), Array(pair.target(0)))
        // The split is at the first tab: the rest of the line is the target.
        let extraTab = try load(.tsv(path: folder.write("x.tsv", "a\tb\tc\n")))
        XCTAssertEqual(Array(extraTab.target(0)), encoder.encode("b\tc") + [3])
    }

    /// `paste a b | s2s train --tsv - …`: the stream comes from standard input.
    func testTabSeparatedStandardInput() throws {
        let folder = TemporaryFolder()
        let path = folder.write("stdin.tsv", "un chat\ta cat\ndeux\ttwo\n")
        let savedInput = dup(STDIN_FILENO)
        let file = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(file, 0)
        dup2(file, STDIN_FILENO)
        close(file)
        defer { dup2(savedInput, STDIN_FILENO); close(savedInput) }
        let corpus = try load(.tsv(path: "-"))
        XCTAssertEqual(corpus.count, 2)
        XCTAssertEqual(Array(corpus.source(0)), encoder.encode("un chat") + [3])
        XCTAssertEqual(Array(corpus.target(1)), encoder.encode("two") + [3])
    }

    func testTabSeparatedLineWithoutTabNamesFileAndLine() throws {
        let folder = TemporaryFolder()
        let path = folder.write("bad.tsv", "a\tb\nc\td\nno tab here\n")
        XCTAssertThrowsError(try load(.tsv(path: path))) { error in
            XCTAssertEqual(error as? CorpusError, .missingTab(path: path, line: 3))
            XCTAssertEqual("\(error)", "\(path):3: no tab: expected 'source<TAB>target'")
        }
    }

    func testEmptySidesAreFilteredAndCounted() throws {
        let folder = TemporaryFolder()
        let corpus = try load(.files(source: folder.write("e.fr", "a\n\nb\n   \nc\n"),
                                     target: folder.write("e.en", "x\ny\n\nz\nw\n")))
        XCTAssertEqual(corpus.count, 2)
        XCTAssertEqual(corpus.statistics.filteredEmpty, 3)
        XCTAssertEqual(corpus.statistics.pairsRead, 5)
        XCTAssertEqual(corpus.statistics.pairsDropped, 3)
    }

    func testMaxLengthCountsTokensWithoutEndOfSentence() throws {
        let folder = TemporaryFolder()
        let corpus = try load(.files(source: folder.write("l.fr", "a b c\na b c d\nshort\n"),
                                     target: folder.write("l.en", "x\ny\na b c d\n")),
                              filter: CorpusFilter(maxLength: 3))
        // Three tokens is allowed (stored as four with </s>); four is not, on either side.
        XCTAssertEqual(corpus.count, 1)
        XCTAssertEqual(corpus.source(0).count, 4)
        XCTAssertEqual(corpus.statistics.filteredTooLong, 2)
    }

    func testLengthRatioFilter() throws {
        let folder = TemporaryFolder()
        let source = folder.write("r.fr", "a b c d\na b c d e f g\na\n")
        let target = folder.write("r.en", "w x\ny\nz\n")
        let unfiltered = try load(.files(source: source, target: target))
        XCTAssertEqual(unfiltered.count, 3)
        XCTAssertEqual(unfiltered.statistics.filteredLengthRatio, 0)
        let corpus = try load(.files(source: source, target: target), filter: CorpusFilter(maxLengthRatio: 2))
        // 4:2 is exactly 2 (kept), 7:1 is over, 1:1 kept.
        XCTAssertEqual(corpus.count, 2)
        XCTAssertEqual(corpus.statistics.filteredLengthRatio, 1)
    }

    func testInvalidUTF8IsAnErrorNamingFileAndLineUnlessSkipped() throws {
        let folder = TemporaryFolder()
        let source = folder.write("u.fr", "a\nb\nc\n")
        let target = folder.write("u.en", bytes: Array("x\n".utf8) + [0xC3, 0x28, 0x0A] + Array("z\n".utf8))
        XCTAssertThrowsError(try load(.files(source: source, target: target))) { error in
            XCTAssertEqual(error as? IOError, .invalidUTF8(path: target, line: 2))
        }
        let skipped = try load(.files(source: source, target: target), filter: CorpusFilter(skipInvalidUTF8: true))
        XCTAssertEqual(skipped.count, 2)
        XCTAssertEqual(skipped.statistics.skippedInvalidUTF8, 1)
    }

    func testChunkSizeDoesNotChangeTheResult() throws {
        let folder = TemporaryFolder()
        let sourceText = (0..<200).map { i in (0...(i % 13)).map { "w\($0 * i)" }.joined(separator: " ") }.joined(separator: "\n")
        let targetText = (0..<200).map { i in (0...(i % 7)).map { "v\($0 + i)" }.joined(separator: " ") }.joined(separator: "\n")
        let input = CorpusInput.files(source: folder.write("c.fr", sourceText), target: folder.write("c.en", targetText))
        let small = try load(input, chunkPairs: 1)
        let large = try load(input, chunkPairs: 10_000)
        XCTAssertEqual(Array(small.sourceTokens), Array(large.sourceTokens))
        XCTAssertEqual(Array(small.targetOffsets), Array(large.targetOffsets))
        XCTAssertEqual(small.statistics, large.statistics)
    }

    func testBadInputsFailWithAMessageNamingTheFile() throws {
        let folder = TemporaryFolder()
        let good = folder.write("good.en", "a\nb\n")
        let missing = folder.path + "/missing.fr"
        XCTAssertThrowsError(try load(.files(source: missing, target: good))) { error in
            XCTAssertTrue("\(error)".hasPrefix(missing), "\(error)")
        }
        XCTAssertThrowsError(try load(.files(source: folder.path, target: good))) { error in
            XCTAssertEqual(error as? IOError, .isDirectory(path: folder.path))
        }
        // A gzip stream cut in the middle.
        let text = (0..<5000).map { "line \($0) with some words" }.joined(separator: "\n")
        let whole = folder.writeGzip("whole.gz", text)
        let bytes = Array(FileManager.default.contents(atPath: whole)!)
        let truncated = folder.write("truncated.gz", bytes: Array(bytes[0..<(bytes.count / 2)]))
        let otherSide = folder.write("other.en", text)
        XCTAssertThrowsError(try load(.files(source: truncated, target: otherSide))) { error in
            guard case .corruptGzip(let path, _)? = error as? IOError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, truncated)
        }
        // A gzip stream damaged in the middle.
        var damaged = bytes
        for i in stride(from: damaged.count / 3, to: damaged.count / 3 + 64, by: 1) { damaged[i] ^= 0x5A }
        let corrupt = folder.write("corrupt.gz", bytes: damaged)
        XCTAssertThrowsError(try load(.files(source: otherSide, target: corrupt))) { error in
            guard case .corruptGzip(let path, _)? = error as? IOError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, corrupt)
        }
        // A binary file: invalid UTF-8 on its first line.
        let binary = folder.write("binary.fr", bytes: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 ^ 0xA5) })
        XCTAssertThrowsError(try load(.files(source: binary, target: binary))) { error in
            guard case .invalidUTF8(let path, _)? = error as? IOError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, binary)
        }
    }

    func testTenMegabyteLineIsFilteredAsTooLong() throws {
        let folder = TemporaryFolder()
        let longLine = String(repeating: "mot ", count: 2_500_000)
        let corpus = try load(.files(source: folder.write("big.fr", "court\n" + longLine + "\nfin"),
                                     target: folder.write("big.en", "short\nlong\nend")))
        XCTAssertEqual(corpus.count, 2)
        XCTAssertEqual(corpus.statistics.filteredTooLong, 1)
    }

    func testMulti30kTrainLoadsAllPairs() throws {
        guard let folder = multi30kFolder() else { return }
        let corpus = try CorpusLoader.load(.files(source: folder + "/train.fr", target: folder + "/train.en"),
                                           encoder: encoder)
        XCTAssertEqual(corpus.statistics.pairsRead, 29_000)
        XCTAssertEqual(corpus.count + corpus.statistics.pairsDropped, 29_000)
        XCTAssertGreaterThan(corpus.count, 28_900)
        // Memory: 4 bytes per token plus 8 per offset, nothing per sentence object.
        XCTAssertLessThanOrEqual(Double(corpus.storageBytes),
                                 1.3 * Double(4 * (corpus.sourceTokens.count + corpus.targetTokens.count)))
    }
}
