import ArgumentParser
import Foundation
import S2SCorpus
import S2SIO

/// Options naming a text bitext, its vocabulary and the pair filter (shared by `prepare` and `train`).
struct CorpusTextOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Source and target files, aligned line by line (plain or gzip, '-' for stdin).",
                                 valueName: "SRC TGT"))
    var files: [String] = []

    @Option(name: .customLong("tsv"), help: ArgumentHelp("Read pairs from one tab-separated stream instead: 'source<TAB>target' per line ('-' for stdin).",
                                                         valueName: "FILE"))
    var tsvPath: String?

    @Option(name: [.customShort("v"), .customLong("vocab")], help: ArgumentHelp("Subword vocabulary (.s2sv) used to encode both sides.", valueName: "FILE"))
    var vocabularyPath: String?

    @Option(name: .customLong("max-length"), help: "Drop pairs with a side longer than this many subword tokens (not counting </s>).")
    var maxLength: Int = 100

    @Option(name: .customLong("max-length-ratio"), help: "Drop pairs whose longer side has more than this many times the tokens of the shorter.")
    var maxLengthRatio: Double?

    @Flag(name: .customLong("skip-invalid"), help: "Skip and count lines that are not valid UTF-8 instead of stopping.")
    var skipInvalid = false

    /// The text input named on the command line, if any.
    var input: CorpusInput? {
        if let tsvPath { return .tsv(path: tsvPath) }
        if files.count == 2 { return .files(source: files[0], target: files[1]) }
        return nil
    }

    /// Every file these options read, for refusing an output that would replace one.
    var inputPaths: [String] { files + [tsvPath, vocabularyPath].compactMap { $0 } }

    var filter: CorpusFilter {
        CorpusFilter(maxLength: maxLength, maxLengthRatio: maxLengthRatio, skipInvalidUTF8: skipInvalid)
    }

    func validate() throws {
        if tsvPath != nil && !files.isEmpty { throw ValidationError("give either SRC TGT or --tsv, not both") }
        if !files.isEmpty && files.count != 2 { throw ValidationError("expected two files, SRC and TGT; got \(files.count)") }
        if files.count == 2 && files[0] == "-" && files[1] == "-" {
            throw ValidationError("only one side can be read from stdin; use --tsv - for a tab-separated stream")
        }
        if maxLength < 1 { throw ValidationError("--max-length must be at least 1") }
        if let maxLengthRatio, !(maxLengthRatio >= 1) { throw ValidationError("--max-length-ratio must be at least 1") }
    }
}

/// How training batches are formed.
struct BatchingArguments: ParsableArguments {
    @Option(name: .customLong("batch-tokens"), help: "Target tokens per batch, padding included.")
    var batchTokens: Int = 2000

    @Option(name: .customLong("batch-size"), help: "Sentence pairs per batch (instead of --batch-tokens).")
    var batchSize: Int?

    @Option(name: .customLong("maxi-batch"), help: "Batches' worth of pairs sorted by length together to reduce padding.")
    var maxiBatch: Int = 100

    @Option(name: .customLong("seed"), help: "Seed of the data shuffles.")
    var seed: UInt64 = 1

    var options: BatchingOptions {
        BatchingOptions(targetTokensPerBatch: batchTokens, sentencesPerBatch: batchSize, maxiBatch: maxiBatch, seed: seed)
    }

    func validate() throws {
        if batchTokens < 1 { throw ValidationError("--batch-tokens must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if maxiBatch < 1 { throw ValidationError("--maxi-batch must be at least 1") }
    }
}

/// The training data: a text bitext (encoded now) or a prepared corpus (memory-mapped), and batching.
struct TrainingDataOptions: ParsableArguments {
    @OptionGroup var text: CorpusTextOptions

    @Option(name: .customLong("data"), help: ArgumentHelp("Prepared corpus (.s2sd from 's2s prepare'), used in place of SRC TGT.", valueName: "FILE"))
    var preparedPath: String?

    @OptionGroup var batching: BatchingArguments

    func validate() throws {
        if preparedPath != nil && text.input != nil { throw ValidationError("give either --data or a text corpus, not both") }
        if preparedPath == nil && text.input == nil { throw ValidationError("no training data: give SRC TGT, --tsv FILE or --data FILE") }
    }

    /// Loads the corpus: maps the prepared file (checking it against `-v` when given), or reads
    /// and encodes the text, reporting progress on stderr unless `quiet`.
    func loadCorpus(encoder: any SentenceEncoder, quiet: Bool) throws -> ParallelCorpus {
        if let preparedPath {
            return try PreparedCorpus.open(preparedPath, expectedFingerprint: encoder.fingerprint)
        }
        return try loadTextCorpus(text, encoder: encoder, quiet: quiet)
    }
}

/// Reads and encodes the text corpus named by `options`, with progress lines on stderr.
func loadTextCorpus(_ options: CorpusTextOptions, encoder: any SentenceEncoder, quiet: Bool) throws -> ParallelCorpus {
    guard let input = options.input else {
        throw CommandError("a text corpus needs SRC TGT (or --tsv FILE)")
    }
    let progress = LoadProgress(quiet: quiet)
    let corpus = try CorpusLoader.load(input, encoder: encoder, filter: options.filter, progress: progress.report)
    progress.finish(corpus.statistics)
    guard corpus.count > 0 else { throw CorpusError.noPairs(source: input.name, read: corpus.statistics.pairsRead) }
    return corpus
}

/// Periodic plain progress lines on stderr while a corpus loads (at most one a second).
final class LoadProgress {
    private let quiet: Bool
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var lastReport: ContinuousClock.Instant

    init(quiet: Bool) {
        self.quiet = quiet
        start = clock.now
        lastReport = start
    }

    /// Seconds since loading started.
    var elapsedSeconds: Double {
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    func report(_ statistics: CorpusStatistics) {
        guard !quiet, clock.now - lastReport >= .seconds(1) else { return }
        lastReport = clock.now
        printToStandardError("s2s: corpus: \(formatCount(statistics.pairsRead)) pairs read, \(formatCount(statistics.pairsKept)) kept, "
                             + "\(formatCount(Int(Double(statistics.pairsRead) / max(elapsedSeconds, 1e-9)))) pairs/s")
    }

    func finish(_ statistics: CorpusStatistics) {
        guard !quiet else { return }
        printToStandardError("s2s: corpus: \(formatCount(statistics.pairsRead)) pairs read, \(formatCount(statistics.pairsKept)) kept "
                             + "in \(String(format: "%.2f", elapsedSeconds)) s")
    }
}
