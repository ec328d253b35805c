import XCTest
@testable import S2SMetrics

final class BLEUTests: XCTestCase {
    func testEveryFixtureCaseMatchesSacreBLEU() throws {
        let fixture = try SacreBLEUFixture.load()
        XCTAssertEqual(fixture.sacrebleu_version, SacreBLEUCompatibility.version)
        let cases = fixture.cases.enumerated().filter { $0.element.metric == "bleu" }
        XCTAssertGreaterThanOrEqual(cases.count, 200)
        for (index, item) in cases {
            let label = "case \(index) tok=\(item.tokenize!) lc=\(item.lowercase) smooth=\(item.smooth!) hyps=\(item.hyps)"
            let options = BLEUOptions(
                tokenizer: try XCTUnwrap(TokenizerKind(rawValue: item.tokenize!)), lowercase: item.lowercase,
                smoothing: try XCTUnwrap(BLEUSmoothing(rawValue: item.smooth!)), smoothValue: item.smooth_value,
                effectiveOrder: item.sentence, threads: 1)
            let score = try BLEU.corpusScore(hypotheses: item.hyps, references: item.refs, options: options)
            assertFourDecimals(score.score, item.score, label)
            XCTAssertEqual(score.hypothesisLength, item.sys_len, label)
            XCTAssertEqual(score.referenceLength, item.ref_len, label)
            XCTAssertEqual(score.matches, item.correct, label)
            XCTAssertEqual(score.totals, item.total, label)
            for (ours, theirs) in zip(score.precisions, item.precisions!) { assertFourDecimals(ours, theirs, label) }
            assertFourDecimals(score.brevityPenalty, item.bp!, label)
            assertFourDecimals(score.ratio, item.ratio!, label)
            if let signature = item.signature { XCTAssertEqual(score.signature.description, signature, label) }
            if let formatted = item.formatted { XCTAssertEqual(score.formatted(width: 2), formatted, label) }
            if let expected = item.sentence_scores {
                let sentences = try BLEU.sentenceScores(hypotheses: item.hyps, references: item.refs, options: options)
                XCTAssertEqual(sentences.count, expected.count, label)
                for (ours, theirs) in zip(sentences, expected) { assertFourDecimals(ours.score, theirs, label) }
            }
        }
    }

    func testParallelStatisticsEqualSerial() throws {
        let fixture = try SacreBLEUFixture.load()
        // Enough lines (> 2 × 512) that the statistics really are split over two threads.
        let hypotheses = Array(repeating: fixture.bootstrap.sys1 + fixture.bootstrap.sys2, count: 3).flatMap { $0 }
        let references = [Array(repeating: fixture.bootstrap.refs, count: 6).flatMap { $0 }]
        XCTAssertGreaterThan(hypotheses.count, 1024)
        let serial = try BLEU.segmentStatistics(hypotheses: hypotheses, references: references,
                                                options: BLEUOptions(threads: 1))
        let parallel = try BLEU.segmentStatistics(hypotheses: hypotheses, references: references,
                                                  options: BLEUOptions(threads: 2))
        XCTAssertEqual(serial, parallel)
    }

    func testComputeBLEUIsAPureFunctionOfStatistics() {
        // 2 of 3 unigrams, 1 of 2 bigrams, no trigram: exp smoothing halves each zero order.
        let statistics = BLEUStatistics(hypothesisLength: 3, referenceLength: 4,
                                        matches: [2, 1, 0, 0], totals: [3, 2, 1, 0])
        let score = BLEU.computeBLEU(statistics)
        XCTAssertEqual(score.precisions[0], 100.0 * 2 / 3, accuracy: 1e-12)
        XCTAssertEqual(score.precisions[1], 50, accuracy: 1e-12)
        XCTAssertEqual(score.precisions[2], 50, accuracy: 1e-12)   // 100 / (2 · 1)
        XCTAssertEqual(score.precisions[3], 0)                      // total 0: loop stops
        XCTAssertEqual(score.brevityPenalty, exp(1 - 4.0 / 3), accuracy: 1e-12)
        XCTAssertEqual(score.score, 0, accuracy: 1e-9)              // log(0) floors the mean
    }

    func testLineCountMismatchNamesBothCounts() {
        XCTAssertThrowsError(try BLEU.corpusScore(hypotheses: ["a", "b"], references: [["a"]])) { error in
            XCTAssertEqual(error as? MetricsError, .lineCountMismatch(hypothesis: "hypothesis", hypothesisLines: 2,
                                                                       reference: "#1", referenceLines: 1))
            XCTAssertTrue(String(describing: error).contains("2 lines"))
            XCTAssertTrue(String(describing: error).contains("1 lines"))
        }
        XCTAssertThrowsError(try BLEU.corpusScore(hypotheses: ["a"], references: [])) { error in
            XCTAssertEqual(error as? MetricsError, .noReferences)
        }
    }

    func testDescriptionHasSacreBLEUShape() throws {
        let score = try BLEU.corpusScore(hypotheses: ["the cat sat on the mat"],
                                         references: [["the cat sat on a mat"]])
        XCTAssertTrue(score.description.hasPrefix(
            "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:\(SacreBLEUCompatibility.version) = "))
        XCTAssertTrue(score.description.contains("(BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)"))
        XCTAssertEqual(score.formatted(scoreOnly: true), String(format: "%.2f", score.score))
    }
}
