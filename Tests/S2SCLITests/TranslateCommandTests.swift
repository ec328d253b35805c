@testable import s2s
import S2SDecoding
import XCTest

final class TranslateCommandTests: XCTestCase {
    func testOptionsMapToTranslatorOptions() throws {
        let command = try TranslateCommand.parse(OptionalValueOptions.expand([
            "-m", "a.s2s", "--model", "b.s2s", "--beam", "5", "--batch", "16", "--normalize", "1", "--n-best", "--alignment",
            "--max-length-factor", "3", "--max-source-length", "50", "in.txt"]))
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

    /// `--n-best` alone means the whole beam, `--n-best K` K of it, whatever follows.
    func testNBestTakesAnOptionalCount() throws {
        XCTAssertEqual(OptionalValueOptions.expand(["--n-best"]), ["--n-best", "0"])
        XCTAssertEqual(OptionalValueOptions.expand(["--n-best", "in.txt"]), ["--n-best", "0", "in.txt"])
        XCTAssertEqual(OptionalValueOptions.expand(["--n-best", "3", "--beam", "5"]), ["--n-best", "3", "--beam", "5"])
        XCTAssertEqual(OptionalValueOptions.expand(["--", "--n-best"]), ["--", "--n-best"])
        let three = try TranslateCommand.parse(OptionalValueOptions.expand(["-m", "m", "--beam", "5", "--n-best", "3"]))
        XCTAssertEqual(three.translatorOptions.search.nBest, 3)
        let all = try TranslateCommand.parse(OptionalValueOptions.expand(["-m", "m", "--n-best", "--beam", "4"]))
        XCTAssertEqual(all.translatorOptions.search.nBest, 4)
        XCTAssertThrowsError(try TranslateCommand.parse(["-m", "m", "--beam", "2", "--n-best", "3"]))
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
