import Foundation
import Synchronization

/// Progress on stderr: a live, rewritten line when stderr is a terminal; otherwise plain lines
/// at most every `plainInterval` seconds, so logs stay readable; nothing with `--quiet`.
final class ProgressLine {
    private let quiet: Bool
    private let isTerminal: Bool
    private let plainInterval: Double
    private var lastPlain = Date.distantPast
    private var showingLive = false

    init(quiet: Bool, plainInterval: Double = 10) {
        self.quiet = quiet
        self.isTerminal = isatty(STDERR_FILENO) == 1
        self.plainInterval = plainInterval
    }

    /// Shows `text` as the current state; `force` prints a plain line regardless of the interval.
    func update(_ text: String, force: Bool = false) {
        guard !quiet else { return }
        if isTerminal {
            writeStandardError("\r\u{1B}[K" + text)
            showingLive = true
        } else if force || Date().timeIntervalSince(lastPlain) >= plainInterval {
            writeStandardError(text + "\n")
            lastPlain = Date()
        }
    }

    /// Prints a line that stays (a validation result, a checkpoint note), below the live line.
    func note(_ text: String) {
        guard !quiet else { return }
        if showingLive { writeStandardError("\r\u{1B}[K"); showingLive = false }
        writeStandardError(text + "\n")
    }

    /// Ends the live line.
    func finish() {
        if showingLive && !quiet { writeStandardError("\n"); showingLive = false }
    }

    private func writeStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }
}

/// Set by SIGINT/SIGTERM: long jobs finish their current unit of work, save, and exit.
let stopRequested = Atomic<Bool>(false)

/// Installs SIGINT/SIGTERM handlers that only set `stopRequested`; a second signal exits at once.
func installStopSignalHandlers() {
    for signalNumber in [SIGINT, SIGTERM] {
        signal(signalNumber) { _ in
            if stopRequested.exchange(true, ordering: .relaxed) {
                _exit(ExitStatus.interrupted)
            }
        }
    }
}

/// Formats seconds as `1h02m`, `12m05s` or `42s`.
func formatDuration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    if total >= 3600 { return String(format: "%dh%02dm", total / 3600, (total % 3600) / 60) }
    if total >= 60 { return String(format: "%dm%02ds", total / 60, total % 60) }
    return "\(total)s"
}
