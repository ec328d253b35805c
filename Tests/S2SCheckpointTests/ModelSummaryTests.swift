import Foundation
import S2SCheckpoint
import XCTest

final class ModelSummaryTests: XCTestCase {
    func testJSONHasTheDocumentedKeysAndValues() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        let checkpoint = try Sample.checkpoint()
        try CheckpointIO.write(checkpoint, to: path)
        let summary = ModelSummary(try ModelFile(path: path))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try summary.json().utf8)) as? [String: Any])
        XCTAssertEqual(object["parameters"] as? Int, checkpoint.parameters.parameterCount)
        XCTAssertEqual(object["epoch"] as? Int, 3)
        XCTAssertEqual(object["updates"] as? Int, 1500)
        XCTAssertEqual((object["config"] as? [String: Any])?["hiddenSize"] as? Int, 3)
        XCTAssertEqual((object["validations"] as? [Any])?.count, 3)
        XCTAssertEqual(object["fileSize"] as? Int, try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let groups = try XCTUnwrap(object["groups"] as? [[String: Any]])
        XCTAssertEqual(groups.compactMap { $0["group"] as? String }, ["source", "target", "encoder", "decoder", "attention", "output"])
        XCTAssertEqual(groups.compactMap { $0["parameters"] as? Int }.reduce(0, +), checkpoint.parameters.parameterCount)
        // The JSON decodes back to the same summary (non-finite perplexity included).
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        XCTAssertEqual(try decoder.decode(ModelSummary.self, from: Data(try summary.json().utf8)), summary)
    }

    func testTextNamesEveryGroupAndValidation() throws {
        let directory = Sample.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.s2s"
        try CheckpointIO.write(try Sample.checkpoint(), to: path)
        let text = ModelSummary(try ModelFile(path: path)).text
        for expected in ["vocabulary   source 13, target 11", "hiddenSize", "  attention", "  decoder",
                         "training     epoch 3, 1,500 updates, 1,234,567 target tokens, 5m21s",
                         "best         bleu 12.3400 at 1,000 updates", "   12.34", "inf"] {
            XCTAssertTrue(text.contains(expected), "missing '\(expected)' in:\n\(text)")
        }
    }
}
