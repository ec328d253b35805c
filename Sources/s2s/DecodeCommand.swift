import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import S2SIO
import S2SSubword

/// `s2s decode`: subword pieces (or ids) → text, one line in, one line out.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Join subword pieces (or ids) back into text, one line in, one line out.")

    @Option(name: [.customShort("v"), .customLong("vocab")], help: "Vocabulary file from 's2s vocab'.")
    var vocab: String

    @Flag(help: "Read ids instead of pieces.")
    var ids = false

    @Argument(help: "Input files (default: stdin).")
    var files: [String] = []

    func run() throws {
        runReportingErrors {
            let vocabulary = try SubwordVocabulary(contentsOfFile: vocab)
            var stdout = FileWriter(fileDescriptor: STDOUT_FILENO, name: "<stdout>")
            var lineIds: [Int32] = []
            for path in files.isEmpty ? ["-"] : files {
                let reader = try LineReader(path: path)
                while let line = try reader.nextLine() {
                    lineIds.removeAll(keepingCapacity: true)
                    for token in line.split(separator: " ", omittingEmptySubsequences: true) {
                        let id: Int32? = ids ? Int32(token).flatMap { $0 >= 0 && Int($0) < vocabulary.size ? $0 : nil }
                                             : vocabulary.id(for: String(token))
                        guard let id else {
                            throw SubwordError.unknownPiece(path: reader.name, line: reader.lineNumber, piece: String(token))
                        }
                        lineIds.append(id)
                    }
                    try stdout.write(vocabulary.decode(lineIds) + "\n")
                    if !reader.canReadWithoutBlocking() { try stdout.flush() }
                }
            }
            try stdout.flush()
        }
    }
}
