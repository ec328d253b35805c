import XCTest
@testable import S2SMetrics

final class TokenizersTests: XCTestCase {
    func testFixtureTokenizationsMatchSacreBLEU() throws {
        let fixture = try SacreBLEUFixture.load()
        var checked = 0
        for item in fixture.cases where item.metric == "bleu" {
            guard let expected = item.tokenized else { continue }
            let tokenizer = try XCTUnwrap(TokenizerKind(rawValue: item.tokenize!)).makeTokenizer()
            for (hypothesis, tokens) in zip(item.hyps, expected) {
                var input = hypothesis
                if item.lowercase {   // Python's lower(), final sigma included
                    var lowered: [UInt8] = []
                    input.withUTF8 { PythonText.lowercase($0, into: &lowered) }
                    input = String(decoding: lowered, as: UTF8.self)
                }
                // sacreBLEU's char tokenizer leaves runs of spaces that BLEU's split() ignores.
                let expected = tokens.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
                XCTAssertEqual(tokenizer.tokenize(input), expected, "tok=\(item.tokenize!) \(hypothesis)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 50)
    }

    func test13aSeparatesPunctuationButKeepsNumbers() {
        let tokenizer = Tokenizer13a()
        XCTAssertEqual(tokenizer.tokenize("Il a payé 1,000.50$ (environ)."), "Il a payé 1,000.50 $ ( environ ) .")
        XCTAssertEqual(tokenizer.tokenize("Tom &amp; Jerry"), "Tom & Jerry")
        XCTAssertEqual(tokenizer.tokenize("3-4"), "3 - 4")
    }

    func testIntlUsesUnicodeCategories() {
        XCTAssertEqual(TokenizerIntl().tokenize("«Bonjour»—dit-il 5€"), "« Bonjour » — dit - il 5 €")
    }

    func testLowercaseFollowsPythonFinalSigmaAndFullMappings() {
        var lowered: [UInt8] = []
        var input = "ΣΟΦΟΣ Σ ΑΣ. İ"
        input.withUTF8 { PythonText.lowercase($0, into: &lowered) }
        XCTAssertEqual(String(decoding: lowered, as: UTF8.self), "σοφος σ ας. i\u{307}")
    }

    func testCharAndNone() {
        XCTAssertEqual(TokenizerChar().tokenize("été ok"), "é t é o k")
        XCTAssertEqual(NoneTokenizer().tokenize(" a\u{00A0}b\tc "), "a b c")
    }
}
