@testable import S2SDecoding
import XCTest

final class TranslationFormatterTests: XCTestCase {
    let line = LineTranslation(index: 7, source: "a b", sourceTokens: [4, 5], hypotheses: [
        LineHypothesis(text: "x y", tokens: [6, 7], score: -0.5, attention: [[0.9, 0.1], [0.2, 0.8]]),
        LineHypothesis(text: "x z", tokens: [6, 8], score: -1.25, attention: [[0.6, 0.4], [0.7, 0.3]]),
    ])

    func testOneBestWithOptionalFields() {
        XCTAssertEqual(TranslationFormatter().format(line), "x y\n")
        XCTAssertEqual(TranslationFormatter(scores: true).format(line), "x y ||| -0.500000\n")
        XCTAssertEqual(TranslationFormatter(scores: true, alignment: true).format(line), "x y ||| 0-0 1-1 ||| -0.500000\n")
    }

    func testNBestLinesCarryIdTranslationScore() {
        XCTAssertEqual(TranslationFormatter(nBest: true).format(line),
                       "7 ||| x y ||| -0.500000\n7 ||| x z ||| -1.250000\n")
    }

    func testScoreFormatting() {
        XCTAssertEqual(TranslationFormatter.formatScore(-0.0000004), "0.000000")
        XCTAssertEqual(TranslationFormatter.formatScore(-12.3456789), "-12.345679")
        XCTAssertEqual(TranslationFormatter.formatScore(-.infinity), "-inf")
    }
}
