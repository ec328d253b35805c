import Foundation
import XCTest
@testable import S2SSubword

final class VocabularyFileTests: XCTestCase {
    private func sample() throws -> SubwordVocabulary {
        try SubwordVocabulary.learn(lines: ["the cat sat on the mat", "the dog sat", "é\u{301}té ☃ 猫"],
                                    options: .init(size: 300, minFrequency: 1))
    }

    func testSerializedTextParsesBackToTheSameVocabulary() throws {
        let vocabulary = try sample()
        let text = vocabulary.serialized()
        XCTAssertTrue(text.hasPrefix("#s2s-vocab v1 normalization=nfkc size=\(vocabulary.size) "))
        let parsed = try SubwordVocabulary(serialized: text, name: "sample")
        XCTAssertEqual(parsed.serialized(), text)
        XCTAssertEqual(parsed.fingerprint, vocabulary.fingerprint)
        XCTAssertEqual(parsed.fingerprint.count, 16)
        for line in ["the cat sat", "a mat ☃", "猫 dog"] {
            XCTAssertEqual(parsed.encode(line), vocabulary.encode(line))
        }
    }

    func testFileLayoutIsReservedThenBytesThenCharactersThenMerges() throws {
        let lines = try sample().serialized().split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines[1...4]), ["<pad>\tspecial", "<unk>\tspecial", "<s>\tspecial", "</s>\tspecial"])
        XCTAssertEqual(lines[5], "<0x00>\tbyte")
        XCTAssertEqual(lines[260], "<0xFF>\tbyte")
        XCTAssertTrue(lines[261].hasPrefix("▁\tchar\t"))
        XCTAssertTrue(lines.contains("th\tmerge\t1\tt\th") || lines.contains { $0.contains("\tmerge\t1\t") })
    }

    func testWriteAndReadAFile() throws {
        let vocabulary = try sample()
        let path = NSTemporaryDirectory() + "s2s-vocab-\(getpid()).s2sv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try vocabulary.write(to: path)
        let read = try SubwordVocabulary(contentsOfFile: path)
        XCTAssertEqual(read.serialized(), vocabulary.serialized())
        XCTAssertEqual(read.size, vocabulary.size)
    }

    private func assertCorrupt(_ text: String, line: Int, containing fragment: String,
                               file: StaticString = #filePath, testLine: UInt = #line) {
        XCTAssertThrowsError(try SubwordVocabulary(serialized: text, name: "v.s2sv"), file: file, line: testLine) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.hasPrefix("v.s2sv:\(line): "), message, file: file, line: testLine)
            XCTAssertTrue(message.contains(fragment), message, file: file, line: testLine)
            XCTAssertFalse(message.contains("\n"), file: file, line: testLine)
        }
    }

    func testCorruptOrForeignFilesNameTheLine() throws {
        let good = try sample().serialized()
        var lines = good.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        assertCorrupt("", line: 1, containing: "empty")
        assertCorrupt("<unk>\t0\n<s>\t0\n", line: 1, containing: "header")  // a SentencePiece .vocab
        assertCorrupt(good.replacingOccurrences(of: "#s2s-vocab v1", with: "#s2s-vocab v9"), line: 1, containing: "version")
        assertCorrupt(lines.dropLast(2).joined(separator: "\n"), line: lines.count - 1, containing: "size")

        var badByte = lines
        badByte[10] = "<0x07>\tbyte"
        assertCorrupt(badByte.joined(separator: "\n"), line: 11, containing: "<0x05>")

        let firstMerge = lines.firstIndex { $0.contains("\tmerge\t1\t") }!
        var badMerge = lines
        badMerge[firstMerge] = "zz\tmerge\t1\tz\tz"
        assertCorrupt(badMerge.joined(separator: "\n"), line: firstMerge + 1, containing: "earlier")

        var badKind = lines
        badKind[firstMerge] = "xy\tsomething"
        assertCorrupt(badKind.joined(separator: "\n"), line: firstMerge + 1, containing: "unknown kind")

        lines[3] = "<x>\tspecial"
        assertCorrupt(lines.joined(separator: "\n"), line: 4, containing: "<s>")
        XCTAssertThrowsError(try SubwordVocabulary(contentsOfFile: "/nonexistent.s2sv")) { error in
            XCTAssertTrue(String(describing: error).hasPrefix("/nonexistent.s2sv: "))
        }
    }
}
