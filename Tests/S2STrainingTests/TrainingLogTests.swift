import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import S2STraining

final class TrainingLogTests: XCTestCase {
    func testRoundTripAndPlot() throws {
        let records = [
            TrainingLogRecord(kind: .train, elapsedSeconds: 30, epoch: 1, updates: 100, loss: 6.5, targetTokensPerSecond: 2000, learningRate: 1e-4),
            TrainingLogRecord(kind: .train, elapsedSeconds: 60, epoch: 1, updates: 200, loss: 5.0, targetTokensPerSecond: 2100, learningRate: 2e-4),
            TrainingLogRecord(kind: .valid, elapsedSeconds: 65, epoch: 1, updates: 200, crossEntropy: 4.1, perplexity: 60.3, bleu: 12.5),
        ]
        let path = NSTemporaryDirectory() + "s2s-log-\(UUID().uuidString).jsonl"
        defer { unlink(path) }
        try (records.map { $0.jsonLine() }.joined(separator: "\n") + "\n\n").write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try readTrainingLog(path: path), records)

        let svg = LearningCurvePlot.svg(records: records)
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains("validation BLEU"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2, "one curve per panel")
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 1, "one marker per validation")
        // Well-formed XML.
        XCTAssertNoThrow(try XMLDocument(xmlString: svg))
    }

    func testMalformedLineIsNamed() throws {
        let path = NSTemporaryDirectory() + "s2s-log-\(UUID().uuidString).jsonl"
        defer { unlink(path) }
        try "{\"kind\":\"train\",\"elapsedSeconds\":1,\"epoch\":1,\"updates\":1}\nnot json\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try readTrainingLog(path: path)) { error in
            XCTAssertEqual(error as? TrainingLogError, .malformedLine(path: path, line: 2))
        }
    }

    func testNiceRange() {
        let range = LearningCurvePlot.niceRange(min: 0.3, max: 9.7)
        XCTAssertEqual(range.lower, 0)
        XCTAssertEqual(range.upper, 10)
        XCTAssertEqual(range.ticks, [0, 2, 4, 6, 8, 10])
    }
}
