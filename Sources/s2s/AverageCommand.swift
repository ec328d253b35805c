import ArgumentParser
import S2SCheckpoint
import S2SIO

/// `s2s average`: checkpoint averaging, the element-wise mean of several models' parameters.
struct AverageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "average",
        abstract: "Average the parameters of models with the same configuration, layout and vocabulary.",
        discussion: "Training progress and options are taken from the last model. The output is written atomically.")

    @Argument(help: "Model files to average (.s2s), usually the last few numbered checkpoints of one run.")
    var models: [String]

    @Option(name: .shortAndLong, help: "The averaged model file to write.")
    var output: String

    @Flag(help: "Do not report progress on stderr.")
    var quiet = false

    func validate() throws {
        if models.isEmpty { throw ValidationError("give at least one model file to average") }
    }

    func run() throws {
        runReportingErrors {
            try AtomicFile.checkWritable(output, notAnyOf: models)
            AtomicFile.removeLeftoverTemporaries(of: output)
            let average = try CheckpointIO.average(models, s2sVersion: S2SVersion.string)
            try CheckpointIO.write(average, to: output)
            if !quiet {
                printToStandardError("s2s average: \(models.count) models → \(output) (\(average.parameters.parameterCount) parameters)")
            }
        }
    }
}
