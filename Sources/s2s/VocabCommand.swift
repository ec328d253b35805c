import ArgumentParser
import Foundation
import S2SIO
import S2SSubword

extension TextNormalization: ExpressibleByArgument {}

/// `s2s vocab`: learns a joint BPE vocabulary on raw text.
struct VocabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocab",
        abstract: "Learn a joint BPE subword vocabulary on raw (untokenised) text.",
        discussion: """
        Text is NFKC-normalised (unless --normalization none), whitespace runs collapse to one \
        space, and each word gets a leading '▁'. The vocabulary always holds <pad> <unk> <s> </s> \
        and the 256 byte pieces, so any UTF-8 line encodes without <unk>.
        """)

    @Argument(help: "Training text files (plain or gzip; '-' for stdin).")
    var files: [String]

    @Option(name: .shortAndLong, help: "Output vocabulary file (written atomically).")
    var output: String

    // `--vocab-size` is what `s2s train` calls the same number.
    @Option(name: [.customLong("size"), .customLong("vocab-size")],
            help: "Total pieces, including 4 reserved symbols and 256 byte pieces.")
    var size = SubwordVocabulary.LearnOptions().size

    @Option(help: "Never merge a pair seen fewer times than this.")
    var minFrequency = SubwordVocabulary.LearnOptions().minFrequency

    @Option(help: "Share of character occurrences the alphabet must cover; rarer characters use byte pieces.")
    var characterCoverage = SubwordVocabulary.LearnOptions().characterCoverage

    @Option(help: "Unicode normalisation: nfkc or none.")
    var normalization = SubwordVocabulary.LearnOptions().normalization

    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of failing.")
    var lossy = false

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func run() throws {
        runReportingErrors {
            let options = SubwordVocabulary.LearnOptions(
                size: size, minFrequency: minFrequency, characterCoverage: characterCoverage,
                normalization: normalization, lossy: lossy)
            try options.validate()
            try AtomicFile.checkWritable(output, notAnyOf: files)
            let started = Date()
            let vocabulary = try SubwordVocabulary.learn(files: files, options: options)
            try vocabulary.write(to: output)
            if !quiet {
                let seconds = Date().timeIntervalSince(started)
                printToStandardError("s2s vocab: \(vocabulary.size) pieces in \(String(format: "%.2f", seconds)) s → \(output) (fingerprint \(vocabulary.fingerprint))")
            }
        }
    }
}
