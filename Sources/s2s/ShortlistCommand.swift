import ArgumentParser
import S2SCheckpoint
import S2SCorpus
import S2SIO
import S2SSubword
import S2STraining

/// `s2s shortlist SRC TGT -m model.s2s -o out.s2s`: learn a lexical shortlist from a parallel
/// corpus (IBM Model 1) and store it in a copy of the model, for `translate --shortlist`.
struct ShortlistCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shortlist",
        abstract: "Learn a lexical shortlist (IBM Model 1) from a parallel corpus into a copy of a model.",
        discussion: """
        For each source piece the target pieces most likely to translate it are kept, with the most \
        frequent target pieces; `translate --shortlist` then computes the output layer over the \
        union of a batch's lists only. The corpus is encoded with the model's own vocabulary.
        """)

    @OptionGroup var corpus: CorpusTextOptions

    @Option(name: .shortAndLong, help: "The model the shortlist is for.")
    var model: String

    @Option(name: [.customShort("o"), .customLong("output")], help: "The model with its shortlist to write (atomically).")
    var output: String

    @Option(name: .customLong("per-source"), help: "Target pieces kept per source piece.")
    var perSource = ShortlistLearner.Options().perSource

    @Option(help: "Most frequent target pieces always kept.")
    var frequent = ShortlistLearner.Options().frequent

    @Option(help: "IBM Model 1 EM iterations.")
    var iterations = ShortlistLearner.Options().iterations

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        if corpus.input == nil { throw ValidationError("no corpus: give SRC TGT or --tsv FILE") }
        if corpus.vocabularyPath != nil { throw ValidationError("the model's own vocabulary encodes the corpus: drop -v") }
        if perSource < 1 || frequent < 0 || iterations < 1 {
            throw ValidationError("--per-source and --iterations must be positive, --frequent at least 0")
        }
    }

    func run() {
        runReportingErrors {
            try AtomicFile.checkWritable(output, notAnyOf: corpus.inputPaths + [model])
            var checkpoint = try CheckpointIO.read(from: model)
            let vocabulary = try SubwordVocabulary(serialized: checkpoint.vocabulary.text, name: model)
            let pairs = try loadTextCorpus(corpus, encoder: vocabulary, quiet: quiet)
            var options = ShortlistLearner.Options()
            options.perSource = perSource
            options.frequent = frequent
            options.iterations = iterations
            checkpoint.shortlist = try ShortlistLearner.learn(corpus: pairs, sourceVocabularySize: checkpoint.config.sourceVocabularySize,
                                                              targetVocabularySize: checkpoint.config.targetVocabularySize,
                                                              options: options)
            try CheckpointIO.write(checkpoint, to: output)
            if !quiet {
                printToStandardError("s2s shortlist: \(formatCount(checkpoint.shortlist?.targets.count ?? 0)) target pieces listed for "
                                     + "\(formatCount(checkpoint.config.sourceVocabularySize)) source pieces → \(output)")
            }
        }
    }
}
