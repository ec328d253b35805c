import Foundation
import XCTest

/// Locates Multi30k for tests: `$S2S_CORPUS`, else `../shared/corpora/multi30k-en-fr` next to
/// the package root. Tests fail (never skip) when it is missing.
enum TestCorpus {
    static var directory: String {
        if let fromEnvironment = ProcessInfo.processInfo.environment["S2S_CORPUS"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.appendingPathComponent("../shared/corpora/multi30k-en-fr").standardizedFileURL.path
    }

    /// Path of a corpus file, failing the test when it is absent.
    static func path(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let path = directory + "/" + name
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("Multi30k file \(path) is missing: run scripts/fetch-multi30k.sh or set S2S_CORPUS", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        return path
    }

    /// The lines of a corpus file (at most `limit`).
    static func lines(_ name: String, limit: Int = .max) throws -> [String] {
        let text = try String(contentsOfFile: try path(name), encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return Array(lines.prefix(limit))
    }
}
