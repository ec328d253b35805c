import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import S2SIO
import S2SSubword
import S2SCore

/// `s2s encode`: text → subword pieces (or ids), one line in, one line out.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Split text into subword pieces (or ids), one line in, one line out.")

    @Option(name: [.customShort("v"), .customLong("vocab")], help: "Vocabulary file from 's2s vocab'.")
    var vocab: String

    @Flag(help: "Print ids instead of pieces.")
    var ids = false

    @Option(help: "BPE-dropout: skip each applicable merge with this probability.")
    var dropout: Float = 0

    @Option(help: "Random seed for --dropout.")
    var seed: UInt64 = 1

    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of failing.")
    var lossy = false

    @Argument(help: "Input files (default: stdin).")
    var files: [String] = []

    func validate() throws {
        guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1)") }
    }

    func run() throws {
        runReportingErrors {
            let vocabulary = try SubwordVocabulary(contentsOfFile: vocab)
            let encoder = vocabulary.makeEncoder()
            var rng = SeededRNG(seed: seed)
            var stdout = FileWriter(fileDescriptor: STDOUT_FILENO, name: "<stdout>")
            var lineIds: [Int32] = []
            var output: [UInt8] = []
            for path in files.isEmpty ? ["-"] : files {
                let reader = try LineReader(path: path)
                while let bytes = try reader.nextLineBytes() {
                    lineIds.removeAll(keepingCapacity: true)
                    if dropout == 0, bytes.allSatisfy({ $0 < 0x80 }) {
                        encoder.encode(utf8: bytes, into: &lineIds)  // ASCII: valid, no String needed
                    } else {
                        let decoded = String(validating: bytes, as: UTF8.self)
                            ?? (lossy ? String(decoding: bytes, as: UTF8.self) : nil)
                        guard let line = decoded else {
                            throw IOError.invalidUTF8(path: reader.name, line: reader.lineNumber)
                        }
                        if dropout > 0 {
                            lineIds = encoder.encode(line, dropout: dropout, rng: &rng)
                        } else {
                            encoder.encode(line, into: &lineIds)
                        }
                    }
                    output.removeAll(keepingCapacity: true)
                    if ids {
                        appendDecimalList(lineIds, to: &output)
                    } else {
                        vocabulary.appendPieceText(of: lineIds, to: &output)
                    }
                    output.append(0x0A)
                    try stdout.write(output)
                    // Interactive use: flush when the next line is not already waiting.
                    if !reader.canReadWithoutBlocking() { try stdout.flush() }
                }
            }
            try stdout.flush()
        }
    }
}

/// Appends `values` as decimal numbers separated by single spaces.
func appendDecimalList(_ values: [Int32], to output: inout [UInt8]) {
    var digits: [UInt8] = []
    for (position, value) in values.enumerated() {
        if position > 0 { output.append(0x20) }
        var remaining = Int(value)
        if remaining < 0 { output.append(0x2D); remaining = -remaining }
        digits.removeAll(keepingCapacity: true)
        repeat { digits.append(UInt8(0x30 + remaining % 10)); remaining /= 10 } while remaining > 0
        output.append(contentsOf: digits.reversed())
    }
}
