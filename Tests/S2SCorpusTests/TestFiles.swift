import Foundation
import XCTest

/// A fresh temporary folder per test, removed afterwards.
final class TemporaryFolder {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "s2s-corpus-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` to `name` in the folder and returns its path.
    @discardableResult
    func write(_ name: String, bytes: [UInt8]) -> String {
        let file = path + "/" + name
        FileManager.default.createFile(atPath: file, contents: Data(bytes))
        return file
    }

    /// Writes `text` (UTF-8) to `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String { write(name, bytes: Array(text.utf8)) }

    /// Writes `text` gzipped to `name` (with the system gzip) and returns its path.
    func writeGzip(_ name: String, _ text: String) -> String {
        let plain = write(name + ".plain", text)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -c '\(plain)' > '\(path)/\(name)'"]
        try! process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "gzip failed")
        return path + "/" + name
    }
}

/// The Multi30k en–fr folder: `$S2S_CORPUS` or `../shared/corpora/multi30k-en-fr` next to the package.
func multi30kFolder(file: StaticString = #filePath, line: UInt = #line) -> String? {
    let folder = ProcessInfo.processInfo.environment["S2S_CORPUS"]
        ?? URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("../shared/corpora/multi30k-en-fr").standardized.path
    guard FileManager.default.fileExists(atPath: folder + "/train.en") else {
        XCTFail("Multi30k not found at \(folder) (set S2S_CORPUS)", file: file, line: line)
        return nil
    }
    return folder
}
