import Foundation
import XCTest

/// Every command in the README's code blocks runs, as written, on the sample data (data/sample),
/// in order, in one scratch folder, and exits 0. The only change: `s2s train` runs 2 updates of
/// a tiny network (a wrapper appends `--max-updates 2 --emb 16 --hidden 16 --attention 16`), so
/// that `--time-limit 30m` does not mean 30 minutes. Commands that need what a test cannot own
/// here are listed in `elsewhere`, each with the test that covers it, and the list must match.
final class ReadmeCommandTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Command prefixes run by other tests (or by CI itself), not here.
    private static let elsewhere: [String: String] = [
        "make ": "make test is CI; make install: InstallTests; make demo: the demo itself",
        "mpirun ": "DistributedTrainingTests",
        "s2s serve ": "ServeCommandTests (it serves until stopped)",
        "curl ": "ServeCommandTests (needs a running server)",
        "scripts/": "benchmarks, run by make bench",
        "s2s bench ": "BenchCommandTests",
    ]

    /// The README's shell commands: lines of its code blocks that start with a command, with
    /// `\` continuations joined and a `$ ` prompt dropped.
    private func readmeCommands() throws -> [String] {
        let text = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        var commands: [String] = []
        for block in text.matches(of: try Regex(#"```(?:sh)?\n([\s\S]*?)```"#)) {
            var pending = ""
            for rawLine in String(block.output[1].substring!).split(separator: "\n", omittingEmptySubsequences: false) {
                var line = String(rawLine)
                if line.hasPrefix("$ ") { line.removeFirst(2) }
                if pending.isEmpty {
                    let starts = ["s2s ", "echo ", "paste ", "make ", "mpirun ", "curl ", "scripts/"]
                    guard starts.contains(where: line.hasPrefix) else { continue }
                }
                if line.hasSuffix("\\") {
                    pending += line.dropLast() + " "
                } else {
                    commands.append(pending + line)
                    pending = ""
                }
            }
        }
        return commands
    }

    func testEveryReadmeCommandRunsOnTheSampleData() throws {
        let commands = try readmeCommands()
        XCTAssertGreaterThan(commands.count, 40, "the README's commands were read")
        let work = NSTemporaryDirectory() + "s2s-readme-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work + "/bin", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let sample = Self.root.appendingPathComponent("data/sample").path
        let copies: [(String, String)] = [
            ("train.en", "corpus.en"), ("train.fr", "corpus.fr"), ("train.en", "train.en"), ("train.fr", "train.fr"),
            ("test.en", "val.en"), ("test.fr", "val.fr"), ("test.en", "in.en"), ("test.fr", "in.fr"),
            ("test.en", "test.en"), ("test.fr", "test.fr"), ("test.fr", "ref.fr"), ("test.fr", "ref1.fr"),
            ("test.fr", "ref2.fr"), ("test.fr", "hyp.fr"), ("test.fr", "base.fr"), ("test.fr", "new.fr"),
            ("test.fr", "other.fr"),
        ]
        for (from, to) in copies {
            try FileManager.default.copyItem(atPath: sample + "/" + from, toPath: work + "/" + to)
        }
        let wrapper = """
        #!/bin/bash
        if [ "$1" = train ]; then exec '\(try s2sBinary().path)' "$@" --max-updates 2 --emb 16 --hidden 16 --attention 16; fi
        exec '\(try s2sBinary().path)' "$@"
        """
        try wrapper.write(toFile: work + "/bin/s2s", atomically: true, encoding: .utf8)
        chmod(work + "/bin/s2s", 0o755)
        func sh(_ command: String) throws -> (status: Int32, stdout: String, stderr: String) {
            try runProgram(URL(fileURLWithPath: "/bin/bash"), ["-o", "pipefail", "-c", "cd '\(work)' && " + command],
                           environment: ["PATH": work + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")])
        }
        // The models the commands read before any of them writes one: the pipeline's own, and
        // copies standing for an ensemble's second model and a run's numbered snapshots.
        XCTAssertEqual(try sh("s2s train corpus.en corpus.fr -o model.s2s --quiet").status, 0)
        for copy in ["a.s2s", "b.s2s", "model.s2s.iter8000", "model.s2s.iter9000", "model.s2s.iter10000"] {
            try FileManager.default.copyItem(atPath: work + "/model.s2s", toPath: work + "/" + copy)
        }

        var ran = 0, skipped: Set<String> = []
        for command in commands {
            if let prefix = Self.elsewhere.keys.first(where: command.hasPrefix) {
                skipped.insert(prefix)
                continue
            }
            // `[-v vocab.s2sv]` is the README's notation for an optional argument.
            let runnable = command.replacing(try Regex(#"\[(--?[a-z][^\]]*)\]"#)) { String($0.output[1].substring!) }
            let run = try sh(runnable)
            XCTAssertEqual(run.status, 0, "README: \(command)\n\(run.stderr)")
            ran += 1
        }
        XCTAssertEqual(skipped, Set(Self.elsewhere.keys), "every command left to another test is in the README")
        XCTAssertGreaterThan(ran, 25)
        XCTAssertTrue(FileManager.default.fileExists(atPath: work + "/plots/1.svg"), "--attention-plot wrote its pictures")
        XCTAssertTrue(FileManager.default.fileExists(atPath: work + "/listed.s2s"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: work + "/model.avg.s2s"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: work + "/curves.svg"))
    }
}
