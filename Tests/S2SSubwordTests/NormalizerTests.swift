import Foundation
import XCTest
@testable import S2SSubword

final class NormalizerTests: XCTestCase {
    func testWhitespaceRunsCollapseAndEndsAreTrimmed() {
        XCTAssertEqual(Normalizer.normalize("  a \t b\r\u{0B}\u{0C}c  ", .none), "a b c")
        XCTAssertEqual(Normalizer.normalize("", .nfkc), "")
        XCTAssertEqual(Normalizer.normalize(" \t ", .nfkc), "")
    }

    func testWordBoundarySymbolInInputIsWhitespace() {
        XCTAssertEqual(Normalizer.normalize("a\u{2581}b\u{2581}", .none), "a b")
    }

    func testNFKCMapsCompatibilityCharacters() {
        // ﬁ ligature, full-width A, circled one, ideographic space, decomposed é.
        XCTAssertEqual(Normalizer.normalize("\u{FB01}x \u{FF21}\u{2460}\u{3000}e\u{301}", .nfkc), "fix A1 \u{E9}")
        XCTAssertEqual(Normalizer.normalize("\u{FB01}", .none), "\u{FB01}")
    }

    func testFastPathAgreesWithFoundationNFKC() {
        // Every scalar the fast path trusts, alone and next to a combining mark.
        var trusted: [Unicode.Scalar] = []
        for value in UInt32(1)..<0x2100 where Normalizer.isNFKCInvariant(value) {
            if let scalar = Unicode.Scalar(value) { trusted.append(scalar) }
        }
        XCTAssertGreaterThan(trusted.count, 300)
        for scalar in trusted {
            let text = String(scalar)
            XCTAssertEqual(Array(text.precomposedStringWithCompatibilityMapping.unicodeScalars), [scalar],
                           "U+\(String(scalar.value, radix: 16)) is not NFKC-invariant")
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var text = ""
            for _ in 0..<12 { text.unicodeScalars.append(trusted.randomElement(using: &rng)!) }
            XCTAssertEqual(Array(Normalizer.nfkc(text).utf8), Array(text.precomposedStringWithCompatibilityMapping.utf8))
        }
    }

    func testWordsNeverContainSeparators() {
        var text = "  héllo\u{2581}wörld\tfoo  "
        var words: [String] = []
        text.withUTF8 { bytes in
            Normalizer.forEachWord(in: bytes) { words.append(String(decoding: $0, as: UTF8.self)) }
        }
        XCTAssertEqual(words, ["héllo", "wörld", "foo"])
    }
}
