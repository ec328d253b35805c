import Foundation
import XCTest

/// The cases scripts/make_sacrebleu_fixture.py scored with sacreBLEU.
struct SacreBLEUFixture: Decodable {
    struct Case: Decodable {
        var metric: String
        var hyps: [String]
        var refs: [[String]]
        var sentence: Bool
        var score: Double
        var signature: String?
        var formatted: String?
        var sentence_scores: [Double]?
        // BLEU
        var tokenize: String?
        var lowercase: Bool
        var smooth: String?
        var smooth_value: Double?
        var tokenized: [String]?
        var precisions: [Double]?
        var bp: Double?
        var ratio: Double?
        var sys_len: Int?
        var ref_len: Int?
        var correct: [Int]?
        var total: [Int]?
        // chrF
        var word_order: Int?
        var whitespace: Bool?
        var eps_smoothing: Bool?
        var stats: [Int]?
    }
    struct Interval: Decodable {
        var score: Double
        var mean: Double
        var ci: Double
        var formatted: String?
    }
    struct PairedResult: Decodable {
        var score: Double
        var p_value: Double?
        var mean: Double
        var ci: Double
    }
    struct BootstrapCase: Decodable {
        var refs: [String]
        var sys1: [String]
        var sys2: [String]
        var bleu: Interval
        var chrf: Interval
        var paired_bleu: [PairedResult]
    }
    var sacrebleu_version: String
    var cases: [Case]
    var bootstrap: BootstrapCase

    static func load() throws -> SacreBLEUFixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "sacrebleu_cases", withExtension: "json",
                                                  subdirectory: "Fixtures"),
                                "Fixtures/sacrebleu_cases.json missing: run scripts/make_sacrebleu_fixture.py")
        return try JSONDecoder().decode(SacreBLEUFixture.self, from: Data(contentsOf: url))
    }
}

/// Asserts `actual` equals `expected` to 4 decimal places (absolute difference < 5e-5).
func assertFourDecimals(_ actual: Double, _ expected: Double, _ message: @autoclosure () -> String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertLessThan(abs(actual - expected), 5e-5, "\(message()): got \(actual), sacreBLEU \(expected)",
                      file: file, line: line)
}
