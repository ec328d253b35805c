import Foundation
import XCTest
@testable import S2SSubword

/// Compression against SentencePiece BPE trained on the same text with the same size
/// (fixture from scripts/make_sentencepiece_fixture.py: "small" is 10k+10k lines at size 4000,
/// "full" all 29k+29k lines at size 8000).
final class SentencePieceParityTests: XCTestCase {
    func testSmallConfigurationWithinThreePercentOfSentencePiece() throws {
        try assertParity(configuration: "small")
    }

    func testFullConfigurationWithinThreePercentOfSentencePiece() throws {
        try assertParity(configuration: "full")
    }

    /// Learns with the fixture's size on its training lines (the first half from train.en,
    /// the second from train.fr) and compares pieces per sentence on val en and fr.
    private func assertParity(configuration: String) throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "sentencepiece_val", withExtension: "json",
                                                  subdirectory: "Fixtures"))
        let fixture = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let small = try XCTUnwrap(fixture[configuration] as? [String: Any])
        let size = try XCTUnwrap(small["vocab_size"] as? Int)
        let trainLines = try XCTUnwrap(small["train_lines"] as? Int) / 2
        let lines = try TestCorpus.lines("train.en", limit: trainLines) + TestCorpus.lines("train.fr", limit: trainLines)
        let vocabulary = try SubwordVocabulary.learn(lines: lines, options: .init(size: size))
        XCTAssertEqual(vocabulary.size, size)
        for language in ["en", "fr"] {
            let reference = try XCTUnwrap((small["val_\(language)"] as? [String: Any])?["pieces_per_sentence"] as? Double)
            let val = try TestCorpus.lines("val.\(language)")
            let ours = Double(val.reduce(0) { $0 + vocabulary.encode($1).count }) / Double(val.count)
            let ratio = ours / reference
            XCTAssertEqual(ratio, 1, accuracy: 0.03,
                           "val.\(language): s2s \(ours) vs SentencePiece \(reference) pieces per sentence")
        }
    }
}
