import ArgumentParser
import Foundation
import S2SCheckpoint
import S2SCorpus
import S2SDistributed
import S2SIO
import S2SModel
import S2SSubword
import S2STensor
import S2STraining

/// `s2s train SRC TGT -o model.s2s`: learn (or load) a vocabulary, load and batch the corpus,
/// train with validation and checkpoints, and stop cleanly on a limit or a signal.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a translation model on a parallel corpus.",
        discussion: """
        Without -v, a joint BPE vocabulary (--vocab-size pieces) is learned on the training files and \
        embedded in the model. Ctrl-C (SIGINT) or SIGTERM finishes the current update, writes a \
        checkpoint and exits with status 130; run the same command with --resume to continue.
        """)

    @OptionGroup var data: TrainingDataOptions

    @Option(name: .shortAndLong, help: "Model file to write (a .state sibling holds what --resume needs).")
    var output: String?

    @Flag(name: .customLong("dry-run"), help: "Load, check, filter and batch the data, print statistics, and stop before training.")
    var dryRun = false

    @Flag(help: "Continue the run saved in -o exactly where it stopped.")
    var resume = false

    @Option(name: .customLong("vocab-size"), help: "Pieces of the vocabulary learned when -v is not given.")
    var vocabularySize = SubwordVocabulary.LearnOptions().size

    @Option(name: .customLong("valid-src"), help: "Validation source file.")
    var validSource: String?

    @Option(name: .customLong("valid-tgt"), help: "Validation target file.")
    var validTarget: String?

    @Option(name: .customLong("valid-frequency"), help: "Validate this often: N updates (500u) or training time (5m).")
    var validFrequency = TrainingOptions().validFrequency.description

    @Option(name: .customLong("valid-metric"), help: "Rank models by cross-entropy or bleu (the best model, early stopping, the plateau decay).")
    var validMetric = TrainingOptions().validationMetric.rawValue

    @Flag(name: .customLong("no-valid-bleu"), help: "Validate by cross-entropy only (skip greedy decoding and BLEU).")
    var noValidationBLEU = false

    @Option(name: .customLong("time-limit"), help: "Stop after this much training time, e.g. 30m, 1h30m, 90s.")
    var timeLimit: String?

    @Option(name: .customLong("max-epochs"), help: "Stop after this many epochs.")
    var maxEpochs: Int?

    @Option(name: .customLong("max-updates"), help: "Stop after this many updates.")
    var maxUpdates: Int?

    @Option(name: .customLong("early-stopping"), help: "Stop after N validations without improvement.")
    var earlyStopping: Int?

    @Option(name: .customLong("learning-rate"), help: "Peak Adam learning rate.")
    var learningRate = TrainingOptions().learningRate

    @Option(name: .customLong("warmup"), help: "Updates of linear learning-rate warmup.")
    var warmup = TrainingOptions().warmupUpdates

    @Option(name: .customLong("lr-decay"), help: "plateau (halve after 2 validations without improvement), inverse-sqrt, constant, or linear (to 0 at the end of --time-limit or --max-updates).")
    var decay = TrainingOptions().decay.rawValue

    @Option(name: .customLong("clip-norm"), help: "Clip the global gradient norm to this (0: off).")
    var clipNorm = TrainingOptions().clipNorm

    @Option(name: .customLong("label-smoothing"), help: "Label smoothing ε.")
    var labelSmoothing = ModelConfig.defaults.labelSmoothing

    @Option(name: .customLong("dropout"), help: "Dropout on embeddings and (variational) on RNN states.")
    var dropout = ModelConfig.defaults.embeddingDropout

    @Option(name: .customLong("dropout-output"), help: "Dropout before the output layer.")
    var outputDropout = ModelConfig.defaults.outputDropout

    @Option(name: .customLong("bpe-dropout"), help: "BPE-dropout: re-segment each training batch, skipping each merge with this probability (0: off; 0.1 is usual).")
    var bpeDropout = TrainingOptions().bpeDropout

    @Option(name: .customLong("emb"), help: "Embedding size E.")
    var embeddingSize = ModelConfig.defaults.embeddingSize

    @Option(name: .customLong("hidden"), help: "GRU hidden size H (per encoder direction).")
    var hiddenSize = ModelConfig.defaults.hiddenSize

    @Option(name: .customLong("attention"), help: "Attention layer size A.")
    var attentionSize = ModelConfig.defaults.attentionSize

    @Flag(name: .customLong("tied-embeddings"), help: "Share the output layer with the target embeddings.")
    var tiedEmbeddings = false

    @Flag(name: .customLong("layer-normalization"), inversion: .prefixedNo,
          help: "Layer-normalize both projections of every GRU (as Nematus/Marian --layer-normalization; see BENCHMARKS.md).")
    var layerNormalization = ModelConfig.defaults.layerNormalization

    @Option(name: .customLong("save-frequency"), help: "Write a checkpoint this often: N updates (1000u) or training time (10m).")
    var saveFrequency = TrainingOptions().saveFrequency.description

    @Option(name: .customLong("exponential-smoothing"),
            help: "Validate and save the parameters' moving average, moving this far towards them per update at least (Marian's option; 0: off).")
    var exponentialSmoothing = TrainingOptions().exponentialSmoothing

    @Option(name: .customLong("average-last"), help: "At the end, average the last N numbered checkpoints (--keep N or more) into model.average.s2s.")
    var averageLast = TrainingOptions().averageLast

    @Option(help: "Also keep the last N numbered checkpoints (model.s2s.iterN).")
    var keep = TrainingOptions().keep

    @Option(help: "Workers: each batch is shared out among this many, one core each (default: one per core, divided among the ranks on this machine under mpirun).")
    var workers: Int?

    @Option(name: [.customLong("accumulate"), .customLong("optimizer-delay")],
            help: "Sum the gradients of this many batches into each update (Marian's --optimizer-delay).")
    var accumulate = TrainingOptions().accumulate

    @Option(help: "BLAS threads of a lone worker (default: its share of the cores); several workers use one each.")
    var threads: Int?

    @Option(help: "Append one JSON object per report and validation to this file (see `s2s plot`).")
    var log: String?

    @Option(help: ArgumentHelp("Source and target languages, recorded in the model for `s2s serve` (default: the files' suffixes, as train.en train.fr).",
                               valueName: "SRC:TGT"))
    var languages: String?

    @Option(name: .customLong("disp-freq"), help: "Report the mean training loss this often: N updates (500u) or training time (10s, 5m).")
    var displayFrequency = TrainingOptions().displayFrequency.description


    @Flag(name: .customLong("quiet"), help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        if !dryRun && output == nil { throw ValidationError("missing -o FILE: where to write the model") }
        if let languages, LanguagePair(languages) == nil { throw ValidationError("--languages '\(languages)' is not SRC:TGT, such as en:fr") }
        if (validSource == nil) != (validTarget == nil) { throw ValidationError("give both --valid-src and --valid-tgt") }
        if let timeLimit, parseDuration(timeLimit) == nil { throw ValidationError("--time-limit '\(timeLimit)' is not a duration such as 30m, 1h30m or 90s") }
        if LearningRateSchedule.Decay(rawValue: decay) == nil { throw ValidationError("--lr-decay must be plateau, inverse-sqrt, constant or linear") }
        if decay == LearningRateSchedule.Decay.linear.rawValue && timeLimit == nil && maxUpdates == nil {
            throw ValidationError("--lr-decay linear falls to 0 at the end of the run: give its length with --time-limit or --max-updates")
        }
        if !(learningRate > 0) { throw ValidationError("--learning-rate must be positive") }
        for (name, value) in [("--dropout", dropout), ("--dropout-output", outputDropout), ("--label-smoothing", labelSmoothing), ("--bpe-dropout", bpeDropout)]
        where !(value >= 0 && value < 1) { throw ValidationError("\(name) must be in [0, 1)") }
        for (name, value) in [("--emb", embeddingSize), ("--hidden", hiddenSize), ("--attention", attentionSize), ("--vocab-size", vocabularySize)]
        where value < 1 { throw ValidationError("\(name) must be positive") }
        if Frequency(parsing: displayFrequency) == nil { throw ValidationError("--disp-freq '\(displayFrequency)' is neither a number of updates (500u) nor a duration (10s, 5m)") }
        for (name, value) in [("--valid-frequency", validFrequency), ("--save-frequency", saveFrequency)]
        where Frequency(parsing: value) == nil {
            throw ValidationError("\(name) '\(value)' is neither a number of updates (500u) nor a duration (5m)")
        }
        if ValidationMetric(rawValue: validMetric) == nil { throw ValidationError("--valid-metric must be cross-entropy or bleu") }
        if validMetric == ValidationMetric.bleu.rawValue && noValidationBLEU {
            throw ValidationError("--valid-metric bleu needs validation BLEU: drop --no-valid-bleu")
        }
        if !(exponentialSmoothing >= 0 && exponentialSmoothing < 1) { throw ValidationError("--exponential-smoothing must be in [0, 1)") }
        if averageLast < 0 { throw ValidationError("--average-last must be at least 0") }
        if averageLast > 1 && keep < averageLast { throw ValidationError("--average-last \(averageLast) needs --keep \(averageLast) or more") }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
        if let workers, workers < 1 { throw ValidationError("--workers must be positive") }
        if accumulate < 1 { throw ValidationError("--accumulate must be positive") }
        if data.preparedPath != nil && data.text.vocabularyPath == nil && !resume && !dryRun {
            throw ValidationError("--data needs the vocabulary it was prepared with: -v FILE")
        }
    }

    func run() {
        runReportingErrors {
            // A new vocabulary is learned from the pairs before they are encoded, and stdin
            // cannot be read twice: it is copied once to a temporary file, read from there.
            guard data.text.tsvPath == "-" && data.text.vocabularyPath == nil && !resume else { return try trainOrCheck() }
            let spool = try StreamSpool()
            defer { spool.remove() }
            var reading = self
            reading.data.text.tsvPath = spool.path
            try reading.trainOrCheck()
        }
    }

    /// Trains (or, with `--dry-run`, checks the data) as the options say.
    private func trainOrCheck() throws {
        let communicator = try makeCommunicator()
        distributedJob = communicator
        let cores = coresOfThisRank()
        BLAS.setThreads(threads ?? cores)
        let parallelism = Parallelism(workers: workers ?? cores, communicator: communicator)
        let quiet = quiet || !communicator.isLeader
        // Pre-flight: everything cheap to check, before any long work.
        let otherInputs = [validSource, validTarget, data.preparedPath].compactMap { $0 }
        let inputs = data.text.inputPaths + otherInputs
        if let output { try AtomicFile.checkWritable(output, notAnyOf: inputs) }
        if let log { try AtomicFile.checkWritable(log, notAnyOf: inputs + [output].compactMap { $0 }) }
        for path in data.text.files + otherInputs where path != "-" {
            _ = try LineReader(path: path)
        }
        let savedRun = try resume ? output.map { try SavedRun(path: $0, vocabularyPath: data.text.vocabularyPath) } : nil
        let progressLine = ProgressLine(quiet: quiet)
        let clock = ContinuousClock()
        if dryRun, let prepared = data.preparedPath, data.text.vocabularyPath == nil {
            // Checking a prepared corpus needs no vocabulary: it is already encoded.
            let loadStart = clock.now
            try printDryRun(corpus: PreparedCorpus.open(prepared), loadTime: clock.now - loadStart)
            return
        }
        let vocabulary = try savedRun?.vocabulary ?? obtainVocabulary(progress: progressLine)
        let loadStart = clock.now
        let corpus = try data.loadCorpus(encoder: vocabulary, quiet: quiet)
        if dryRun {
            try printDryRun(corpus: corpus, loadTime: clock.now - loadStart)
            return
        }
        try train(corpus: corpus, vocabulary: vocabulary, savedRun: savedRun, parallelism: parallelism,
                  progressLine: progressLine, quiet: quiet)
    }

    /// The statistics of `--dry-run`: what was read, kept and filtered, and how it batches.
    private func printDryRun(corpus: ParallelCorpus, loadTime loaded: Duration) throws {
        let batches = try BatchIterator(corpus: corpus, options: data.batching.options).epochStatistics()
        print(corpusSummary(corpus))
        print(batchingSummary(batches, options: data.batching.options))
        let seconds = Double(loaded.components.seconds) + Double(loaded.components.attoseconds) * 1e-18
        let rate = data.preparedPath == nil
            ? " (" + formatCount(Int(Double(corpus.statistics.pairsRead) / max(seconds, 1e-9))) + " pairs/s)"
            : " (prepared file, mapped)"
        print(String(format: "load time          %.3f s", seconds) + rate)
    }

    /// The vocabulary of a new run: from -v, or learned on the training files.
    private func obtainVocabulary(progress: ProgressLine) throws -> SubwordVocabulary {
        if let path = data.text.vocabularyPath { return try SubwordVocabulary(contentsOfFile: path) }
        // A TSV line's tab is whitespace to the learner, so its two sides count as both files' would.
        let files = data.text.tsvPath.map { [$0] } ?? data.text.files
        let shown = data.text.tsvPath.map { _ in "the --tsv pairs" } ?? files.joined(separator: " ")
        if let input = data.text.input { try CorpusLoader.checkAlignment(input) }
        progress.note("s2s: learning a joint \(vocabularySize)-piece BPE vocabulary on \(shown) (give -v to reuse one)")
        var options = SubwordVocabulary.LearnOptions()
        options.size = vocabularySize
        return try SubwordVocabulary.learn(files: files, options: options)
    }

    /// The training options the command line describes.
    private var trainingOptions: TrainingOptions {
        var options = TrainingOptions()
        options.learningRate = learningRate
        options.warmupUpdates = warmup
        options.decay = LearningRateSchedule.Decay(rawValue: decay) ?? options.decay
        options.clipNorm = clipNorm
        options.displayFrequency = Frequency(parsing: displayFrequency) ?? options.displayFrequency
        options.validFrequency = Frequency(parsing: validFrequency) ?? options.validFrequency
        options.saveFrequency = Frequency(parsing: saveFrequency) ?? options.saveFrequency
        options.validationMetric = ValidationMetric(rawValue: validMetric) ?? options.validationMetric
        options.exponentialSmoothing = exponentialSmoothing
        options.averageLast = averageLast
        options.keep = keep
        options.validationBLEU = !noValidationBLEU
        options.stopping = StoppingRule(timeLimitSeconds: timeLimit.flatMap(parseDuration), maxEpochs: maxEpochs,
                                        maxUpdates: maxUpdates, patience: earlyStopping)
        options.batching = data.batching.options
        options.seed = data.batching.seed
        options.bpeDropout = bpeDropout
        options.accumulate = accumulate
        return options
    }

    private func train(corpus: ParallelCorpus, vocabulary: SubwordVocabulary, savedRun: SavedRun?,
                       parallelism: Parallelism, progressLine: ProgressLine, quiet: Bool) throws {
        guard let output else { return }
        let options = trainingOptions
        var corpus = corpus
        let validation: ValidationSet
        if let validSource, let validTarget {
            validation = try ValidationSet(sourcePath: validSource, referencePath: validTarget, vocabulary: vocabulary,
                                           maxLength: data.text.maxLength)
        } else {
            (corpus, validation) = ValidationSet.holdingOut(from: corpus, vocabulary: vocabulary, seed: options.seed)
            progressLine.note("s2s: no --valid-src/--valid-tgt given: holding out \(formatCount(validation.sourceLines.count)) random training pairs for validation")
        }
        let config = savedRun?.checkpoint.config ?? modelConfig(vocabulary)
        let memory = try TrainingMemoryEstimate(config: config, corpus: corpus, options: options)
        try memory.check()
        progressLine.note("s2s: about \(formatBytes(memory.bytes)) of memory for the model and its largest batch (\(memory.largestBatch.summary))")
        let trainer: Trainer
        if let savedRun {
            trainer = try Trainer(resuming: savedRun, options: options, corpus: corpus, validation: validation,
                                  s2sVersion: S2SVersion.string, parallelism: parallelism)
            progressLine.note("s2s: resuming \(output) at update \(trainer.progress.updates), epoch \(trainer.progress.epoch)")
        } else {
            trainer = try Trainer(config: config, options: options, vocabulary: vocabulary, corpus: corpus,
                                  validation: validation, modelPath: output, s2sVersion: S2SVersion.string,
                                  parallelism: parallelism)
        }
        let files = data.text.files
        trainer.languages = languages.flatMap(LanguagePair.init)
            ?? (files.count == 2 ? LanguagePair.fromCorpusPaths(source: files[0], target: files[1]) : nil)
            ?? savedRun?.checkpoint.metadata.languages
        var logWriter = try parallelism.communicator.isLeader ? log.map { try AppendingLog(path: $0) } : nil
        installStopSignalHandlers()
        let display = TrainingDisplay(progressLine: progressLine, timeLimit: options.stopping.timeLimitSeconds)
        let reason = try trainer.run(shouldStop: { stopRequested.load(ordering: .relaxed) }) { event in
            display.show(event)
            switch event {
            case let .report(record), let .validation(record, _):
                // A log that cannot be written (a full disk) is worth less than the training:
                // say so once and train on; the checkpoints report their own failures.
                do { try logWriter?.append(record.jsonLine()) } catch {
                    printToStandardError("s2s: warning: \(error); training goes on without the log")
                    logWriter = nil
                }
            case .progress, .saved: break
            }
        }
        progressLine.finish()
        try logWriter?.close()
        var summary = "s2s: stopped (\(reason.rawValue)) after \(trainer.progress.updates) updates, epoch \(trainer.progress.epoch); model in \(output)"
        let ranks = parallelism.communicator.size
        if ranks > 1 { summary += " (\(ranks) ranks × \(parallelism.workers) workers, parameters identical on every rank)" }
        if reason == .interrupted && parallelism.communicator.isLeader {
            printToStandardError(summary)
            printToStandardError("s2s: to continue, run the same command with --resume")
        }
        if reason == .interrupted { throw ExitCode(ExitStatus.interrupted) }
        if !quiet { printToStandardError(summary) }
    }
}

extension TrainCommand {
    /// The cores this process may use: all of them, or its share when `mpirun` starts several
    /// ranks on this machine.
    fileprivate func coresOfThisRank() -> Int {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
        return max(1, cores / max(1, local))
    }

    /// The model the options describe.
    fileprivate func modelConfig(_ vocabulary: SubwordVocabulary) -> ModelConfig {
        var config = ModelConfig(sourceVocabularySize: vocabulary.size, targetVocabularySize: vocabulary.size)
        config.embeddingSize = embeddingSize
        config.hiddenSize = hiddenSize
        config.attentionSize = attentionSize
        config.embeddingDropout = dropout
        config.stateDropout = dropout
        config.outputDropout = outputDropout
        config.labelSmoothing = labelSmoothing
        config.tiedEmbeddings = tiedEmbeddings
        config.layerNormalization = layerNormalization
        return config
    }
}

/// How training events look on stderr: the live progress line and the validation notes.
final class TrainingDisplay {
    private let progressLine: ProgressLine
    private let timeLimit: Double?
    private var lastBLEU: Double?

    init(progressLine: ProgressLine, timeLimit: Double?) {
        self.progressLine = progressLine
        self.timeLimit = timeLimit
    }

    func show(_ event: TrainingEvent) {
        switch event {
        case let .progress(record):
            var line = String(format: "epoch %d  update %d  loss %.3f  %.0f tgt tok/s  lr %.2e  %@",
                              record.epoch, record.updates, record.loss ?? 0, record.targetTokensPerSecond ?? 0,
                              record.learningRate ?? 0, formatDuration(record.elapsedSeconds))
            if let timeLimit { line += " / " + formatDuration(timeLimit) }
            if let lastBLEU { line += String(format: "  valid BLEU %.2f", lastBLEU) }
            progressLine.update(line)
        case let .validation(record, improved):
            lastBLEU = record.bleu
            var line = String(format: "s2s: validation at update %d: cross-entropy %.4f  perplexity %.2f",
                              record.updates, record.crossEntropy ?? 0, record.perplexity ?? 0)
            if let bleu = record.bleu { line += String(format: "  BLEU %.2f", bleu) }
            progressLine.note(line + (improved ? "  (best so far)" : ""))
        case let .saved(path, best):
            if !best { progressLine.note("s2s: saved \(path)") }
        case .report:
            break
        }
    }
}

/// Appends lines to a log file as training goes (a crash loses at most the last line).
struct AppendingLog {
    private let handle: FileHandle
    private let path: String

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw IOError.cannotWrite(path: path, reason: "cannot create")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw IOError.cannotWrite(path: path, reason: "cannot open") }
        handle.seekToEndOfFile()
        self.handle = handle
        self.path = path
    }

    mutating func append(_ line: String) throws {
        do { try handle.write(contentsOf: Data((line + "\n").utf8)) } catch {
            throw IOError.cannotWrite(path: path, reason: (error as NSError).localizedFailureReason
                                          ?? (error as NSError).localizedDescription)
        }
    }

    func close() throws { try handle.close() }
}

/// The corpus statistics block printed by `prepare` and `train --dry-run`.
func corpusSummary(_ corpus: ParallelCorpus) -> String {
    let statistics = corpus.statistics
    let ratio = corpus.filter.maxLengthRatio.map { String($0) } ?? "off"
    return """
    pairs read         \(formatCount(statistics.pairsRead))
    pairs kept         \(formatCount(statistics.pairsKept))
    filtered           empty \(formatCount(statistics.filteredEmpty)), too long (> \(corpus.filter.maxLength) tokens) \(formatCount(statistics.filteredTooLong)), length ratio (> \(ratio)) \(formatCount(statistics.filteredLengthRatio)), invalid UTF-8 skipped \(formatCount(statistics.skippedInvalidUTF8))
    source tokens      \(formatCount(statistics.sourceTokens)) (with </s>)
    target tokens      \(formatCount(statistics.targetTokens)) (with </s>)
    vocabulary         \(corpus.vocabularyFingerprint) (\(formatCount(corpus.vocabularySize)) ids)
    corpus memory      \(formatBytes(corpus.storageBytes)) (token ids and sentence offsets, as training holds them)
    """
}

/// The batching block printed by `train --dry-run`.
func batchingSummary(_ batches: EpochBatchStatistics, options: BatchingOptions) -> String {
    let unit = options.sentencesPerBatch.map { "\($0) pairs" } ?? "\(options.targetTokensPerBatch) target tokens"
    return """
    batches per epoch  \(formatCount(batches.batches)) (\(unit) per batch, maxi-batch \(options.maxiBatch), seed \(options.seed))
    padding            source \(String(format: "%.1f", 100 * batches.sourcePaddingFraction))%, target \(String(format: "%.1f", 100 * batches.targetPaddingFraction))%
    """
}
