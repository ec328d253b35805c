@testable import s2s
import Foundation
import XCTest

/// What `make install` puts beside the binary: shell completions that know every subcommand
/// and complete as a shell would, and a man page that lists every option of every subcommand.
final class InstallTests: XCTestCase {
    private var work = ""

    override func setUpWithError() throws {
        work = NSTemporaryDirectory() + "s2s-install-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private var subcommands: [String] {
        S2S.configuration.subcommands.map { $0._commandName }
    }

    func testCompletionScriptsNameEverySubcommand() throws {
        XCTAssertGreaterThan(subcommands.count, 12)
        for shell in ["bash", "zsh", "fish"] {
            let script = try runS2S(["--generate-completion-script", shell])
            XCTAssertEqual(script.status, 0, script.stderr)
            for name in subcommands {
                XCTAssertTrue(script.stdout.contains(name), "\(shell) completion lacks \(name)")
            }
        }
    }

    /// Bash, given the script, completes `s2s tr<TAB>` to `train translate` and
    /// `s2s translate --n-<TAB>` to `--n-best`.
    func testBashCompletesSubcommandsAndOptions() throws {
        let script = try runS2S(["--generate-completion-script", "bash"])
        try script.stdout.write(toFile: work + "/s2s.bash", atomically: true, encoding: .utf8)
        func complete(_ words: [String]) throws -> String {
            let line = words.joined(separator: " ")
            let program = """
            source '\(work)/s2s.bash'
            COMP_WORDS=(\(words.joined(separator: " "))); COMP_CWORD=\(words.count - 1)
            COMP_LINE='\(line)'; COMP_POINT=\(line.count)
            _s2s s2s '\(words.last!)' '\(words[words.count - 2])'
            echo "${COMPREPLY[*]}"
            """
            let run = try runProgram(URL(fileURLWithPath: "/bin/bash"), ["-c", program])
            XCTAssertEqual(run.status, 0, run.stderr)
            return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        XCTAssertEqual(try complete(["s2s", "tr"]), "train translate")
        XCTAssertEqual(try complete(["s2s", "translate", "--n-"]), "--n-best")
        XCTAssertEqual(try complete(["s2s", "se"]), "serve")
    }

    /// The man page that `make install` writes (with the argument parser's generate-manual,
    /// which `make test` builds beside s2s) renders, and names every option of every
    /// subcommand that `--help` shows.
    func testManualListsEveryOption() throws {
        let binary = try s2sBinary()
        let generator = binary.deletingLastPathComponent().appendingPathComponent("generate-manual")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: generator.path),
                      "no \(generator.path): `make test` builds it (make manual-tool)")
        let generated = try runProgram(generator, [binary.path, "--output-directory", work])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let page = try String(contentsOfFile: work + "/s2s.1", encoding: .utf8)

        let dump = try runS2S(["--experimental-dump-help"])
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        var missing: [String] = [], options = 0
        func visit(_ command: [String: Any], path: String) {
            for argument in command["arguments"] as? [[String: Any]] ?? [] where argument["shouldDisplay"] as? Bool ?? true {
                for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                    let long = name["name"] as? String ?? ""
                    options += 1
                    if !page.contains("Fl -\(long)") && !page.contains(", -\(long)") { missing.append("\(path) --\(long)") }
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                visit(sub, path: path + " " + (sub["commandName"] as? String ?? "?"))
            }
        }
        visit(try XCTUnwrap(root["command"] as? [String: Any]), path: "s2s")
        XCTAssertGreaterThan(options, 150, "the help dump was read")
        XCTAssertEqual(missing, [], "options the man page does not list")
        for name in subcommands { XCTAssertTrue(page.contains(".It Em \(name)\n"), "the man page lacks the subcommand \(name)") }

        let rendered = try runProgram(URL(fileURLWithPath: "/usr/bin/man"), ["-l", work + "/s2s.1"],
                                      environment: ["MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "100"])
        XCTAssertEqual(rendered.status, 0, rendered.stderr)
        XCTAssertTrue(rendered.stdout.contains("--max-request-bytes"), String(rendered.stdout.prefix(500)))
    }
}
