import ArgumentParser
import Foundation
import S2SCorpus

/// `s2s train`: train a model. For now only the data side exists: `--dry-run` loads, checks,
/// filters and batches the corpus and prints its statistics.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a translation model on a parallel corpus.")

    @OptionGroup var data: TrainingDataOptions

    @Flag(name: .customLong("dry-run"), help: "Load, check, filter and batch the data, print statistics, and stop before training.")
    var dryRun = false

    @Flag(name: .customLong("quiet"), help: "No progress on stderr.")
    var quiet = false

    func run() {
        runReportingErrors {
            guard dryRun else { throw CorpusCommandError.trainingNotAvailable }
            let clock = ContinuousClock()
            let start = clock.now
            let corpus = try data.loadCorpus(quiet: quiet)
            let loaded = clock.now - start
            let iterator = try BatchIterator(corpus: corpus, options: data.batching.options)
            let batches = iterator.epochStatistics()
            print(corpusSummary(corpus))
            print(batchingSummary(batches, options: data.batching.options))
            let seconds = Double(loaded.components.seconds) + Double(loaded.components.attoseconds) * 1e-18
            let rate = data.preparedPath == nil ? String(format: " (%@ pairs/s)", formatCount(Int(Double(corpus.statistics.pairsRead) / max(seconds, 1e-9)))) : " (prepared file, mapped)"
            print(String(format: "load time          %.3f s", seconds) + rate)
        }
    }
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
