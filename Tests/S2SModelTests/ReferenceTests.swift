import Foundation
import S2SCore
import S2STensor
import XCTest
@testable import S2SModel

/// Loss and every gradient against an independent PyTorch float64 autograd implementation of
/// docs/model.md (fixture from scripts/make_model_fixture.py).
final class ReferenceTests: XCTestCase {
    struct Fixture: Decodable {
        struct Tensor: Decodable { var shape: [Int]; var values: [Double] }
        struct Tokens: Decodable { var batchSize: Int; var maxLength: Int; var ids: [Int32]; var lengths: [Int32] }
        struct Case: Decodable {
            var name: String
            var config: ModelConfig
            var source: Tokens
            var target: Tokens
            var parameters: [String: Tensor]
            var loss: Double
            var gradients: [String: Tensor]
        }
        var cases: [Case]
    }

    private func loadFixture() throws -> Fixture {
        guard let url = Bundle.module.url(forResource: "model_reference", withExtension: "json", subdirectory: "Fixtures") else {
            XCTFail("Fixtures/model_reference.json is missing (run scripts/make_model_fixture.py)")
            throw CocoaError(.fileNoSuchFile)
        }
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func testLossAndEveryGradientMatchPyTorch() throws {
        let fixture = try loadFixture()
        XCTAssertEqual(Set(fixture.cases.map(\.name)), ["untied", "tied", "layernorm"])
        for reference in fixture.cases {
            let parameters = ParameterStore(layout: Seq2SeqParameters.layout(for: reference.config))
            XCTAssertEqual(Set(parameters.entries.map(\.name)), Set(reference.parameters.keys), reference.name)
            XCTAssertEqual(Set(parameters.entries.map(\.name)), Set(reference.gradients.keys), reference.name)
            for entry in parameters.entries {
                let tensor = try XCTUnwrap(reference.parameters[entry.name], entry.name)
                XCTAssertEqual(tensor.shape, entry.shape, entry.name)
                let destination = parameters.tensor(entry.name)
                for (i, value) in tensor.values.enumerated() { destination[i] = Float(value) }
            }
            let model = try Seq2SeqModel(config: reference.config, parameters: parameters)
            let batch = Batch(
                source: TokenMatrix(batchSize: reference.source.batchSize, maxLength: reference.source.maxLength,
                                    ids: reference.source.ids, lengths: reference.source.lengths),
                target: TokenMatrix(batchSize: reference.target.batchSize, maxLength: reference.target.maxLength,
                                    ids: reference.target.ids, lengths: reference.target.lengths),
                pairIndices: Array(0..<reference.source.batchSize))
            model.zeroGradients()
            let loss = try model.forwardBackward(batch: batch, dropout: nil)
            let lossError = abs(Double(loss.meanLoss) - reference.loss) / abs(reference.loss)
            XCTAssertLessThan(lossError, 1e-4, "\(reference.name): loss \(loss.meanLoss) vs \(reference.loss)")
            for entry in parameters.entries {
                let expected = try XCTUnwrap(reference.gradients[entry.name]).values
                let actual = model.gradients.tensor(entry.name)
                // Relative to the tensor's largest gradient, so near-zero elements do not demand
                // more digits than Float has.
                let scale = max(expected.map(abs).max() ?? 0, 1e-6)
                var worst = 0.0
                for (i, value) in expected.enumerated() {
                    worst = max(worst, abs(Double(actual[i]) - value) / scale)
                }
                XCTAssertLessThan(worst, 1e-4, "\(reference.name): \(entry.name) worst relative error \(worst)")
            }
        }
    }
}
