import XCTest
@testable import S2SMetrics

final class CHRFTests: XCTestCase {
    func testEveryFixtureCaseMatchesSacreBLEU() throws {
        let fixture = try SacreBLEUFixture.load()
        let cases = fixture.cases.enumerated().filter { $0.element.metric == "chrf" }
        XCTAssertGreaterThanOrEqual(cases.count, 50)
        XCTAssertTrue(cases.contains { $0.element.word_order == 2 }, "chrF++ cases present")
        for (index, item) in cases {
            let label = "case \(index) nw=\(item.word_order!) lc=\(item.lowercase) hyps=\(item.hyps)"
            let options = CHRFOptions(wordOrder: item.word_order!, lowercase: item.lowercase,
                                      whitespace: item.whitespace!, epsSmoothing: item.eps_smoothing!, threads: 1)
            let statistics = try CHRF.segmentStatistics(hypotheses: item.hyps, references: item.refs, options: options)
            var total = CHRFStatistics(orders: 6 + item.word_order!)
            for segment in statistics { total += segment }
            XCTAssertEqual(total.counts, item.stats, label)
            let score = try CHRF.corpusScore(hypotheses: item.hyps, references: item.refs, options: options)
            assertFourDecimals(score.score, item.score, label)
            if let signature = item.signature { XCTAssertEqual(score.signature.description, signature, label) }
            if let formatted = item.formatted { XCTAssertEqual(score.formatted(width: 2), formatted, label) }
            if let expected = item.sentence_scores {
                let sentences = try CHRF.sentenceScores(hypotheses: item.hyps, references: item.refs, options: options)
                for (ours, theirs) in zip(sentences, expected) { assertFourDecimals(ours.score, theirs, label) }
            }
        }
    }

    func testNameFollowsWordOrder() {
        XCTAssertEqual(CHRFOptions().name, "chrF2")
        XCTAssertEqual(CHRFOptions(wordOrder: 2).name, "chrF2++")
    }

    func testIdenticalTextScoresHundredAndWhitespaceIsIgnored() throws {
        let score = try CHRF.corpusScore(hypotheses: ["Un chien court."], references: [["Un  chien\tcourt."]])
        XCTAssertEqual(score.score, 100, accuracy: 1e-9)
    }
}
