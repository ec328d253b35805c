import ArgumentParser
import Foundation
import S2SDistributed
import S2SIO
#if canImport(Glibc)
import Glibc
#endif

/// Exit statuses shared by every subcommand.
enum ExitStatus {
    /// Bad input or a failed operation: the message says which file and what is wrong.
    static let failure: Int32 = 1
    /// Training stopped by SIGINT/SIGTERM after writing a checkpoint (distinct from errors).
    static let interrupted: Int32 = 130
}

/// A failure the command line finds while running (not a misuse of its options, which is a
/// `ValidationError` and is followed by the usage text).
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Prints `error` as one line on stderr (`s2s: error: …`) and exits non-zero. Library errors
/// describe themselves (file, line, problem) through CustomStringConvertible; only usage errors
/// (`ValidationError`, thrown by `validate()`) are followed by the usage text.
func reportAndExit(_ error: Error) -> Never {
    if error is ExitCode || error is CleanExit || error is ValidationError {
        S2S.exit(withError: error)
    }
    let message = String(describing: error).replacingOccurrences(of: "\n", with: " ")
    if let job = distributedJob, job.size > 1 {
        // Every rank finds a disagreement between ranks at the same point: rank 0 reports it and
        // all end normally. Any other failure is this rank's alone: the others would wait for
        // it in their next collective, so the whole job is aborted.
        if case DistributedError.rankDiffers = error {
            if job.isLeader { printToStandardError("s2s: error: \(message)") }
            exit(ExitStatus.failure)
        }
        printToStandardError("s2s: error: rank \(job.rank): \(message)")
        job.abortJob(exitCode: ExitStatus.failure)
    }
    printToStandardError("s2s: error: \(message)")
    exit(ExitStatus.failure)
}

/// The ranks of the running training job (set by `s2s train`), for `reportAndExit`.
nonisolated(unsafe) var distributedJob: Communicator?

/// Runs `body`, turning any thrown error into a one-line message and a non-zero exit. What
/// `print` left buffered is flushed here, so that a result that could not be written — stdout
/// on a full disk or `/dev/full` — fails the command instead of vanishing with exit 0.
func runReportingErrors(_ body: () throws -> Void) {
    do {
        try body()
        // fflush(NULL) flushes every output stream — stdout is the one `print` fills — and
        // fails if a write does (a failed write leaves its bytes buffered, so this write fails too).
        if fflush(nil) != 0 {
            throw IOError.cannotWrite(path: "<stdout>", reason: systemErrorMessage(errno))
        }
    } catch { reportAndExit(error) }
}

/// Writes `line` and a newline to stderr, unbuffered (diagnostics never go to stdout).
func printToStandardError(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
}
