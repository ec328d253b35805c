@testable import s2s
import S2SDecoding
import XCTest

final class TranslateCommandTests: XCTestCase {
    func testOptionsMapToTranslatorOptions() throws {
        let command = try TranslateCommand.parse(["-m", "a.s2s", "--model", "b.s2s", "--beam", "5", "--batch", "16",
                                                  "--normalize", "1", "--n-best", "--alignment",
                                                  "--max-length-factor", "3", "--max-source-length", "50", "in.txt"])
        XCTAssertEqual(command.models, ["a.s2s", "b.s2s"])
        XCTAssertEqual(command.files, ["in.txt"])
        let options = command.translatorOptions
        XCTAssertEqual(options.batchSize, 16)
        XCTAssertEqual(options.maxSourceLength, 50)
        XCTAssertEqual(options.search.beamSize, 5)
        XCTAssertEqual(options.search.nBest, 5, "--n-best prints the whole beam")
        XCTAssertEqual(options.search.lengthPenalty, LengthPenalty(alpha: 1))
        XCTAssertEqual(options.search.maxLengthFactor, 3)
        XCTAssertTrue(options.search.collectAttention, "--alignment needs attention")
    }

    func testDefaultsAreGreedyOneBest() throws {
        let options = try TranslateCommand.parse(["-m", "m.s2s"]).translatorOptions
        XCTAssertEqual(options.search.beamSize, 1)
        XCTAssertEqual(options.search.nBest, 1)
        XCTAssertFalse(options.search.collectAttention)
    }

    func testInvalidOptionsAreRejected() {
        XCTAssertThrowsError(try TranslateCommand.parse([]), "a model is required")
        XCTAssertThrowsError(try TranslateCommand.parse(["-m", "m.s2s", "--beam", "0"]))
        XCTAssertThrowsError(try TranslateCommand.parse(["-m", "m.s2s", "--batch", "0"]))
        XCTAssertThrowsError(try TranslateCommand.parse(["-m", "m.s2s", "--normalize", "-1"]))
    }

    func testMissingModelIsNamed() {
        XCTAssertThrowsError(try TranslationModel(paths: ["no-such-model.s2s"])) { error in
            XCTAssertTrue(String(describing: error).hasPrefix("no-such-model.s2s: cannot open"), "\(error)")
        }
    }
}
