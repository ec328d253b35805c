import Foundation
import S2SCore
import XCTest
@testable import S2SSubword

final class SubwordEncoderTests: XCTestCase {
    /// One vocabulary for the class, learned on a slice of Multi30k en+fr train.
    nonisolated(unsafe) private static var shared: SubwordVocabulary?

    private func vocabulary() throws -> SubwordVocabulary {
        if let shared = Self.shared { return shared }
        let lines = try TestCorpus.lines("train.en", limit: 3000) + TestCorpus.lines("train.fr", limit: 3000)
        let learned = try SubwordVocabulary.learn(lines: lines, options: .init(size: 2000))
        Self.shared = learned
        return learned
    }

    private func assertRoundTrip(_ text: String, _ vocabulary: SubwordVocabulary, _ label: String,
                                 file: StaticString = #filePath, line: UInt = #line) {
        let ids = vocabulary.encode(text)
        XCTAssertFalse(ids.contains(SpecialTokens.unk), "\(label): <unk> in \(ids)", file: file, line: line)
        let decoded = vocabulary.decode(ids)
        XCTAssertEqual(Array(decoded.utf8), Array(vocabulary.normalize(text).utf8),
                       "\(label): '\(text)' → \(ids) → '\(decoded)'", file: file, line: line)
    }

    func testEveryMulti30kLineRoundTrips() throws {
        let vocabulary = try vocabulary()
        for split in ["train", "val", "test_2016_flickr"] {
            for language in ["en", "fr", "de"] {
                let name = "\(split).\(language)"
                for (index, line) in try TestCorpus.lines(name).enumerated() {
                    assertRoundTrip(line, vocabulary, "\(name):\(index + 1)")
                }
            }
        }
    }

    func testRandomUnicodeRoundTrips() throws {
        let vocabulary = try vocabulary()
        // Emoji, combining marks, CJK, Hangul, controls (not newline), whitespace of all kinds,
        // compatibility characters, ▁ itself and U+FFFD.
        let ranges: [ClosedRange<UInt32>] = [
            0x01...0x09, 0x0B...0x1F, 0x20...0x7E, 0x7F...0xFF, 0x300...0x36F, 0x4E00...0x4E80,
            0xAC00...0xAC40, 0x1F600...0x1F64F, 0x1F3FB...0x1F3FF, 0x2000...0x200D, 0x2581...0x2581,
            0xFB00...0xFB06, 0xFF01...0xFF5E, 0x3000...0x3003, 0xFFFD...0xFFFD, 0x0600...0x06FF,
        ]
        var rng = SeededRNG(seed: 20_260_123)
        for trial in 0..<2000 {
            var text = ""
            let length = Int(rng.next() % 24)
            for _ in 0..<length {
                let range = ranges[Int(rng.next() % UInt64(ranges.count))]
                let value = range.lowerBound + UInt32(rng.next() % UInt64(range.count))
                text.unicodeScalars.append(Unicode.Scalar(value)!)
            }
            assertRoundTrip(text, vocabulary, "random string \(trial)")
        }
    }

    func testEncodingIsPiecesOfLearnedMergesAndSkipsSpecialIdsOnDecode() throws {
        let vocabulary = try vocabulary()
        let pieces = vocabulary.pieces("A man is riding a bike.")
        XCTAssertEqual(pieces.first, "▁A")
        XCTAssertEqual(pieces.joined(), "▁A▁man▁is▁riding▁a▁bike.")
        let ids = vocabulary.encode("A man")
        XCTAssertEqual(vocabulary.decode([SpecialTokens.bos] + ids + [SpecialTokens.eos, SpecialTokens.pad]), "A man")
        XCTAssertEqual(vocabulary.decode([Int32]()), "")
        XCTAssertEqual(vocabulary.encode("   "), [])
    }

    func testOwnEncoderAndSharedEncodeAgree() throws {
        let vocabulary = try vocabulary()
        let encoder = vocabulary.makeEncoder()
        for line in try TestCorpus.lines("val.fr", limit: 200) + TestCorpus.lines("val.en", limit: 200) + ["\u{FB01}ne"] {
            var ids: [Int32] = [7]
            encoder.encode(line, into: &ids)
            XCTAssertEqual(Array(ids.dropFirst()), vocabulary.encode(line))
            var fromBytes: [Int32] = []
            var copy = line
            copy.withUTF8 { encoder.encode(utf8: $0, into: &fromBytes) }
            XCTAssertEqual(fromBytes, vocabulary.encode(line))
        }
    }

    func testConcurrentEncodingMatchesSerialEncoding() throws {
        let vocabulary = try vocabulary()
        let lines = try TestCorpus.lines("val.en") + TestCorpus.lines("val.fr")
        let serial = lines.map { vocabulary.encode($0) }
        final class Results: @unchecked Sendable { var byChunk = [[[Int32]]](repeating: [], count: 8) }
        let results = Results()
        let chunk = (lines.count + 7) / 8
        DispatchQueue.concurrentPerform(iterations: 8) { part in
            let slice = lines[min(lines.count, part * chunk)..<min(lines.count, (part + 1) * chunk)]
            results.byChunk[part] = slice.map { vocabulary.encode($0) }
        }
        XCTAssertEqual(results.byChunk.flatMap { $0 }, serial)
    }

    func testDropoutIsSeededAndStillRoundTrips() throws {
        let vocabulary = try vocabulary()
        let lines = try TestCorpus.lines("val.en", limit: 300)
        var plainCount = 0, droppedCount = 0
        var rngA = SeededRNG(seed: 5), rngB = SeededRNG(seed: 5), rngZero = SeededRNG(seed: 9)
        for line in lines {
            let plain = vocabulary.encode(line)
            let dropped = vocabulary.encode(line, dropout: 0.1, rng: &rngA)
            XCTAssertEqual(dropped, vocabulary.encode(line, dropout: 0.1, rng: &rngB))
            XCTAssertEqual(vocabulary.encode(line, dropout: 0, rng: &rngZero), plain)
            XCTAssertEqual(vocabulary.decode(dropped), vocabulary.normalize(line))
            plainCount += plain.count
            droppedCount += dropped.count
        }
        // Skipped merges leave more, shorter pieces.
        XCTAssertGreaterThan(droppedCount, plainCount + plainCount / 50)
        var rngAll = SeededRNG(seed: 1)
        let characters = vocabulary.encode("riding", dropout: 1, rng: &rngAll)
        XCTAssertEqual(characters.map { vocabulary.piece(for: $0) }, ["▁", "r", "i", "d", "i", "n", "g"])
    }
}
