import ArgumentParser
import Foundation
import S2SIO
import S2SDecoding
import S2SMetrics

extension TokenizerKind: ExpressibleByArgument {}
extension BLEUSmoothing: ExpressibleByArgument {}

/// `s2s eval`: sacreBLEU-exact BLEU and chrF of a hypothesis file against one or more
/// references, with bootstrap confidence intervals and paired significance tests.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score translations: sacreBLEU-exact BLEU and chrF/chrF++, confidence intervals, paired bootstrap tests.",
        discussion: """
        Numbers, signatures and output lines match sacreBLEU \(SacreBLEUCompatibility.version) \
        (defaults: tokenizer 13a, exponential smoothing, mixed case).
        Example: s2s eval --bleu --chrf -r test.fr hyp.fr
        """
    )

    @Option(name: [.customShort("r"), .customLong("reference")],
            help: "Reference file (repeat for several references; '-' = stdin).")
    var references: [String] = []

    @Argument(help: "Hypothesis file ('-' or none = stdin).")
    var hypothesis: String = "-"

    @Flag(help: "Compute BLEU (the default when no metric is given).")
    var bleu = false

    @Flag(help: "Compute chrF (chrF++ with --chrf-word-order 2).")
    var chrf = false

    @Option(help: "BLEU tokenizer: none, 13a, intl, char.")
    var tokenize: TokenizerKind = .thirteenA

    @Flag(help: "Case-insensitive scores.")
    var lowercase = false

    @Option(name: [.customLong("smooth"), .customLong("smooth-method")],
            help: "BLEU smoothing: exp, floor, add-k, none.")
    var smooth: BLEUSmoothing = .exp

    @Option(help: "Value for floor (default 0.1) or add-k (default 1) smoothing.")
    var smoothValue: Double?

    @Option(help: "chrF character n-gram order.")
    var chrfCharOrder = 6

    @Option(help: "chrF word n-gram order (2 = chrF++).")
    var chrfWordOrder = 0

    @Option(help: "chrF beta (recall weight).")
    var chrfBeta = 2

    @Flag(help: "Keep whitespace in chrF character n-grams.")
    var chrfWhitespace = false

    @Flag(help: "chrF epsilon smoothing instead of effective order.")
    var chrfEpsSmoothing = false

    @Flag(help: "Print a score per line (BLEU uses effective order, as sacreBLEU does).")
    var sentence = false

    @Flag(help: "Print only the score.")
    var scoreOnly = false

    @Flag(help: "Print sacreBLEU's JSON form.")
    var json = false

    @Option(help: "Decimals of printed scores.")
    var width = 2

    @Flag(help: "Report a bootstrap 95% confidence interval (mean ± half-width).")
    var confidence = false

    @Option(help: "Bootstrap resamples for --confidence and --paired-bs.")
    var bootstrap = 1000

    @Option(help: "Seed of the bootstrap resampling.")
    var seed: UInt64 = Bootstrap.defaultSeed

    @Option(name: .customLong("paired-bs"), parsing: .upToNextOption,
            help: "Other systems to compare with the hypothesis (the baseline) by paired bootstrap resampling.")
    var pairedSystems: [String] = []

    @Option(help: "Threads for segment statistics.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: [.customShort("m"), .long], help: "Model to translate --src with before scoring (translate and score in one go).")
    var model: String?

    @Option(help: "Source file to translate with --model.")
    var src: String?

    @Option(help: "Beam size for --model, as translate's --beam (1 is greedy search).")
    var beam = SearchOptions().beamSize

    @Flag(help: "No progress messages.")
    var quiet = false

    func validate() throws {
        if sentence && (confidence || !pairedSystems.isEmpty) {
            throw ValidationError("statistical tests are unavailable with --sentence")
        }
        if confidence && !pairedSystems.isEmpty { throw ValidationError("use either --confidence or --paired-bs") }
        if sentence && bleu && chrf { throw ValidationError("--sentence scores one metric at a time") }
        if bootstrap < 1 { throw ValidationError("--bootstrap must be at least 1") }
        if width < 0 || width > 12 { throw ValidationError("--width must be between 0 and 12") }
        if chrfCharOrder < 1 || chrfWordOrder < 0 || chrfBeta < 0 {
            throw ValidationError("chrF orders must be positive and beta non-negative")
        }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if (model == nil) != (src == nil) { throw ValidationError("--model and --src go together") }
        if beam < 1 { throw ValidationError("--beam must be at least 1") }
    }

    func run() throws {
        runReportingErrors {
            try evaluate()
        }
    }

    private var bleuOptions: BLEUOptions {
        BLEUOptions(tokenizer: tokenize, lowercase: lowercase, smoothing: smooth, smoothValue: smoothValue,
                    effectiveOrder: sentence, threads: threads)
    }

    private var chrfOptions: CHRFOptions {
        CHRFOptions(charOrder: chrfCharOrder, wordOrder: chrfWordOrder, beta: chrfBeta, lowercase: lowercase,
                    whitespace: chrfWhitespace, epsSmoothing: chrfEpsSmoothing, threads: threads)
    }

    /// Every line of `path`, right-stripped as sacreBLEU's command line does.
    private func readLines(_ path: String) throws -> [String] {
        try LineReader(path: path).readAllLines().map(rstrippedLikePython)
    }

    /// Translates `--src` with `model` (beam `--beam`), as `s2s translate` would, line for line.
    private func translateSource(model: String) throws -> [String] {
        let loaded = try TranslationModel(paths: [model])
        let sourceLines = try LineReader(path: src ?? "-").readAllLines(invalidUTF8: .replace)
        let options = TranslatorOptions(search: SearchOptions(beamSize: beam))
        let translator = Translator(decoder: try loaded.makeDecoder(), options: options, encode: loaded.encode, decode: loaded.decode)
        return try translator.translate(sourceLines).map { rstrippedLikePython($0.hypotheses.first?.text ?? "") }
    }

    private static func displayName(_ path: String) -> String { path == "-" ? "<stdin>" : path }

    private func evaluate() throws {
        guard !references.isEmpty else { throw MetricsError.noReferences }
        let referenceSets = try references.map(readLines)
        let referenceNames = references.map(Self.displayName)
        let hypotheses = try model.map { try translateSource(model: $0) } ?? readLines(hypothesis)
        try BLEU.checkLineCounts(hypotheses: hypotheses, references: referenceSets,
                                 hypothesisName: model == nil ? Self.displayName(hypothesis) : "translation of \(src ?? "")",
                                 referenceNames: referenceNames)
        let useBLEU = bleu || !chrf
        var output: [String] = []

        if !pairedSystems.isEmpty {
            var systems = [hypotheses]
            for path in pairedSystems {
                let lines = try readLines(path)
                try BLEU.checkLineCounts(hypotheses: lines, references: referenceSets,
                                         hypothesisName: path, referenceNames: referenceNames)
                systems.append(lines)
            }
            let names = ["Baseline: \(Self.displayName(hypothesis))"] + pairedSystems
            print(try pairedReport(systems: systems, names: names, references: referenceSets, useBLEU: useBLEU))
            return
        }

        if sentence {
            if useBLEU {
                for score in try BLEU.sentenceScores(hypotheses: hypotheses, references: referenceSets, options: bleuOptions) {
                    output.append(score.formatted(width: width, scoreOnly: scoreOnly))
                }
            } else {
                for score in try CHRF.sentenceScores(hypotheses: hypotheses, references: referenceSets, options: chrfOptions) {
                    output.append(score.formatted(width: width, scoreOnly: scoreOnly))
                }
            }
            output.append("")
            var standardOutput = FileWriter(fileDescriptor: STDOUT_FILENO, name: "<stdout>")
            try standardOutput.write(output.joined(separator: "\n"))
            try standardOutput.flush()
            return
        }

        var results: [String] = []
        if useBLEU {
            let segments = try BLEU.segmentStatistics(hypotheses: hypotheses, references: referenceSets, options: bleuOptions)
            let score = confidence
                ? try Bootstrap.bleuWithConfidence(segments, options: bleuOptions, referenceCount: referenceSets.count,
                                                   samples: bootstrap, seed: seed)
                : BLEU.computeBLEU(BLEU.sum(segments), options: bleuOptions, referenceCount: referenceSets.count)
            results.append(json ? score.json(width: width) : score.formatted(width: width, scoreOnly: scoreOnly))
        }
        if chrf {
            let segments = try CHRF.segmentStatistics(hypotheses: hypotheses, references: referenceSets, options: chrfOptions)
            var score: CHRFScore
            if confidence {
                score = try Bootstrap.chrfWithConfidence(segments, options: chrfOptions, referenceCount: referenceSets.count,
                                                         samples: bootstrap, seed: seed)
            } else {
                var total = CHRFStatistics(orders: chrfCharOrder + chrfWordOrder)
                for segment in segments { total += segment }
                score = CHRF.computeCHRF(total, options: chrfOptions, referenceCount: referenceSets.count)
            }
            results.append(json ? score.json(width: width) : score.formatted(width: width, scoreOnly: scoreOnly))
        }
        if json && results.count > 1 {
            print("[\n" + results.joined(separator: ",\n") + "\n]")
        } else {
            results.forEach { print($0) }
        }
    }

    /// A table of scores, bootstrap means/intervals and p-values against the baseline.
    private func pairedReport(systems: [[String]], names: [String], references: [[String]],
                              useBLEU: Bool) throws -> String {
        var columns: [(header: String, cells: [String], signature: String)] = []
        func addColumn(name: String, width statisticsWidth: Int, statistics: [[Double]], actual: [Double],
                       signature: MetricSignature, score: ([Double]) -> Double) {
            let results = Bootstrap.pairedTest(statistics: statistics, actualScores: actual, width: statisticsWidth,
                                               samples: bootstrap, seed: seed, score: score)
            let cells = results.map { result -> String in
                var cell = "\(Self.fixed(result.score, width)) (\(Self.fixed(result.confidence.mean, width)) ± "
                    + "\(Self.fixed(result.confidence.halfWidth, width)))"
                if let p = result.pValue { cell += " (p = \(Self.fixed(p, 4)))" + (p <= 0.05 ? "*" : "") }
                return cell
            }
            columns.append(("\(name) (μ ± 95% CI)", cells,
                            signature.addingBootstrap(samples: bootstrap, seed: seed).description))
        }
        if useBLEU {
            let options = bleuOptions
            let segments = try systems.map {
                try BLEU.segmentStatistics(hypotheses: $0, references: references, options: options)
            }
            addColumn(name: "BLEU", width: 10, statistics: segments.map(Bootstrap.flatten),
                      actual: segments.map { BLEU.computeBLEU(BLEU.sum($0), options: options).score },
                      signature: options.signature(referenceCount: references.count)) {
                BLEU.computeBLEU(Bootstrap.unflatten($0), options: options).score
            }
        }
        if chrf {
            let options = chrfOptions
            let orders = options.charOrder + options.wordOrder
            let segments = try systems.map {
                try CHRF.segmentStatistics(hypotheses: $0, references: references, options: options)
            }
            let actual = segments.map { system -> Double in
                var total = CHRFStatistics(orders: orders)
                for segment in system { total += segment }
                return CHRF.fScore(total.counts, options: options)
            }
            addColumn(name: options.name, width: 3 * orders,
                      statistics: segments.map { $0.flatMap { $0.counts.map(Double.init) } }, actual: actual,
                      signature: options.signature(referenceCount: references.count)) {
                CHRF.fScore($0.map { Int($0) }, options: options)
            }
        }
        let nameWidth = max(6, names.map(\.count).max() ?? 0)
        func pad(_ text: String, _ size: Int) -> String { text + String(repeating: " ", count: max(0, size - text.count)) }
        let cellWidths = columns.map { column in max(column.header.count, column.cells.map(\.count).max() ?? 0) }
        var lines = [pad("System", nameWidth) + zip(columns, cellWidths).map { "  " + pad($0.header, $1) }.joined()]
        for (row, name) in names.enumerated() {
            lines.append(pad(name, nameWidth) + zip(columns, cellWidths).map { "  " + pad($0.cells[row], $1) }.joined())
        }
        lines.append("")
        lines.append("Paired bootstrap resampling test with \(bootstrap) resampling trials; "
                     + "p-values ≤ 0.05 (marked *) mean the difference to the baseline is unlikely to be chance.")
        for column in columns { lines.append(" - \(column.header.split(separator: " ")[0])  \(column.signature)") }
        return lines.joined(separator: "\n")
    }

    private static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}
