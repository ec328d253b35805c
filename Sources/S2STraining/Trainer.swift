import Foundation
import S2SCheckpoint
import S2SContainer
import S2SCore
import S2SCorpus
import S2SDecoding
import S2SIO
import S2SDistributed
import S2SMetrics
import S2SModel
import S2SSubword
import S2STensor

/// Every option of a training run; stored in the checkpoint so a model says how it was made.
public struct TrainingOptions: Codable, Equatable, Sendable {
    /// Peak learning rate.
    public var learningRate: Float = 1e-3
    /// Updates of linear warmup.
    public var warmupUpdates = 200
    /// Decay after warmup.
    public var decay: LearningRateSchedule.Decay = .plateau
    /// Global gradient-norm clip (≤ 0: off).
    public var clipNorm: Float = 1
    /// Adam β₂.
    public var beta2: Float = 0.98
    /// Decoupled weight decay.
    public var weightDecay: Float = 0
    /// Report the mean training loss and speed this often (`.report` events, the log's lines).
    public var displayFrequency = Frequency.seconds(10)
    /// Validate this often (and at the end): updates, or training time.
    public var validFrequency = Frequency.updates(500)
    /// Save a checkpoint this often (and at the end): updates, or training time.
    public var saveFrequency = Frequency.updates(1000)
    /// Numbered checkpoints to keep besides the latest and the best (0: none).
    public var keep = 0
    /// Whether validation also decodes greedily and scores BLEU.
    public var validationBLEU = true
    /// What validation ranks models by: the best model, early stopping and the plateau decay.
    public var validationMetric = ValidationMetric.crossEntropy
    /// At the end of the run, average the last this many numbered checkpoints into
    /// `model.average.s2s` (0 or 1: none); needs `keep` at least as large.
    public var averageLast = 0
    /// When to stop.
    public var stopping = StoppingRule()
    /// How batches are formed.
    public var batching = BatchingOptions()
    /// Seed of initialization and dropout.
    public var seed: UInt64 = 1
    /// BPE-dropout probability applied to each training batch as it is drawn (0: off).
    public var bpeDropout: Float = 0
    /// Batches whose gradients are summed into one update (Marian's `--optimizer-delay`).
    public var accumulate = 1
    /// Exponential smoothing of the parameters (Marian's `--exponential-smoothing`): after
    /// each update the average moves this far towards them (0: off). The average is what is
    /// validated and saved; the parameters themselves stay in the training state.
    public var exponentialSmoothing: Float = 1e-4

    public init() {}
}

/// What validation ranks models by.
public enum ValidationMetric: String, Codable, Sendable, CaseIterable {
    /// Cross-entropy per target token (lower is better).
    case crossEntropy = "cross-entropy"
    /// Greedy detokenized BLEU (higher is better).
    case bleu

    /// The score with lower meaning better, as the schedule and early stopping compare them.
    func loss(crossEntropy: Double, bleu: Double?) -> Double {
        switch self {
        case .crossEntropy: return crossEntropy
        case .bleu: return -(bleu ?? 0)
        }
    }
}

/// Something worth telling the user while training runs.
public enum TrainingEvent {
    /// The state after every update, for a live progress line (loss and speed so far in the
    /// current report window).
    case progress(TrainingLogRecord)
    /// The end of a report window (`displayFrequency`): mean loss and speed over the window.
    case report(TrainingLogRecord)
    /// A validation finished; `improved` says whether it is the best so far.
    case validation(TrainingLogRecord, improved: Bool)
    /// A checkpoint was written.
    case saved(path: String, best: Bool)
}

/// A held-out set: encoded batches for cross-entropy, and raw lines for BLEU.
public struct ValidationSet {
    /// Batches in a fixed order (sorted by length), for cross-entropy.
    public var batches: [Batch]
    /// Source sentences as given, for greedy decoding.
    public var sourceLines: [String]
    /// Reference translations, for BLEU.
    public var referenceLines: [String]

    /// Builds the set from raw aligned lines, encoded with `vocabulary`; pairs whose sides
    /// exceed `maxLength` tokens are kept for BLEU but left out of the cross-entropy batches.
    public init(sourceLines: [String], referenceLines: [String], vocabulary: SubwordVocabulary,
                maxLength: Int = 100, sentencesPerBatch: Int = 64) {
        self.sourceLines = sourceLines
        self.referenceLines = referenceLines
        var pairs: [(source: [Int32], target: [Int32], index: Int)] = []
        for (index, (source, target)) in zip(sourceLines, referenceLines).enumerated() {
            let sourceIds = vocabulary.encode(source), targetIds = vocabulary.encode(target)
            if sourceIds.isEmpty || targetIds.isEmpty || sourceIds.count > maxLength || targetIds.count > maxLength { continue }
            pairs.append((sourceIds + [SpecialTokens.eos], targetIds + [SpecialTokens.eos], index))
        }
        pairs.sort { ($0.target.count, $0.source.count, $0.index) < ($1.target.count, $1.source.count, $1.index) }
        batches = stride(from: 0, to: pairs.count, by: sentencesPerBatch).map { start in
            let chunk = pairs[start..<min(pairs.count, start + sentencesPerBatch)]
            return Batch(source: TokenMatrix(padding: chunk.map(\.source)),
                         target: TokenMatrix(padding: chunk.map(\.target)),
                         pairIndices: chunk.map(\.index))
        }
    }
}

extension ValidationSet {
    /// Pairs `pairs` of `corpus` as a validation set; source and reference text are their
    /// decoded pieces (the normalized text), since the raw lines are not kept.
    public init(heldOut pairs: [Int], of corpus: ParallelCorpus, vocabulary: SubwordVocabulary, sentencesPerBatch: Int = 64) {
        let sources = pairs.map { Array(corpus.source($0)) }, targets = pairs.map { Array(corpus.target($0)) }
        // `dropLast()`: every stored sentence ends in </s>, which decode skips anyway.
        self.init(sourceLines: sources.map { vocabulary.decode($0.dropLast()) },
                  referenceLines: targets.map { vocabulary.decode($0.dropLast()) },
                  batches: [])
        let order = pairs.indices.sorted { (targets[$0].count, sources[$0].count, $0) < (targets[$1].count, sources[$1].count, $1) }
        batches = stride(from: 0, to: order.count, by: sentencesPerBatch).map { start in
            let chunk = order[start..<min(order.count, start + sentencesPerBatch)]
            return Batch(source: TokenMatrix(padding: chunk.map { sources[$0] }),
                         target: TokenMatrix(padding: chunk.map { targets[$0] }),
                         pairIndices: chunk.map { pairs[$0] })
        }
    }

    init(sourceLines: [String], referenceLines: [String], batches: [Batch]) {
        self.sourceLines = sourceLines
        self.referenceLines = referenceLines
        self.batches = batches
    }
}

/// How a run spreads over processors: workers in this process, and the job's ranks.
public struct Parallelism {
    /// Workers in this process, each on one core with single-threaded BLAS.
    public var workers: Int
    /// The job's ranks (one process unless launched by `mpirun`).
    public var communicator: Communicator

    public init(workers: Int, communicator: Communicator = SingleProcess()) {
        self.workers = max(1, workers)
        self.communicator = communicator
    }

    /// One worker per core, in one process.
    public static var allCores: Parallelism { Parallelism(workers: ProcessInfo.processInfo.activeProcessorCount) }
}

/// The training loop: batches → updates, with validation, checkpoints and stopping.
///
/// Everything that decides the next update — parameters, Adam moments and step, the schedule
/// and the corpus position — is saved in each checkpoint, and dropout masks depend only on the
/// seed, the update and the sentence, so a resumed run makes exactly the updates an
/// uninterrupted one would have made, with any number of workers or ranks. Under `mpirun`
/// every rank draws the same batches and takes its shares; rank 0 validates, reports and
/// writes checkpoints, and every decision that ends or shapes the run is agreed on by all.
public final class Trainer {
    public let options: TrainingOptions
    public let vocabulary: SubwordVocabulary
    public let stepper: DataParallelTrainer
    public private(set) var iterator: BatchIterator
    public private(set) var schedule: LearningRateSchedule
    public private(set) var progress: TrainingProgress
    /// Validations since the best one (for early stopping).
    public private(set) var stalledValidations = 0
    private let validation: ValidationSet?
    /// Re-segments training batches when `options.bpeDropout` > 0.
    private let bpeDropout: BPEDropout?
    /// The parameters' moving average when `options.exponentialSmoothing` > 0.
    public let smoothing: ExponentialSmoothing?
    private let modelPath: String
    private let s2sVersion: String
    /// Recorded in every saved model (`s2s serve` and `info` read it).
    public var languages: LanguagePair?
    private var communicator: Communicator { stepper.communicator }

    /// A new run: fresh parameters from `config` and `options.seed`.
    public convenience init(config: ModelConfig, options: TrainingOptions, vocabulary: SubwordVocabulary,
                            corpus: ParallelCorpus, validation: ValidationSet?, modelPath: String, s2sVersion: String,
                            parallelism: Parallelism = .allCores) throws {
        let parameters = try Seq2SeqParameters.initialized(for: config, seed: options.seed)
        try self.init(stepper: Self.stepper(config: config, parameters: parameters, options: options,
                                            parallelism: parallelism),
                      options: options, vocabulary: vocabulary,
                      iterator: BatchIterator(corpus: corpus, options: options.batching),
                      schedule: LearningRateSchedule(baseRate: options.learningRate, warmupUpdates: options.warmupUpdates, decay: options.decay),
                      progress: TrainingProgress(), validation: validation, modelPath: modelPath, s2sVersion: s2sVersion,
                      smoothing: options.exponentialSmoothing > 0
                          ? ExponentialSmoothing(rate: options.exponentialSmoothing, startingAt: parameters) : nil)
    }

    /// Continues `run` exactly where it stopped (with any number of workers and ranks).
    public convenience init(resuming run: SavedRun, options: TrainingOptions, corpus: ParallelCorpus,
                            validation: ValidationSet?, s2sVersion: String, parallelism: Parallelism = .allCores) throws {
        if corpus.vocabularyFingerprint != run.vocabulary.fingerprint {
            throw TrainerError.vocabularyMismatch(modelPath: run.path)
        }
        let state = run.state
        // With smoothing, the model file holds the average and the state the parameters.
        let parameters = state.rawParameters ?? run.checkpoint.parameters
        let stepper = try Self.stepper(config: run.checkpoint.config, parameters: parameters,
                                       options: options, parallelism: parallelism)
        stepper.optimizer.firstMoment.copy(from: state.firstMoment)
        stepper.optimizer.secondMoment.copy(from: state.secondMoment)
        stepper.optimizer.step = state.optimizerStep
        let position = try state.corpusPosition.decode(as: BatchPosition.self)
        let schedule = try state.scheduler.decode(as: LearningRateSchedule.self)
        let extra = try? state.extra.decode(as: [String: Int].self)
        try self.init(stepper: stepper, options: options, vocabulary: run.vocabulary,
                      iterator: BatchIterator(corpus: corpus, options: options.batching, resumingFrom: position),
                      schedule: schedule, progress: run.checkpoint.progress, validation: validation,
                      modelPath: run.path, s2sVersion: s2sVersion,
                      smoothing: options.exponentialSmoothing <= 0 ? nil
                          : state.rawParameters == nil ? ExponentialSmoothing(rate: options.exponentialSmoothing, startingAt: parameters)
                          : ExponentialSmoothing(rate: options.exponentialSmoothing, average: run.checkpoint.parameters))
        stalledValidations = extra?["stalledValidations"] ?? 0
    }

    private static func stepper(config: ModelConfig, parameters: ParameterStore, options: TrainingOptions,
                                parallelism: Parallelism) throws -> DataParallelTrainer {
        let adam = Adam(parameters: parameters, learningRate: options.learningRate, beta2: options.beta2,
                        weightDecay: options.weightDecay)
        return try DataParallelTrainer(config: config, parameters: parameters, optimizer: adam, clipNorm: options.clipNorm,
                                       workers: parallelism.workers, dropoutSeed: options.seed,
                                       communicator: parallelism.communicator)
    }

    init(stepper: DataParallelTrainer, options: TrainingOptions, vocabulary: SubwordVocabulary, iterator: BatchIterator,
         schedule: LearningRateSchedule, progress: TrainingProgress, validation: ValidationSet?,
         modelPath: String, s2sVersion: String, smoothing: ExponentialSmoothing?) throws {
        guard vocabulary.size == stepper.config.sourceVocabularySize,
              vocabulary.size == stepper.config.targetVocabularySize else {
            throw TrainerError.configMismatch("vocabulary has \(vocabulary.size) pieces, model expects \(stepper.config.sourceVocabularySize)")
        }
        self.stepper = stepper
        self.options = options
        self.vocabulary = vocabulary
        self.iterator = iterator
        self.schedule = schedule
        self.progress = progress
        self.validation = validation
        self.bpeDropout = options.bpeDropout > 0
            ? BPEDropout(vocabulary: vocabulary, probability: options.bpeDropout, seed: options.seed) : nil
        self.modelPath = modelPath
        self.s2sVersion = s2sVersion
        self.smoothing = smoothing
    }

    /// The parameters validation scores and checkpoints hold: the moving average when
    /// smoothing, else the parameters themselves.
    public var publishedParameters: ParameterStore { smoothing?.average ?? stepper.parameters }

    /// Trains until a stopping rule fires or `shouldStop` returns true (checked between
    /// updates); saves a final checkpoint either way and returns why it stopped. Events are
    /// reported on rank 0 only.
    public func run(shouldStop: () -> Bool, onEvent: (TrainingEvent) -> Void) throws -> StopReason {
        try checkRanksAgree()
        let clock = ContinuousClock()
        let runStart = clock.now, elapsedBefore = progress.elapsedSeconds
        func elapsed() -> Double {
            let duration = clock.now - runStart
            return elapsedBefore + Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }
        let leader = communicator.isLeader
        func report(_ event: TrainingEvent) { if leader { onEvent(event) } }
        var window = ReportWindow(start: elapsed())
        var lastSavedUpdates = progress.updates
        var last = (validation: elapsed(), save: elapsed())
        var reason: StopReason?
        while reason == nil {
            let agreement = try agreedStop(interrupted: shouldStop(), elapsed: elapsed())
            reason = agreement.reason
            if reason != nil { break }
            let update = progress.updates + 1
            let budgetUsed = options.stopping.budgetUsed(elapsedSeconds: agreement.elapsed, updates: progress.updates)
            stepper.optimizer.learningRate = schedule.rate(atUpdate: update, budgetUsed: budgetUsed)
            let result = try stepper.trainStep(batches: nextBatches(update: update), update: update)
            // A model that predicts worse than twice a uniform guess has left any useful path:
            // stop before its parameters are saved over the last checkpoint.
            let chance = 2 * log(Float(stepper.config.targetVocabularySize))
            guard result.loss <= chance else {
                throw TrainingError.lossAboveChance(update: update, loss: result.loss, chance: chance,
                                                    learningRate: options.learningRate, lastSaved: lastSavedUpdates)
            }
            smoothing?.update(from: stepper.parameters, update: update, threads: stepper.workerCount)
            progress.updates = update
            progress.epoch = iterator.position.epoch + 1
            progress.targetTokensSeen += result.targetTokens
            let now = elapsed()
            window.add(result)
            let record = window.record(at: now, epoch: max(progress.epoch, 1), updates: update,
                                       learningRate: stepper.optimizer.learningRate)
            report(.progress(record))
            if options.displayFrequency.isDue(updates: update, seconds: now, lastSeconds: window.start) {
                report(.report(record))
                window = ReportWindow(start: now)
            }
            if try isDue(options.validFrequency, update: update, now: now, last: last.validation) {
                progress.elapsedSeconds = elapsed()
                try validateAndRecord(onEvent: report)
                last.validation = now
            }
            if try isDue(options.saveFrequency, update: update, now: now, last: last.save) {
                progress.elapsedSeconds = elapsed()
                try save(onEvent: report)
                lastSavedUpdates = update
                last.save = now
            }
        }
        progress.elapsedSeconds = elapsed()
        var validatedSinceSave = false
        if reason != .interrupted, validation != nil,
           progress.validations.last?.updates != progress.updates, progress.updates > 0 {
            try validateAndRecord(onEvent: report)
            validatedSinceSave = true  // the model file's progress must record it
        }
        let unsaved = progress.updates != lastSavedUpdates || validatedSinceSave
            || (communicator.isLeader && !FileManager.default.fileExists(atPath: modelPath))
        if try agreed(unsaved) { try save(onEvent: report) }
        if options.averageLast > 1 && communicator.isLeader { try averageLastCheckpoints(onEvent: report) }
        return reason ?? .interrupted
    }

    /// Averages the newest `options.averageLast` numbered checkpoints into `model.average.s2s`.
    private func averageLastCheckpoints(onEvent: (TrainingEvent) -> Void) throws {
        let snapshots = try CheckpointFiles.numberedSnapshots(of: modelPath).suffix(options.averageLast)
        guard snapshots.count > 1 else { return }
        let path = CheckpointFiles.averagePath(for: modelPath)
        try CheckpointIO.write(CheckpointIO.average(snapshots.map(\.path), s2sVersion: s2sVersion), to: path)
        onEvent(.saved(path: path, best: false))
    }

    /// Whether an event of `frequency`, last at `last` seconds, is due after `update`; by time,
    /// the ranks agree (their clocks differ), since every rank takes part in it.
    private func isDue(_ frequency: Frequency, update: Int, now: Double, last: Double) throws -> Bool {
        let due = frequency.isDue(updates: update, seconds: now, lastSeconds: last)
        if case .seconds = frequency { return try agreed(due) }
        return due
    }

    /// The next update's batches (`options.accumulate` of them), re-segmented for BPE-dropout
    /// by their number in the run.
    private func nextBatches(update: Int) -> [Batch] {
        let count = max(1, options.accumulate)
        return (0..<count).map { k in
            let batch = iterator.next()
            return bpeDropout?.resegment(batch, update: (update - 1) * count + k + 1) ?? batch
        }
    }

    /// Why to stop before the next update, and the run's elapsed time, both the same on every
    /// rank: any rank's interruption or time limit stops them all, and the latest clock is the
    /// run's, so a schedule that reads the time gives every rank the same rate.
    private func agreedStop(interrupted: Bool, elapsed: Double) throws -> (reason: StopReason?, elapsed: Double) {
        // 1-based epoch of the batch about to be drawn.
        let epoch = iterator.position.epoch + (iterator.position.batchIndex >= iterator.batchesInEpoch ? 2 : 1)
        let local = interrupted ? .interrupted
            : options.stopping.reasonToStop(elapsedSeconds: elapsed, epoch: epoch, updates: progress.updates,
                                            stalledValidations: stalledValidations)
        guard communicator.size > 1 else { return (local, elapsed) }
        var agreed = [Double(local.map { StopReason.allCases.firstIndex(of: $0)! + 1 } ?? 0), elapsed]
        try communicator.allReduceMax(&agreed)
        return (agreed[0] == 0 ? nil : StopReason.allCases[Int(agreed[0]) - 1], agreed[1])
    }

    /// Whether any rank says `flag` (every rank gets the same answer).
    private func agreed(_ flag: Bool) throws -> Bool {
        guard communicator.size > 1 else { return flag }
        var value = [flag ? 1.0 : 0.0]
        try communicator.allReduceMax(&value)
        return value[0] > 0
    }

    /// Before the first update: every rank must hold the same vocabulary, corpus and options
    /// (compared by fingerprint), or the job stops naming the first rank that differs.
    private func checkRanksAgree() throws {
        guard communicator.size > 1 else { return }
        let fingerprints = try communicator.allGather([
            stableHash(vocabulary.fingerprint), iterator.corpus.contentFingerprint,
            stableHash(String(decoding: try JSONEncoderForFingerprint.encode(options), as: UTF8.self)
                       + String(decoding: try JSONEncoderForFingerprint.encode(stepper.config), as: UTF8.self)),
        ])
        let names = ["vocabulary", "training corpus", "training options"]
        for (rank, theirs) in fingerprints.enumerated() {
            if let differing = theirs.indices.first(where: { theirs[$0] != fingerprints[0][$0] }) {
                throw DistributedError.rankDiffers(rank: rank, what: names[differing])
            }
        }
    }

    /// Cross-entropy (and BLEU) on the validation set, recorded in `progress`; the best model
    /// by `options.validationMetric` is kept as `model.best.s2s`. Rank 0 validates and tells the others the
    /// result, so every rank's schedule and early stopping stay the same.
    private func validateAndRecord(onEvent: (TrainingEvent) -> Void) throws {
        guard let validation else { return }
        var result = [0.0, .nan]
        if communicator.isLeader {
            let measured = try validate(validation)
            result = [measured.crossEntropy, measured.bleu ?? .nan]
        }
        try communicator.broadcastFromRankZero(&result)
        let crossEntropy = result[0], bleu = result[1].isNaN ? nil : result[1]
        let record = ValidationRecord(updates: progress.updates, epoch: max(progress.epoch, 1),
                                      crossEntropy: crossEntropy, perplexity: exp(crossEntropy),
                                      bleu: bleu, time: progress.elapsedSeconds)
        progress.validations.append(record)
        let metric = options.validationMetric
        let score = metric == .bleu ? bleu ?? 0 : crossEntropy
        schedule.recordValidation(score: metric.loss(crossEntropy: crossEntropy, bleu: bleu))
        let improved = progress.bestScore.map { metric == .bleu ? score > $0 : score < $0 } ?? true
        if improved {
            progress.bestScore = score
            progress.bestUpdates = progress.updates
            progress.bestMetric = metric.rawValue
            stalledValidations = 0
        } else {
            stalledValidations += 1
        }
        onEvent(.validation(TrainingLogRecord(kind: .valid, elapsedSeconds: progress.elapsedSeconds,
                                              epoch: max(progress.epoch, 1), updates: progress.updates,
                                              crossEntropy: crossEntropy, perplexity: exp(crossEntropy),
                                              bleu: bleu), improved: improved))
        if improved && communicator.isLeader {
            let bestPath = CheckpointFiles.bestPath(for: modelPath)
            try CheckpointIO.write(makeCheckpoint(), to: bestPath)
            onEvent(.saved(path: bestPath, best: true))
        }
    }

    /// Validation cross-entropy per target token (without label smoothing or dropout) and,
    /// if enabled, greedy detokenized BLEU against the raw references; on all this process's
    /// workers.
    public func validate(_ validation: ValidationSet) throws -> (crossEntropy: Double, bleu: Double?) {
        let (total, tokens) = try stepper.evaluate(validation.batches, parameters: publishedParameters)
        let crossEntropy = total / Double(max(tokens, 1))
        guard options.validationBLEU else { return (crossEntropy, nil) }
        // Made afresh each time: a decoder packs copies of the parameters as they stand.
        let inference = try Seq2SeqInference(config: stepper.config, parameters: publishedParameters)
        let decoders = [inference] + (1..<stepper.workerCount).map { _ in inference.makeSibling() }
        let translator = Translator(decoders: decoders, options: TranslatorOptions(),
                                    encode: { [vocabulary] in vocabulary.encode($0) },
                                    decode: { [vocabulary] in vocabulary.decode($0) })
        let hypotheses = try translator.translate(validation.sourceLines).map { $0.hypotheses.first?.text ?? "" }
        let bleu = try BLEU.corpusScore(hypotheses: hypotheses, references: [validation.referenceLines])
        return (crossEntropy, bleu.score)
    }

    /// The model as it stands, ready to write.
    public func makeCheckpoint() throws -> Checkpoint {
        let metadata = CheckpointMetadata(config: stepper.config,
                                          vocabulary: EmbeddedVocabulary(text: vocabulary.serialized()),
                                          progress: progress, trainingOptions: try JSONValue(encoding: options),
                                          corpusFingerprint: iterator.corpus.vocabularyFingerprint, s2sVersion: s2sVersion,
                                          languages: languages)
        return Checkpoint(metadata: metadata, parameters: publishedParameters)
    }

    /// Everything beyond the model that the next update depends on.
    public func makeTrainingState() throws -> TrainingState {
        TrainingState(metadata: TrainingStateMetadata(optimizerStep: stepper.optimizer.step,
                                                      scheduler: try JSONValue(encoding: schedule),
                                                      rngStates: [:],
                                                      corpusPosition: try JSONValue(encoding: iterator.position),
                                                      extra: try JSONValue(encoding: ["stalledValidations": stalledValidations])),
                      firstMoment: stepper.optimizer.firstMoment, secondMoment: stepper.optimizer.secondMoment,
                      rawParameters: smoothing == nil ? nil : stepper.parameters)
    }

    /// Writes the model and its training state atomically (rank 0); keeps `options.keep`
    /// numbered copies. Every rank first checks that all ranks hold the same parameters.
    public func save(onEvent: (TrainingEvent) -> Void) throws {
        if communicator.size > 1 {
            let checksums = try communicator.allGather([parameterChecksum(stepper.parameters)])
            guard checksums.allSatisfy({ $0 == checksums[0] }) else {
                throw DistributedError.ranksDiverged(update: progress.updates)
            }
        }
        guard communicator.isLeader else { return }
        try CheckpointIO.save(makeCheckpoint(), state: makeTrainingState(), to: modelPath)
        if options.keep > 0 {
            let numbered = CheckpointFiles.numberedPath(for: modelPath, updates: progress.updates)
            try CheckpointFiles.copy(from: modelPath, to: numbered)
            _ = try CheckpointFiles.rotate(modelPath, keep: options.keep)
        }
        onEvent(.saved(path: modelPath, best: false))
    }
}

/// FNV-1a over the bits of every parameter: equal on two ranks exactly when their parameters are.
func parameterChecksum(_ store: ParameterStore) -> UInt64 {
    store.values.withMemoryRebound(to: UInt32.self) { words in
        words.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}

/// Training failures that are not the model's or the data's own.
public enum TrainerError: Error, CustomStringConvertible, Equatable {
    case vocabularyMismatch(modelPath: String)
    case configMismatch(String)
    /// `--resume` of a model file that does not exist.
    case nothingToResume(modelPath: String)
    /// `--resume` with a vocabulary file that is not the model's.
    case vocabularyFileMismatch(vocabularyPath: String, modelPath: String)
    case validationLineCounts(sourcePath: String, sourceLines: Int, referencePath: String, referenceLines: Int)
    case notEnoughMemory(needed: Int, available: Int, largestBatch: BatchShape)

    public var description: String {
        switch self {
        case let .vocabularyMismatch(path): return "\(path): the training data was encoded with a different vocabulary than this model's"
        case let .configMismatch(reason): return "model and data disagree: \(reason)"
        case let .nothingToResume(path): return "--resume: \(path) does not exist"
        case let .vocabularyFileMismatch(vocabularyPath, modelPath):
            return "--resume: \(vocabularyPath) is not the vocabulary \(modelPath) was trained with"
        case let .validationLineCounts(sourcePath, sourceLines, referencePath, referenceLines):
            return "\(sourcePath) has \(sourceLines) lines but \(referencePath) has \(referenceLines)"
        case let .notEnoughMemory(needed, available, shape):
            return "training needs about \(formatBytes(needed)) for its largest batch (\(shape.summary)) but only "
                + "\(formatBytes(available)) is available: lower --batch-tokens, --max-length or the model size"
        }
    }
}

/// The loss and speed of the updates since the last report.
private struct ReportWindow {
    let start: Double
    var loss = 0.0, tokens = 0

    init(start: Double) { self.start = start }

    mutating func add(_ result: TrainStepResult) {
        loss += Double(result.loss) * Double(result.targetTokens)
        tokens += result.targetTokens
    }

    func record(at now: Double, epoch: Int, updates: Int, learningRate: Float) -> TrainingLogRecord {
        TrainingLogRecord(kind: .train, elapsedSeconds: now, epoch: epoch, updates: updates,
                          loss: loss / Double(max(tokens, 1)),
                          targetTokensPerSecond: Double(tokens) / max(now - start, 1e-9),
                          learningRate: Double(learningRate))
    }
}

/// Options as JSON with sorted keys, so equal options give equal bytes on every rank.
private enum JSONEncoderForFingerprint {
    static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }
}

/// FNV-1a over the UTF-8 bytes of `text`: the same on every machine, unlike `hashValue`.
func stableHash(_ text: String) -> UInt64 {
    text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
}
