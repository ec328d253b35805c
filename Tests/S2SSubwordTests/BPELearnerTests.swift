import XCTest
@testable import S2SSubword

final class BPELearnerTests: XCTestCase {
    private func merges(_ vocabulary: SubwordVocabulary) -> [String] {
        Array(vocabulary.pieceStrings[Int(vocabulary.firstMergeId)...])
    }

    func testAbracadabraLearnsTheWholeExpectedMergeList() throws {
        let options = SubwordVocabulary.LearnOptions(size: 1000, minFrequency: 1)
        let vocabulary = try SubwordVocabulary.learn(lines: ["abracadabra"], options: options)
        // Alphabet by count (a 5, b 2, r 2), ties by scalar value (c, d, then ▁).
        XCTAssertEqual(Array(vocabulary.pieceStrings[260..<266]), ["a", "b", "r", "c", "d", "▁"])
        // Ties between equally frequent pairs go to the smaller left piece, then right piece.
        XCTAssertEqual(merges(vocabulary), ["ab", "abr", "abra", "ad", "abrac", "abracad", "abracadabra", "▁abracadabra"])
        XCTAssertEqual(vocabulary.size, 274)
        XCTAssertEqual(vocabulary.pieces("abracadabra"), ["▁abracadabra"])
    }

    func testFrequencyBeatsLexicalOrderAndTiesAreLexical() throws {
        let options = SubwordVocabulary.LearnOptions(size: 1000, minFrequency: 1)
        let vocabulary = try SubwordVocabulary.learn(lines: ["ab ab ab cd cd"], options: options)
        XCTAssertEqual(merges(vocabulary), ["ab", "▁ab", "cd", "▁cd"])
    }

    func testMinimumFrequencyAndSizeStopLearning() throws {
        let lines = ["ab ab ab cd cd xy"]
        let frequent = try SubwordVocabulary.learn(lines: lines, options: .init(size: 1000, minFrequency: 3))
        XCTAssertEqual(merges(frequent), ["ab", "▁ab"])
        let small = try SubwordVocabulary.learn(lines: lines, options: .init(size: 260 + 7 + 1, minFrequency: 1))
        XCTAssertEqual(merges(small), ["ab"])
        XCTAssertEqual(small.size, 268)
    }

    func testTheSmallestSizeKeepsOnlyTheWordBoundary() throws {
        let lines = Array(repeating: "aaaa bbbb", count: 5)
        let smallest = try SubwordVocabulary.learn(lines: lines, options: .init(size: 261, minFrequency: 1))
        XCTAssertEqual(smallest.size, 261)
        XCTAssertEqual(smallest.piece(for: 260), "▁")
        XCTAssertEqual(smallest.decode(smallest.encode("ab ba")), "ab ba")
        let one = try SubwordVocabulary.learn(lines: lines, options: .init(size: 262, minFrequency: 1))
        XCTAssertEqual(Array(one.pieceStrings[260...]), ["a", "▁"])
    }

    func testLettersDigitsAndPunctuationNeverShareAPiece() throws {
        let lines = Array(repeating: "chat. chat. 42chat 42chat", count: 5)
        let vocabulary = try SubwordVocabulary.learn(lines: lines, options: .init(size: 1000, minFrequency: 1))
        for piece in merges(vocabulary) {
            let classes = Set(piece.unicodeScalars.filter { $0 != "▁" }.map { CharacterClass($0) })
            XCTAssertEqual(classes.count, 1, "piece '\(piece)' mixes character classes")
        }
        XCTAssertEqual(vocabulary.pieces("chat."), ["▁chat", "."])
        XCTAssertEqual(vocabulary.pieces("42chat"), ["▁42", "chat"])
    }

    func testCharacterCoverageSendsRareCharactersToBytes() throws {
        let lines = Array(repeating: "aaaa bbbb", count: 50) + ["ж"]
        let vocabulary = try SubwordVocabulary.learn(lines: lines, options: .init(size: 1000, minFrequency: 1, characterCoverage: 0.99))
        XCTAssertNil(vocabulary.id(for: "ж"))
        let ids = vocabulary.encode("ж")
        // ▁ then the two UTF-8 bytes of ж (D0 B6) as byte pieces.
        XCTAssertEqual(ids.dropFirst().map { vocabulary.piece(for: $0) }, ["<0xD0>", "<0xB6>"])
        XCTAssertEqual(vocabulary.decode(ids), "ж")
    }

    func testLearningIsDeterministic() throws {
        let lines = try TestCorpus.lines("train.en", limit: 2000) + TestCorpus.lines("train.fr", limit: 2000)
        let options = SubwordVocabulary.LearnOptions(size: 1500)
        let first = try SubwordVocabulary.learn(lines: lines, options: options)
        let second = try SubwordVocabulary.learn(lines: lines, options: options)
        XCTAssertEqual(first.serialized(), second.serialized())
        XCTAssertEqual(first.fingerprint, second.fingerprint)
        XCTAssertEqual(first.size, 1500)
    }

    func testLearningFromFilesMatchesLearningFromLines() throws {
        let path = try TestCorpus.path("val.de")
        let options = SubwordVocabulary.LearnOptions(size: 600)
        let fromFile = try SubwordVocabulary.learn(files: [path], options: options)
        let fromLines = try SubwordVocabulary.learn(lines: TestCorpus.lines("val.de"), options: options)
        XCTAssertEqual(fromFile.serialized(), fromLines.serialized())
    }

    func testBadInputIsAOneLineError() throws {
        XCTAssertThrowsError(try SubwordVocabulary.learn(lines: ["  ", ""], options: .init())) { error in
            XCTAssertEqual(error as? SubwordError, .emptyCorpus(paths: ["<memory>"]))
        }
        XCTAssertThrowsError(try SubwordVocabulary.learn(lines: ["a"], options: .init(size: 100))) { error in
            XCTAssertEqual(error as? SubwordError, .sizeTooSmall(requested: 100, minimum: 261))
            XCTAssertFalse(String(describing: error).contains("\n"))
        }
        XCTAssertThrowsError(try SubwordVocabulary.learn(lines: ["a"], options: .init(characterCoverage: 1.5)))
        XCTAssertThrowsError(try SubwordVocabulary.learn(files: ["/nonexistent/file.txt"], options: .init())) { error in
            XCTAssertTrue(String(describing: error).hasPrefix("/nonexistent/file.txt"))
        }
    }

    func testInvalidUTF8FailsWithFileAndLineOrIsReplacedWhenLossy() throws {
        let path = NSTemporaryDirectory() + "s2s-subword-invalid-\(getpid()).txt"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("good line\nbad \u{FF}".utf8) + Data([0x62, 0xFF, 0x0A])))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try SubwordVocabulary.learn(files: [path], options: .init())) { error in
            XCTAssertEqual(String(describing: error), "\(path):2: invalid UTF-8")
        }
        let lossy = try SubwordVocabulary.learn(files: [path], options: .init(size: 300, lossy: true))
        XCTAssertNotNil(lossy.id(for: "\u{FFFD}"))
    }
}
