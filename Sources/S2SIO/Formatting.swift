import Foundation

// Numbers as messages and statistics print them.

/// `n` with thousands separators (`28,991`), for messages and statistics.
public func formatCount(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var grouped = ""
    for (i, digit) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { grouped.append(",") }
        grouped.append(digit)
    }
    return n < 0 ? "-" + grouped : grouped
}

/// Formats a byte count as `512 MB` or `3.1 GB` (powers of 1024).
public func formatBytes(_ bytes: Int) -> String {
    let megabytes = Double(bytes) / (1024 * 1024)
    return megabytes < 1024 ? String(format: "%.0f MB", megabytes) : String(format: "%.1f GB", megabytes / 1024)
}
