import ArgumentParser

/// The `s2s` command: one subcommand per job, each in its own file. This target only parses
/// options and wires library calls together; all behaviour lives in the libraries.
@main
struct S2S: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s2s",
        abstract: "Neural machine translation on a CPU: subword vocabularies, GRU encoder-decoder training, decoding and BLEU.",
        version: S2SVersion.string,
        subcommands: [VocabCommand.self, EncodeCommand.self, DecodeCommand.self, PrepareCommand.self, TrainCommand.self, TranslateCommand.self, Eval.self, InfoCommand.self, AverageCommand.self, ShortlistCommand.self, PlotCommand.self, ServeCommand.self, Bench.self]
    )

    /// Entry point: fast BLAS kernels first (this may restart the process), then the command.
    static func main() {
        BLASKernels.restartWithFastKernelsIfNeeded()
        main(OptionalValueOptions.expand(Array(CommandLine.arguments.dropFirst())))
    }
}

enum S2SVersion {
    static let string = "0.1.0"
}
