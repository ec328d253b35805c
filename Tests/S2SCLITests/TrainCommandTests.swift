import Foundation
import XCTest

/// `s2s train` end to end through the built binary: pre-flight checks, a tiny real run that
/// `translate` and `eval` can use, and SIGINT writing a checkpoint that `--resume` continues.
final class TrainCommandTests: XCTestCase {
    private var work = ""

    override func setUpWithError() throws {
        work = NSTemporaryDirectory() + "s2s-train-cli-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let english = (0..<120).map { "a man number \($0 % 9) rides a red bike near the house \($0 % 5)" }
        let french = (0..<120).map { "un homme numéro \($0 % 9) fait du vélo rouge près de la maison \($0 % 5)" }
        try english.joined(separator: "\n").write(toFile: work + "/train.en", atomically: true, encoding: .utf8)
        try french.joined(separator: "\n").write(toFile: work + "/train.fr", atomically: true, encoding: .utf8)
        try english.prefix(80).joined(separator: "\n").write(toFile: work + "/short.fr", atomically: true, encoding: .utf8)
        try english.prefix(6).joined(separator: "\n").write(toFile: work + "/valid.en", atomically: true, encoding: .utf8)
        try french.prefix(6).joined(separator: "\n").write(toFile: work + "/valid.fr", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// The tensor checksums `s2s info --tensors` prints for the model at `path`: equal exactly
    /// when the parameters are bit-identical.
    private func tensorChecksums(_ path: String) throws -> String {
        try runS2S(["info", "--tensors", path]).stdout.components(separatedBy: "\ntensors\n").last ?? ""
    }

    private static let tinyModel = ["--emb", "8", "--hidden", "8", "--attention", "8", "--vocab-size", "300",
                                    "--batch-tokens", "400", "--quiet"]

    func testPreflightChecksFailFastWithOneLine() throws {
        let cases: [([String], String)] = [
            (["train", work + "/missing.en", work + "/train.fr", "-o", work + "/m.s2s"], "missing.en"),
            (["train", work + "/train.en", work + "/train.fr", "-o", work + "/no-such-dir/m.s2s"], "no-such-dir"),
            (["train", work + "/train.en", work + "/train.fr", "-o", work + "/m.s2s", "--valid-src", work + "/train.en"], "--valid-tgt"),
            (["train", work + "/train.en", work + "/train.fr", "-o", work + "/m.s2s", "--time-limit", "soon"], "--time-limit"),
            (["train", "--data", work + "/c.s2sd", "-o", work + "/m.s2s"], "-v"),
            (["train", work + "/train.en", work + "/short.fr", "-o", work + "/m.s2s"] + Self.tinyModel, "short.fr"),
            (["train", work + "/train.en", work + "/train.fr", "-o", work + "/m.s2s", "--resume"], "does not exist"),
            (["train", work + "/train.en", work + "/train.fr", "-o", work + "/m.s2s", "--bpe-dropout", "1.5"], "--bpe-dropout"),
            // About 2.4 TB of parameters and moments: more than any machine has, refused before allocating.
            (["train", work + "/train.en", work + "/train.fr", "-o", work + "/m.s2s", "--vocab-size", "300",
              "--emb", "8", "--hidden", "100000", "--attention", "100000", "--quiet"], "lower --batch-tokens"),
        ]
        for (arguments, mention) in cases {
            let result = try runS2S(arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.stderr.contains(mention), "\(arguments): \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/m.s2s"), "\(arguments) wrote a model")
        }
    }

    func testTrainTranslateEvaluate() throws {
        let model = work + "/m.s2s"
        let trained = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", model, "--max-updates", "6",
                                  "--valid-src", work + "/valid.en", "--valid-tgt", work + "/valid.fr",
                                  "--valid-frequency", "3", "--log", work + "/run.jsonl", "--bpe-dropout", "0.1"]
                                 + Self.tinyModel)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        for file in ["m.s2s", "m.s2s.state", "m.best.s2s", "run.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: work + "/" + file), file)
        }
        let translated = try runS2S(["translate", "-m", model], input: "a man rides a bike\n\nthe house\n")
        XCTAssertEqual(translated.status, 0, translated.stderr)
        XCTAssertEqual(translated.stdout.split(separator: "\n", omittingEmptySubsequences: false).count, 4, translated.stdout)
        let scored = try runS2S(["eval", "-m", model, "--src", work + "/valid.en", "-r", work + "/valid.fr", "--beam", "2"])
        XCTAssertEqual(scored.status, 0, scored.stderr)
        XCTAssertTrue(scored.stdout.hasPrefix("BLEU|nrefs:1"), scored.stdout)
        // Without --beam, `eval -m` searches as `translate` does by default.
        let byDefault = try runS2S(["eval", "-m", model, "--src", work + "/valid.en", "-r", work + "/valid.fr"])
        let greedy = try runS2S(["translate", "-m", model, work + "/valid.en"])
        try greedy.stdout.write(toFile: work + "/valid.hyp", atomically: true, encoding: .utf8)
        XCTAssertEqual(byDefault.stdout, try runS2S(["eval", "-r", work + "/valid.fr", work + "/valid.hyp"]).stdout)
        let plotted = try runS2S(["plot", work + "/run.jsonl", "-o", work + "/curves.svg"])
        XCTAssertEqual(plotted.status, 0, plotted.stderr)
    }

    /// `translate --n-best K` prints K translations per line, `--n-best` the whole beam, and
    /// K past the beam is a usage error; `--batch-size` is `--batch`.
    func testNBestCountAndBatchSizeAlias() throws {
        let model = work + "/m.s2s"
        let trained = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", model, "--max-updates", "3"] + Self.tinyModel)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let input = "a man rides a bike\nthe house\n"
        func ids(_ output: String) -> [String] {
            output.split(separator: "\n").map { String($0.split(separator: " ").first ?? "") }
        }
        let two = try runS2S(["translate", "-m", model, "--beam", "4", "--n-best", "2"], input: input)
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertEqual(ids(two.stdout), ["0", "0", "1", "1"], two.stdout)
        let whole = try runS2S(["translate", "-m", model, "--beam", "4", "--n-best"], input: input)
        XCTAssertEqual(ids(whole.stdout), ["0", "0", "0", "0", "1", "1", "1", "1"], whole.stdout)
        XCTAssertTrue(whole.stdout.hasPrefix(two.stdout.split(separator: "\n")[0] + "\n"), "the same best first")
        let tooMany = try runS2S(["translate", "-m", model, "--beam", "2", "--n-best", "3"], input: input)
        XCTAssertEqual(tooMany.status, 64)
        XCTAssertTrue(tooMany.stderr.contains("--n-best 3 is more than the beam keeps (--beam 2)"), tooMany.stderr)
        let batch = try runS2S(["translate", "-m", model, "--batch", "1"], input: input)
        let batchSize = try runS2S(["translate", "-m", model, "--batch-size", "1"], input: input)
        XCTAssertEqual(batchSize.status, 0, batchSize.stderr)
        XCTAssertEqual(batchSize.stdout, batch.stdout)
    }

    /// `translate --progress` reports on stderr (sentences of the counted total, speed) and
    /// changes nothing on stdout; without it, stderr that is not a terminal gets nothing, and
    /// `--quiet` silences even `--progress`.
    func testTranslateProgress() throws {
        let model = work + "/m.s2s"
        let trained = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", model, "--max-updates", "2"] + Self.tinyModel)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let plain = try runS2S(["translate", "-m", model, work + "/valid.en"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(plain.stderr, "")
        let shown = try runS2S(["translate", "-m", model, "--progress", work + "/valid.en"])
        XCTAssertEqual(shown.stdout, plain.stdout)
        let last = shown.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasPrefix("s2s: translated 6/6 sentences, "), shown.stderr)
        XCTAssertTrue(shown.stderr.contains(" sent/s, "), shown.stderr)
        let piped = try runS2S(["translate", "-m", model, "--progress"], input: "a man\nthe house\n")
        XCTAssertTrue((piped.stderr.split(separator: "\n").last ?? "").hasPrefix("s2s: translated 2 sentences, "),
                      "stdin: no total, \(piped.stderr)")
        let quiet = try runS2S(["translate", "-m", model, "--progress", "--quiet", work + "/valid.en"])
        XCTAssertEqual(quiet.stderr, "")
        XCTAssertEqual(quiet.stdout, plain.stdout)
        // On a terminal (util-linux's `script` gives one), file input shows the live line,
        // rewritten in place, without --progress; stdout still goes to the file.
        let binary = try s2sBinary().path
        let onTerminal = try runProgram(URL(fileURLWithPath: "/usr/bin/script"),
                                        ["-qec", "\(binary) translate -m \(model) \(work)/valid.en > \(work)/tty.out", "/dev/null"])
        XCTAssertEqual(onTerminal.status, 0, onTerminal.stderr)
        XCTAssertTrue(onTerminal.stdout.contains("\r\u{1B}[Ks2s: translated 6/6 sentences, "), onTerminal.stdout.debugDescription)
        XCTAssertEqual(try String(contentsOfFile: work + "/tty.out", encoding: .utf8), plain.stdout)
    }

    /// `paste a b | s2s train --tsv - -o m.s2s`: with no vocabulary given, stdin is copied once
    /// to a temporary file (removed afterwards), the vocabulary is learned from it and the
    /// pairs are encoded from it; the model is the one `train SRC TGT` makes from the same pairs.
    func testTSVFromStdinWithoutAVocabulary() throws {
        let english = try String(contentsOfFile: work + "/train.en", encoding: .utf8).split(separator: "\n")
        let french = try String(contentsOfFile: work + "/train.fr", encoding: .utf8).split(separator: "\n")
        let pairs = zip(english, french).map { "\($0)\t\($1)" }.joined(separator: "\n") + "\n"
        let spool = work + "/tmp"
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        let options = ["--max-updates", "2", "--seed", "3"] + Self.tinyModel.filter { $0 != "--quiet" }
        let streamed = try runProgram(try s2sBinary(), ["train", "--tsv", "-", "-o", work + "/tsv.s2s"] + options,
                                      input: pairs, environment: ["TMPDIR": spool])
        XCTAssertEqual(streamed.status, 0, streamed.stderr)
        XCTAssertTrue(streamed.stderr.contains("learning a joint 300-piece BPE vocabulary on the --tsv pairs"), streamed.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool), [], "the copy of stdin is removed")
        let fromFiles = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", work + "/files.s2s"] + options)
        XCTAssertEqual(fromFiles.status, 0, fromFiles.stderr)
        let input = "a man rides a red bike\nthe house 3\n"
        let a = try runS2S(["translate", "-m", work + "/tsv.s2s"], input: input)
        let b = try runS2S(["translate", "-m", work + "/files.s2s"], input: input)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.stdout, b.stdout, "the same pairs give the same model")
        let tsvFile = work + "/pairs.tsv"
        try pairs.write(toFile: tsvFile, atomically: true, encoding: .utf8)
        let fromTSVFile = try runS2S(["train", "--tsv", tsvFile, "-o", work + "/tsvfile.s2s"] + options)
        XCTAssertEqual(fromTSVFile.status, 0, fromTSVFile.stderr)
        XCTAssertEqual(try runS2S(["translate", "-m", work + "/tsvfile.s2s"], input: input).stdout, b.stdout)
    }

    /// A run made to diverge (`--learning-rate 100`) stops with one line naming the update,
    /// what to change, and the checkpoint the model file still holds — which loads.
    func testDivergenceStopsAndKeepsTheLastCheckpoint() throws {
        let model = work + "/diverged.s2s"
        let run = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", model, "--max-updates", "200",
                              "--learning-rate", "100", "--save-frequency", "1"] + Self.tinyModel)
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        let message = try XCTUnwrap(run.stderr.firstMatch(of: /s2s: error: training diverged at update (\d+): loss [0-9.]+ per target token, above twice a uniform guess's \(11\.41\); the model file keeps the checkpoint of update (\d+); lower --learning-rate \(now 100\.0\) or raise --warmup/),
                                    run.stderr)
        XCTAssertEqual(Int(message.2)!, Int(message.1)! - 1, "saved every update: the one before")
        let info = try runS2S(["info", "--json", model])
        XCTAssertEqual(info.status, 0, info.stderr)
        let updates = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])?["updates"] as? Int)
        XCTAssertEqual(updates, Int(message.2)!)
    }

    /// The output options as a user reads them: `--scores` and `--alignment` append to the
    /// same translations, an ensemble of a model with itself translates as the model does, and
    /// `eval --paired-bs` marks a system that is really different.
    func testScoresAlignmentEnsembleAndPairedBootstrap() throws {
        let model = work + "/m.s2s"
        let trained = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", model, "--max-updates", "4"] + Self.tinyModel)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let plain = try runS2S(["translate", "-m", model, work + "/valid.en"]).stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(plain.count, 6)

        let scored = try runS2S(["translate", "-m", model, "--scores", work + "/valid.en"])
        XCTAssertEqual(scored.status, 0, scored.stderr)
        for (line, text) in zip(scored.stdout.split(separator: "\n"), plain) {
            let parts = line.components(separatedBy: " ||| ")
            XCTAssertEqual(parts.count, 2, String(line))
            XCTAssertEqual(parts[0], text)
            XCTAssertLessThan(try XCTUnwrap(Float(parts[1]), String(line)), 0, "a log-probability")
        }
        let aligned = try runS2S(["translate", "-m", model, "--alignment", work + "/valid.en"])
        XCTAssertEqual(aligned.status, 0, aligned.stderr)
        for (line, text) in zip(aligned.stdout.split(separator: "\n"), plain) {
            let parts = line.components(separatedBy: " ||| ")
            XCTAssertEqual(parts.first, text)
            XCTAssertNotNil(parts.last?.wholeMatch(of: /(\d+-\d+)( \d+-\d+)*/), String(line))
        }
        // --attention-plot: one heatmap per line, source × target cells whose rows are the
        // attention distributions (each sums to 1) and whose largest cell is the alignment's.
        let plots = work + "/plots"
        let plotted = try runS2S(["translate", "-m", model, "--alignment", "--attention-plot", plots, work + "/valid.en"])
        XCTAssertEqual(plotted.status, 0, plotted.stderr)
        XCTAssertEqual(plotted.stdout, aligned.stdout, "plotting does not change the output")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: plots)), Set((1...6).map { "\($0).svg" }))
        for (index, line) in aligned.stdout.split(separator: "\n").enumerated() {
            let svg = try String(contentsOfFile: "\(plots)/\(index + 1).svg", encoding: .utf8)
            XCTAssertTrue(svg.hasPrefix("<svg ") && svg.hasSuffix("</svg>\n") && svg.contains(">line \(index + 1)<"))
            let links = line.components(separatedBy: " ||| ").last!.split(separator: " ").map {
                $0.split(separator: "-").map { Int($0)! }
            }
            let sourceCount = svg.matches(of: /rotate\(-90\)/).count
            let rows = svg.matches(of: /text-anchor="end"/).count
            let cells = svg.matches(of: /<title>[^<]* → [^<]*: ([0-9.]+)<\/title>/).map { Double($0.output.1)! }
            XCTAssertEqual(cells.count, sourceCount * rows, "line \(index + 1)")
            XCTAssertTrue(rows == links.count || rows == links.count + 1, "a row per target piece (and </s> if reached)")
            for (j, row) in stride(from: 0, to: cells.count, by: sourceCount).map({ Array(cells[$0..<$0 + sourceCount]) })
                .enumerated() {
                XCTAssertEqual(row.reduce(0, +), 1, accuracy: 0.005 * Double(sourceCount), "line \(index + 1) row \(j)")
                let largest = row.max()!
                if let link = links.first(where: { $0[1] == j }), row.filter({ $0 == largest }).count == 1 {
                    XCTAssertEqual(row.firstIndex(of: largest), link[0], "line \(index + 1) row \(j)")
                }
            }
        }
        let ensemble = try runS2S(["translate", "-m", model, "-m", model, work + "/valid.en"])
        XCTAssertEqual(ensemble.status, 0, ensemble.stderr)
        XCTAssertEqual(ensemble.stdout.split(separator: "\n").map(String.init), plain, "the mean of one model twice is the model")

        try plain.joined(separator: "\n").write(toFile: work + "/hyp.fr", atomically: true, encoding: .utf8)
        let compared = try runS2S(["eval", "-r", work + "/valid.fr", work + "/valid.fr", "--paired-bs", work + "/hyp.fr",
                                   "--bootstrap", "200"])
        XCTAssertEqual(compared.status, 0, compared.stderr)
        XCTAssertNotNil(compared.stdout.firstMatch(of: /Baseline: \S+valid\.fr +100\.00/), compared.stdout)
        XCTAssertNotNil(compared.stdout.firstMatch(of: /hyp\.fr +[0-9.]+ \([0-9.]+ ± [0-9.]+\) \(p = 0\.00[0-9]+\)\*/), compared.stdout)
    }

    /// The model-size options end up in the model's stored configuration, and such a model
    /// (tied, layer-normalized) translates.
    func testModelOptionsAreStoredInTheModel() throws {
        let model = work + "/m.s2s"
        let trained = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", model, "--max-updates", "2",
                                  "--tied-embeddings", "--layer-normalization", "--emb", "12", "--hidden", "10",
                                  "--attention", "9", "--vocab-size", "300", "--batch-tokens", "400", "--quiet"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let info = try runS2S(["info", model])
        XCTAssertEqual(info.status, 0, info.stderr)
        let settings = Dictionary(info.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return fields.count == 2 ? (String(fields[0]), String(fields[1])) : nil
        }, uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(settings["layerNormalization"], "true", info.stdout)
        XCTAssertEqual(settings["tiedEmbeddings"], "true", info.stdout)
        XCTAssertEqual(settings["embeddingSize"], "12", info.stdout)
        XCTAssertEqual(settings["hiddenSize"], "10", info.stdout)
        XCTAssertEqual(settings["attentionSize"], "9", info.stdout)
        let translated = try runS2S(["translate", "-m", model, "--beam", "2"], input: "a man rides a bike\nthe house\n")
        XCTAssertEqual(translated.status, 0, translated.stderr)
        XCTAssertEqual(translated.stdout.split(separator: "\n", omittingEmptySubsequences: false).count, 3, translated.stdout)

        // Layer normalization is on by default; --no-layer-normalization gives the plain cells.
        for (flags, expected) in [([String](), "true"), (["--no-layer-normalization"], "false")] {
            let plain = work + "/plain.s2s"
            let run = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", plain, "--max-updates", "1"]
                                 + flags + Self.tinyModel)
            XCTAssertEqual(run.status, 0, run.stderr)
            let described = try runS2S(["info", plain])
            XCTAssertTrue(described.stdout.split(separator: "\n").contains {
                $0.split(separator: " ", omittingEmptySubsequences: true) == ["layerNormalization", Substring(expected)]
            }, "\(flags): \(described.stdout)")
        }
    }

    /// Failures found while running are one line with no usage text after it; a misuse of the
    /// options keeps the usage.
    func testRuntimeErrorsAreOneLineWithoutUsage() throws {
        try "a\nb\n".write(toFile: work + "/two.fr", atomically: true, encoding: .utf8)
        let runtimeFailures: [([String], String)] = [
            (["train", work + "/train.en", work + "/train.fr", "-o", work + "/m.s2s", "--resume"], "does not exist"),
            (["train", work + "/train.en", work + "/train.fr", "-o", work + "/m.s2s", "--valid-src", work + "/valid.en",
              "--valid-tgt", work + "/two.fr"] + Self.tinyModel, "has 6 lines but"),
            // Not quiet: the mismatch is found before the vocabulary is learned (whose note would
            // be a line of its own), not after.
            (["train", work + "/train.en", work + "/two.fr", "-o", work + "/m.s2s", "--vocab-size", "300"],
             "two.fr ended at line 2; \(work)/train.en continues"),
        ]
        for (arguments, mention) in runtimeFailures {
            let result = try runS2S(arguments)
            XCTAssertEqual(result.status, 1, "\(arguments)")
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("s2s: error: ") && result.stderr.contains(mention), result.stderr)
        }
        let misuse = try runS2S(["train", work + "/train.en", "-o", work + "/m.s2s"])
        XCTAssertNotEqual(misuse.status, 0)
        XCTAssertTrue(misuse.stderr.contains("Usage:") || misuse.stderr.contains("USAGE:"), misuse.stderr)
    }

    /// `translate` on a truncated or bit-flipped model, a missing model or a missing input file
    /// fails with one line naming the file and what is wrong, and prints no translation.
    func testTranslateOnADamagedModelOrAMissingFileIsOneLine() throws {
        let model = work + "/m.s2s"
        let trained = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", model, "--max-updates", "2"]
                                 + Self.tinyModel)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: model))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: work + "/truncated.s2s"))
        var flipped = bytes
        flipped[flipped.count / 3] ^= 0x10
        try flipped.write(to: URL(fileURLWithPath: work + "/flipped.s2s"))
        let cases: [([String], String)] = [
            (["-m", work + "/truncated.s2s"], "truncated.s2s: "),
            (["-m", work + "/flipped.s2s"], "flipped.s2s: "),
            (["-m", work + "/none.s2s"], "none.s2s: cannot open"),
            (["-m", model, work + "/none.en"], "none.en: cannot open"),
        ]
        for (arguments, mention) in cases {
            let result = try runS2S(["translate"] + arguments, input: "a man\n")
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout, "", "\(arguments)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("s2s: error: ") && result.stderr.contains(mention), result.stderr)
        }
    }

    /// `--disp-freq 2u` writes one training report every 2 updates to the log; a value that is
    /// neither updates nor a duration is refused.
    func testDisplayFrequencyInUpdates() throws {
        let log = work + "/run.jsonl"
        let trained = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", work + "/m.s2s",
                                  "--max-updates", "6", "--disp-freq", "2u", "--log", log, "--no-valid-bleu"] + Self.tinyModel)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let reports = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("\"kind\":\"train\"") }
            .compactMap { line in line.split(separator: ",").first { $0.contains("\"updates\"") } }
            .map { $0.filter(\.isNumber) }
        XCTAssertEqual(reports, ["2", "4", "6"])
        let refused = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", work + "/m2.s2s",
                                  "--disp-freq", "often"] + Self.tinyModel)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--disp-freq"), refused.stderr)
    }

    /// `--lr-decay linear` falls from the peak to 0 over the run's budget: with `--max-updates 6`
    /// and no warmup, update u trains at 1e-3 · (1 − (u − 1) / 6), as the log records, where the
    /// default (plateau) holds 1e-3. Without a time limit or a last update it is refused.
    func testLinearDecayFallsToZeroOverTheBudget() throws {
        func rates(_ name: String, _ extra: [String]) throws -> [Double] {
            let log = work + "/\(name).jsonl"
            let trained = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", work + "/\(name).s2s",
                                      "--learning-rate", "1e-3", "--warmup", "0", "--disp-freq", "1u", "--log", log,
                                      "--no-valid-bleu"] + extra + Self.tinyModel)
            XCTAssertEqual(trained.status, 0, trained.stderr)
            return try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
                .filter { $0.contains("\"kind\":\"train\"") }
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .compactMap { $0["learningRate"] as? Double }
        }
        let linear = try rates("linear", ["--max-updates", "6", "--lr-decay", "linear"])
        XCTAssertEqual(linear.count, 6, "\(linear)")
        for (index, rate) in linear.enumerated() {
            XCTAssertEqual(rate, 1e-3 * (1 - Double(index) / 6), accuracy: 1e-9, "update \(index + 1)")
        }
        let constant = try rates("default", ["--max-updates", "6"])
        XCTAssertEqual(constant.count, 6)
        XCTAssertTrue(constant.allSatisfy { abs($0 - 1e-3) < 1e-9 }, "\(constant)")
        let refused = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", work + "/m2.s2s",
                                  "--lr-decay", "linear"] + Self.tinyModel)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--time-limit or --max-updates"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/m2.s2s"))
    }

    /// --exponential-smoothing saves the moving average (the model differs from the same run
    /// without it); --average-last writes model.average.s2s, the same model `s2s average`
    /// makes of the last checkpoints; --valid-metric bleu ranks by BLEU; frequencies by time.
    func testSmoothingAveragingAndValidationOptions() throws {
        func train(_ name: String, _ extra: [String]) throws {
            let run = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", work + "/\(name).s2s",
                                  "--max-updates", "6", "--seed", "4", "--valid-src", work + "/valid.en", "--valid-tgt",
                                  work + "/valid.fr"] + extra + Self.tinyModel)
            XCTAssertEqual(run.status, 0, "\(extra): \(run.stderr)")
        }
        try train("plain", ["--valid-frequency", "3u", "--exponential-smoothing", "0"])
        try train("smooth", ["--valid-frequency", "3u", "--exponential-smoothing", "0.05"])
        XCTAssertNotEqual(try tensorChecksums(work + "/smooth.s2s"), try tensorChecksums(work + "/plain.s2s"))
        XCTAssertTrue(try String(contentsOfFile: work + "/smooth.s2s.state", encoding: .isoLatin1).contains("raw."))
        // Smoothing is on by default. In the first 6 updates every rate below 9/16 steps as the
        // warm-up does (max(rate, 9 / (10 + t))), so the default's average is the 0.05 run's, bit for bit.
        try train("default", ["--valid-frequency", "3u"])
        XCTAssertEqual(try tensorChecksums(work + "/default.s2s"), try tensorChecksums(work + "/smooth.s2s"))

        try train("avg", ["--keep", "3", "--average-last", "3", "--save-frequency", "2u", "--valid-metric", "bleu",
                          "--valid-frequency", "1h"])
        let averaged = try runS2S(["average", work + "/avg.s2s.iter2", work + "/avg.s2s.iter4", work + "/avg.s2s.iter6",
                                   "-o", work + "/by-hand.s2s"])
        XCTAssertEqual(averaged.status, 0, averaged.stderr)
        XCTAssertEqual(try tensorChecksums(work + "/avg.average.s2s"), try tensorChecksums(work + "/by-hand.s2s"))
        let info = try runS2S(["info", work + "/avg.s2s"])
        XCTAssertTrue(info.stdout.contains("best         bleu"), info.stdout)

        let refused = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", work + "/x.s2s",
                                  "--average-last", "3"] + Self.tinyModel)
        XCTAssertTrue(refused.stderr.contains("--keep 3"), refused.stderr)
    }

    /// `s2s shortlist` stores a shortlist that `info` shows and `translate --shortlist` uses;
    /// `--shortlist` on a model without one is one line naming the fix; `--int8` translates.
    func testShortlistAndEightBitTranslation() throws {
        let model = work + "/m.s2s", listed = work + "/listed.s2s"
        let trained = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", model, "--max-updates", "4"]
                                 + Self.tinyModel)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let learned = try runS2S(["shortlist", work + "/train.en", work + "/train.fr", "-m", model, "-o", listed,
                                  "--per-source", "10", "--frequent", "5", "--quiet"])
        XCTAssertEqual(learned.status, 0, learned.stderr)
        let info = try runS2S(["info", listed])
        XCTAssertTrue(info.stdout.contains("shortlist    up to 10 target pieces per source piece"), info.stdout)
        XCTAssertFalse(try runS2S(["info", model]).stdout.contains("shortlist"))
        let input = "a man rides a bike\nthe house\n"
        for flags in [["--shortlist"], ["--int8"], ["--int8", "--shortlist", "--beam", "3"],
                      ["-m", listed, "--shortlist"], ["-m", listed, "--shortlist", "--beam", "3"]] {
            let translated = try runS2S(["translate", "-m", listed, "--quiet"] + flags, input: input)
            XCTAssertEqual(translated.status, 0, "\(flags): \(translated.stderr)")
            XCTAssertEqual(translated.stdout.split(separator: "\n", omittingEmptySubsequences: false).count, 3, "\(flags)")
        }
        let missing = try runS2S(["translate", "-m", model, "--shortlist"], input: input)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("has no shortlist: learn one with `s2s shortlist"), missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
    }

    /// `s2s prepare` encodes a bitext once: training on the prepared corpus sees the same
    /// statistics and makes the same model as training on the text with that vocabulary.
    func testPreparedCorpusTrainsLikeItsText() throws {
        let vocabulary = work + "/v.s2sv", prepared = work + "/c.s2sd"
        let text = [work + "/train.en", work + "/train.fr"]
        let learned = try runS2S(["vocab"] + text + ["-o", vocabulary, "--size", "300", "--quiet"])
        XCTAssertEqual(learned.status, 0, learned.stderr)
        let made = try runS2S(["prepare"] + text + ["-v", vocabulary, "-o", prepared, "--quiet"])
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertTrue(made.stdout.contains("120"), "prepare summarizes the pairs it kept: \(made.stdout)")

        let options = ["--emb", "8", "--hidden", "8", "--attention", "8", "--batch-tokens", "400", "--quiet"]
        let fromText = try runS2S(["train"] + text + ["-v", vocabulary, "--dry-run"] + options)
        let fromPrepared = try runS2S(["train", "--data", prepared, "-v", vocabulary, "--dry-run"] + options)
        XCTAssertEqual(fromText.status, 0, fromText.stderr)
        XCTAssertEqual(fromPrepared.status, 0, fromPrepared.stderr)
        func statistics(_ report: String) -> [Substring] {
            report.split(separator: "\n").filter { $0.hasPrefix("pairs") || $0.contains("tokens") || $0.hasPrefix("batches") }
        }
        XCTAssertFalse(statistics(fromText.stdout).isEmpty, fromText.stdout)
        XCTAssertEqual(statistics(fromPrepared.stdout), statistics(fromText.stdout))

        for (inputs, model) in [(text, "text.s2s"), (["--data", prepared], "prepared.s2s")] {
            let trained = try runS2S(["train"] + inputs + ["-v", vocabulary, "-o", work + "/" + model, "--max-updates", "4"]
                                     + options)
            XCTAssertEqual(trained.status, 0, trained.stderr)
        }
        XCTAssertEqual(try tensorChecksums(work + "/prepared.s2s"), try tensorChecksums(work + "/text.s2s"))
        XCTAssertFalse(try tensorChecksums(work + "/text.s2s").isEmpty)
    }

    /// SIGINT mid-run saves a checkpoint and exits 130; `--resume` then runs the remaining
    /// updates, and the model it ends with is bit-identical to one trained without a stop.
    func testSIGINTThenResumeMatchesAnUninterruptedRun() throws {
        let updates = "300"
        let straight = work + "/straight.s2s"
        let uninterrupted = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", straight,
                                        "--max-updates", updates] + Self.tinyModel)
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.stderr)

        let model = work + "/m.s2s"
        let process = try startS2S(["train", work + "/train.en", work + "/train.fr", "-o", model,
                                    "--max-updates", updates, "--save-frequency", "2"] + Self.tinyModel)
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: model) && Date() < deadline && process.isRunning {
            Thread.sleep(forTimeInterval: 0.005)
        }
        XCTAssertTrue(process.isRunning, "training ended before it could be interrupted")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, "interrupted training exits with 130")
        let stopped = try runS2S(["info", "--json", model]).stdout
        let stoppedAt = try XCTUnwrap(Int(try XCTUnwrap(stopped.firstMatch(of: /"updates" *: *([0-9]+)/)).output.1))
        XCTAssertLessThan(stoppedAt, Int(updates)!, "the interrupted run stopped before the last update")

        let resumed = try runS2S(["train", work + "/train.en", work + "/train.fr", "-o", model, "--resume",
                                  "--max-updates", updates] + Self.tinyModel)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(try runS2S(["info", "--json", model]).stdout.contains(/"updates" *: *300[,\n ]/))
        XCTAssertEqual(try tensorChecksums(model), try tensorChecksums(straight), "resuming after SIGINT changed the training")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work).filter { $0.contains(".tmp.") }, [])
    }
}
