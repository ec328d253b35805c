import ArgumentParser
import S2SCorpus
import S2SIO

/// `s2s prepare`: read, check, filter and encode a bitext once, into a file training maps directly.
struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Encode and filter a parallel corpus once into a prepared corpus file (.s2sd) for 's2s train --data'.")

    @OptionGroup var corpus: CorpusTextOptions

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Prepared corpus to write (atomically).", valueName: "FILE"))
    var outputPath: String

    @Flag(name: .customLong("quiet"), help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        if corpus.input == nil { throw ValidationError("no corpus: give SRC TGT or --tsv FILE") }
        if corpus.vocabularyPath == nil { throw ValidationError("missing vocabulary: -v FILE") }
    }

    func run() {
        runReportingErrors {
            // Fail before the long load if the output cannot be written.
            try AtomicFile.checkWritable(outputPath, notAnyOf: corpus.inputPaths)
            AtomicFile.removeLeftoverTemporaries(of: outputPath)
            let loaded = try loadTextCorpus(corpus, encoder: try loadSentenceEncoder(path: corpus.vocabularyPath!), quiet: quiet)
            try PreparedCorpus.write(loaded, inputName: corpus.input?.name ?? "", to: outputPath)
            print(corpusSummary(loaded))
        }
    }
}
