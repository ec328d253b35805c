import Foundation
import XCTest

/// The `s2s` binary built next to the test bundle (Linux: …/debug/s2sPackageTests.xctest).
func s2sBinary() throws -> URL {
    let candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
                      URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        .map { $0.appendingPathComponent("s2s") }
    return try XCTUnwrap(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
                         "no s2s binary in \(candidates.map(\.path))")
}

/// Starts `s2s arguments` with stdin, stdout and stderr discarded.
func startS2S(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = try s2sBinary()
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// Runs `s2s arguments` with `input` on stdin; returns its status and output.
func runS2S(_ arguments: [String], input: String = "") throws -> (status: Int32, stdout: String, stderr: String) {
    try runProgram(try s2sBinary(), arguments, input: input)
}

/// Runs `executable arguments` (with `environment` added to this process's) and `input` on
/// stdin; returns its status and output.
func runProgram(_ executable: URL, _ arguments: [String], input: String = "",
         environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    // Read stderr on another thread so neither pipe can fill up and block the child.
    final class Box: @unchecked Sendable { var data = Data() }
    let errorBox = Box()
    let errorDone = DispatchSemaphore(value: 0)
    let errorHandle = stderr.fileHandleForReading
    DispatchQueue.global().async {
        errorBox.data = errorHandle.readDataToEndOfFile()
        errorDone.signal()
    }
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    errorDone.wait()
    let errorData = errorBox.data
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}
