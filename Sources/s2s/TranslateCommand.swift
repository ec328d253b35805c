import ArgumentParser
import Foundation
import S2SDecoding
import S2SIO
import S2SModel
import S2STensor
#if canImport(Glibc)
import Glibc
#endif

/// `s2s translate`: source lines in (files or stdin), one translation per line out, in order.
struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate text line by line with greedy or beam search.",
        discussion: """
        Reads source lines from FILE… (or stdin; `-` is stdin) and writes one translation per \
        input line to stdout, in input order. Works as a streaming filter: a line typed \
        interactively is translated as soon as no more input is waiting. Blank lines give blank \
        lines; lines longer than --max-source-length pieces are cut into chunks translated \
        separately and joined with a space. Scores are log-probabilities divided by GNMT's \
        length penalty ((5 + |Y|) / 6)^α, |Y| counting </s>.
        """
    )

    @Option(name: [.short, .customLong("model")],
            help: "Model file; give it several times to decode with an ensemble (mean log-probabilities).")
    var models: [String] = []

    @Option(name: .customLong("beam"), help: "Beam size; 1 is greedy search.")
    var beamSize = SearchOptions().beamSize

    @Option(name: [.customLong("batch-size"), .customLong("batch")],
            help: "Sentences decoded together (sorted by length, output in input order).")
    var batchSize = TranslatorOptions().batchSize

    @Option(name: .customLong("maxi-batch"), help: "Batches read ahead and sorted by length together (greedy search decodes them as one stream, handed out when done).")
    var maxiBatch = TranslatorOptions().sortWindowBatches

    @Option(name: .customLong("max-length-factor"),
            help: "Longest translation: this × source pieces + 5 target pieces (then </s> is forced).")
    var maxLengthFactor = SearchOptions().maxLengthFactor

    @Option(name: .customLong("max-source-length"),
            help: "Longer lines are cut into chunks of at most this many source pieces.")
    var maxSourceLength = TranslatorOptions().maxSourceLength

    @Option(name: .customLong("normalize"),
            help: "Length normalization α: rank by log P / ((5 + |Y|) / 6)^α; 0 turns it off.")
    var lengthNormalization = LengthPenalty.standard.alpha

    @Option(name: .customLong("n-best"),
            help: ArgumentHelp("Print the K best translations of each line, `id ||| translation ||| score`, best first; `--n-best` alone prints the whole beam.",
                               valueName: "K"))
    var nBestCount: Int?

    /// Whether the n-best format was asked for.
    var nBest: Bool { nBestCount != nil }

    /// Translations per line: K, the whole beam for a bare `--n-best` (parsed as 0), else 1.
    var nBestSize: Int {
        guard let count = nBestCount else { return 1 }
        return count == 0 ? beamSize : count
    }

    @Flag(name: .customLong("scores"), help: "Append ` ||| score` to each translation.")
    var scores = false

    @Flag(name: .customLong("alignment"),
          help: "Append ` ||| i-j …` hard alignments (source piece i, target piece j, argmax of attention).")
    var alignment = false

    @Option(name: .customLong("attention-plot"), help: "Write an SVG attention heatmap per line into this directory.")
    var attentionPlotDirectory: String?

    @Option(name: .customLong("threads"), help: "Threads: batches are decoded this many at a time, one thread each (a lone batch uses them all).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .customLong("int8"), help: "Decode with the decoder step's matrices in 8 bits (faster; see README).")
    var int8 = false

    @Flag(name: .customLong("shortlist"), help: "Restrict the output layer to the lexical shortlists of the sentences being decoded (the model's, from `s2s shortlist`); scores are renormalized over them.")
    var shortlist = false

    @Flag(name: .customLong("quiet"), help: "No progress or warnings on stderr.")
    var quiet = false

    @Flag(name: .customLong("progress"),
          help: "Show progress on stderr even when it is not a terminal (plain lines; a live line is shown on a terminal when the input is a file).")
    var progress = false

    @Argument(help: "Source text files (plain or gzip); stdin when none.")
    var files: [String] = []

    func validate() throws {
        if models.isEmpty { throw ValidationError("give a model with -m/--model") }
        if beamSize < 1 { throw ValidationError("--beam must be at least 1") }
        if batchSize < 1 { throw ValidationError("--batch must be at least 1") }
        if maxiBatch < 1 { throw ValidationError("--maxi-batch must be at least 1") }
        if maxSourceLength < 1 { throw ValidationError("--max-source-length must be at least 1") }
        if !(maxLengthFactor > 0) { throw ValidationError("--max-length-factor must be positive") }
        if !(lengthNormalization >= 0) { throw ValidationError("--normalize must be ≥ 0") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let count = nBestCount {
            if count < 0 { throw ValidationError("--n-best must be at least 1") }
            if count > beamSize {
                throw ValidationError("--n-best \(count) is more than the beam keeps (--beam \(beamSize)); give --beam \(count) or more")
            }
        }
    }

    var translatorOptions: TranslatorOptions {
        let search = SearchOptions(beamSize: beamSize, nBest: nBestSize,
                                   lengthPenalty: LengthPenalty(alpha: lengthNormalization),
                                   maxLengthFactor: maxLengthFactor,
                                   collectAttention: alignment || attentionPlotDirectory != nil)
        return TranslatorOptions(search: search, batchSize: batchSize, sortWindowBatches: maxiBatch,
                                 maxSourceLength: maxSourceLength)
    }

    func run() {
        runReportingErrors {
            // A closed pipe (`| head -3`) ends the program quietly: EPIPE is handled on write.
            signal(SIGPIPE, SIG_IGN)
            BLAS.setThreads(threads)
            let model = try TranslationModel(paths: models, int8: int8, shortlist: shortlist)
            if shortlist && nBest && !quiet {
                printToStandardError("s2s: note: with --shortlist, scores are log-probabilities renormalized over the shortlist of the sentences decoded with them")
            }
            // One worker per thread: consecutive batches decode side by side.
            let translator = Translator(decoders: try (0..<threads).map { _ in try model.makeDecoder() },
                                        options: translatorOptions,
                                        encode: model.encode, decode: model.decode)
            if let directory = attentionPlotDirectory {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            let formatter = TranslationFormatter(nBest: nBest, scores: scores, alignment: alignment)
            var output = StandardOutput()
            let inputs = files.isEmpty ? ["-"] : files
            let meter = TranslationProgress(inputs: inputs, forced: progress, quiet: quiet)
            let emit: (LineTranslation) throws -> Void = { line in
                output.append(formatter.format(line))
                if let directory = attentionPlotDirectory { try writePlot(line, model: model, directory: directory) }
                meter?.lineDone()
            }
            for path in inputs {
                try TranslationStream.run(
                    reader: try LineReader(path: path), translator: translator,
                    invalidUTF8: { name, line in
                        if !quiet { printToStandardError("s2s: warning: \(name):\(line): invalid UTF-8, replaced with U+FFFD") }
                    },
                    emit: emit, didEmit: { output.flush() })
            }
            try translator.flush(emit: emit, batchFinished: { output.flush() })
            output.flush()
            meter?.finish()
        }
    }

    /// Writes `<directory>/<line number>.svg` (1-based) for the line's best translation.
    private func writePlot(_ line: LineTranslation, model: TranslationModel, directory: String) throws {
        guard let best = line.hypotheses.first, !best.attention.isEmpty else { return }
        let svg = AttentionSVG.render(sourcePieces: model.pieceStrings(line.sourceTokens),
                                      targetPieces: model.pieceStrings(best.tokens),
                                      attention: best.attention, title: "line \(line.index + 1)")
        try AtomicFile.write(text: svg, to: "\(directory)/\(line.index + 1).svg")
    }
}

/// stdout with our own buffer: written out per batch, and a closed reader (EPIPE) ends the
/// program quietly with status 0, as `head` expects of a filter.
struct StandardOutput {
    private var pending: [UInt8] = []

    mutating func append(_ text: String) {
        pending.append(contentsOf: text.utf8)
    }

    mutating func flush() {
        var offset = 0
        while offset < pending.count {
            let written = pending.withUnsafeBytes { raw in
                write(STDOUT_FILENO, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { exit(0) }
                reportAndExit(IOError.cannotWrite(path: "<stdout>", reason: systemErrorMessage(errno)))
            }
            offset += written
        }
        pending.removeAll(keepingCapacity: true)
    }
}

/// `translate`'s progress on stderr: sentences done, sentences/s and, when every input is a
/// plain file (its lines counted first), the ETA. Shown live when stderr is a terminal and the
/// input is files (not stdin, where a user types and reads), as plain lines every 10 s with
/// `--progress`, never with `--quiet`; the translations on stdout are the same either way.
final class TranslationProgress {
    private let line: ProgressLine
    private let total: Int?
    private let start = Date()
    private var done = 0
    private var lastShown = Date.distantPast

    /// Nil when nothing is to be shown.
    init?(inputs: [String], forced: Bool, quiet: Bool) {
        let fromFiles = !inputs.contains("-")
        guard !quiet, forced || (isatty(STDERR_FILENO) == 1 && fromFiles) else { return nil }
        line = ProgressLine(quiet: false)
        total = fromFiles ? Self.countLines(inputs) : nil
    }

    func lineDone() {
        done += 1
        let now = Date()
        guard now.timeIntervalSince(lastShown) >= 0.25 else { return }
        lastShown = now
        line.update(text(now: now))
    }

    func finish() {
        line.update(text(now: Date()), force: true)
        line.finish()
    }

    private func text(now: Date) -> String {
        let seconds = max(now.timeIntervalSince(start), 1e-3)
        let rate = Double(done) / seconds
        var text = "s2s: translated \(done)"
        if let total { text += "/\(total)" }
        text += String(format: " sentences, %.1f sent/s, %@", rate, formatDuration(seconds))
        if let total, done < total, rate > 0 { text += ", ETA " + formatDuration(Double(total - done) / rate) }
        return text
    }

    /// Lines of plain (not gzip) files, as the reader counts them (a last line without a
    /// newline counts); nil when any input is compressed or unreadable.
    private static func countLines(_ paths: [String]) -> Int? {
        var total = 0
        for path in paths {
            guard !path.hasSuffix(".gz"), let handle = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? handle.close() }
            var lines = 0, last: UInt8 = 0x0A
            while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                lines += chunk.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                last = chunk.last!
            }
            total += lines + (last == 0x0A ? 0 : 1)
        }
        return total
    }
}
