import ArgumentParser
import S2SCheckpoint

/// `s2s info`: what a model file holds — configuration, parameters, vocabulary, training progress.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a model file's configuration, parameter counts, vocabulary sizes and training progress.",
        discussion: "Every checksum is verified first, so a clean report also means an intact file.")

    @Argument(help: "The model file (.s2s).")
    var model: String

    @Flag(help: "Print JSON (keys include parameters, epoch, updates, config, validations, tensors).")
    var json = false

    @Flag(help: "Also list every tensor with its shape and CRC-32C (equal checksums: bit-identical tensors).")
    var tensors = false

    func run() throws {
        runReportingErrors {
            let summary = ModelSummary(try ModelFile(path: model))
            print(json ? try summary.json() : summary.text)
            if tensors && !json { print("tensors\n" + summary.tensorLines) }
        }
    }
}
