import ArgumentParser
import S2SIO
import S2STraining

/// `s2s plot run.jsonl [other.jsonl …] -o curves.svg`: training loss and validation BLEU
/// against time, one curve per log.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw training loss and validation BLEU against time from --log files, as SVG (one curve per log)."
    )

    @Argument(help: "JSONL logs written by `s2s train --log` (or in its format).")
    var logs: [String]

    @Option(name: .customLong("label"), help: "A log's name in the legend (once per log, in order; default: the file name).")
    var labels: [String] = []

    @Option(name: .shortAndLong, help: "Output SVG file (written atomically).")
    var output: String

    @Option(help: "Title shown above the curves.")
    var title: String?

    func validate() throws {
        if logs.isEmpty { throw ValidationError("give at least one log") }
        if !labels.isEmpty && labels.count != logs.count {
            throw ValidationError("give one --label per log (\(logs.count)), or none")
        }
    }

    func run() throws {
        runReportingErrors {
            try AtomicFile.checkWritable(output, notAnyOf: logs)
            let runs = try logs.enumerated().map { index, log in
                (name: labels.isEmpty ? log : labels[index], records: try readTrainingLog(path: log))
            }
            let svg = LearningCurvePlot.svg(runs: runs, title: title ?? "s2s training: \(logs.joined(separator: ", "))")
            try AtomicFile.write(text: svg, to: output)
        }
    }
}
