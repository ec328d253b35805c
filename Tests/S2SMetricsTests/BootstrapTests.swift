import XCTest
@testable import S2SMetrics

final class BootstrapTests: XCTestCase {
    func testConfidenceIntervalIsCloseToSacreBLEU() throws {
        let fixture = try SacreBLEUFixture.load().bootstrap
        let options = BLEUOptions(threads: 1)
        let segments = try BLEU.segmentStatistics(hypotheses: fixture.sys1, references: [fixture.refs], options: options)
        let bleu = try Bootstrap.bleuWithConfidence(segments, options: options, referenceCount: 1)
        assertFourDecimals(bleu.score, fixture.bleu.score, "BLEU")
        let confidence = try XCTUnwrap(bleu.confidence)
        XCTAssertEqual(confidence.mean, fixture.bleu.mean, accuracy: 0.3)
        XCTAssertEqual(confidence.halfWidth, fixture.bleu.ci, accuracy: 0.3)
        XCTAssertTrue(bleu.signature.description.hasPrefix("nrefs:1|bs:1000|seed:12345|case:mixed"))

        let chrfOptions = CHRFOptions(threads: 1)
        let chrfSegments = try CHRF.segmentStatistics(hypotheses: fixture.sys1, references: [fixture.refs],
                                                      options: chrfOptions)
        let chrf = try Bootstrap.chrfWithConfidence(chrfSegments, options: chrfOptions, referenceCount: 1)
        assertFourDecimals(chrf.score, fixture.chrf.score, "chrF")
        XCTAssertEqual(chrf.confidence!.mean, fixture.chrf.mean, accuracy: 0.3)
        XCTAssertEqual(chrf.confidence!.halfWidth, fixture.chrf.ci, accuracy: 0.3)
    }

    func testFixedSeedIsDeterministicAndSeedMatters() throws {
        let fixture = try SacreBLEUFixture.load().bootstrap
        let options = BLEUOptions(threads: 1)
        let segments = try BLEU.segmentStatistics(hypotheses: fixture.sys1, references: [fixture.refs], options: options)
        let first = try Bootstrap.bleuWithConfidence(segments, options: options, referenceCount: 1, samples: 200, seed: 7)
        let second = try Bootstrap.bleuWithConfidence(segments, options: options, referenceCount: 1, samples: 200, seed: 7)
        let other = try Bootstrap.bleuWithConfidence(segments, options: options, referenceCount: 1, samples: 200, seed: 8)
        XCTAssertEqual(first.confidence, second.confidence)
        XCTAssertNotEqual(first.confidence, other.confidence)
    }

    func testPairedTestAgreesWithSacreBLEU() throws {
        let fixture = try SacreBLEUFixture.load().bootstrap
        let options = BLEUOptions(threads: 1)
        let systems = [fixture.sys1, fixture.sys2]
        let segments = try systems.map {
            try BLEU.segmentStatistics(hypotheses: $0, references: [fixture.refs], options: options)
        }
        let actual = segments.map { BLEU.computeBLEU(BLEU.sum($0), options: options).score }
        let results = Bootstrap.pairedTest(statistics: segments.map(Bootstrap.flatten), actualScores: actual, width: 10) {
            BLEU.computeBLEU(Bootstrap.unflatten($0), options: options).score
        }
        XCTAssertEqual(results.count, 2)
        XCTAssertNil(results[0].pValue)
        for (ours, theirs) in zip(results, fixture.paired_bleu) {
            assertFourDecimals(ours.score, theirs.score, "paired score")
            XCTAssertEqual(ours.confidence.mean, theirs.mean, accuracy: 0.3)
            XCTAssertEqual(ours.confidence.halfWidth, theirs.ci, accuracy: 0.3)
        }
        // A clearly worse system: both implementations find p at its floor, 1/(1000+1).
        XCTAssertEqual(results[1].pValue!, fixture.paired_bleu[1].p_value!, accuracy: 0.01)
    }

    func testEstimateUsesSacreBLEUPercentileIndices() {
        let scores = (0..<40).map(Double.init)   // lower index 1, upper index 38
        let estimate = Bootstrap.estimate(scores.reversed())
        XCTAssertEqual(estimate.mean, 19.5)
        XCTAssertEqual(estimate.halfWidth, 0.5 * (38 - 1))
    }
}
