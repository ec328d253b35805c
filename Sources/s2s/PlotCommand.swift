import ArgumentParser
import S2SIO
import S2STraining

/// `s2s plot run.jsonl -o curves.svg`: training loss and validation BLEU against time.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw training loss and validation BLEU against time from a --log file, as SVG."
    )

    @Argument(help: "A JSONL log written by `s2s train --log`.")
    var log: String

    @Option(name: .shortAndLong, help: "Output SVG file (written atomically).")
    var output: String

    @Option(help: "Title shown above the curves.")
    var title: String?

    func run() throws {
        runReportingErrors {
            try AtomicFile.checkWritable(output)
            let records = try readTrainingLog(path: log)
            let svg = LearningCurvePlot.svg(records: records, title: title ?? "s2s training: \(log)")
            try AtomicFile.write(text: svg, to: output)
        }
    }
}
