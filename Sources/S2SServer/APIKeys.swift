import Dispatch
import Foundation

/// The keys that may use the server (`--api-keys FILE`), each with an optional request rate,
/// as LibreTranslate's key database holds them. A request without a valid key gets 403; a
/// key past its rate gets 429 until its oldest request of the last minute ages out.
///
/// The file has one key per line, `KEY` or `KEY REQUESTS_PER_MINUTE`; blank lines and lines
/// starting with `#` are skipped.
public final class APIKeys: @unchecked Sendable {
    /// Key → requests per minute (nil: no limit).
    public let limits: [String: Int?]
    private let lock = NSLock()
    /// Key → uptime (ns) of its requests within the last minute, oldest first.
    private var recent: [String: [UInt64]] = [:]

    public init(limits: [String: Int?]) {
        self.limits = limits
    }

    public convenience init(contentsOfFile path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ServerConfigurationError.unreadableAPIKeys(path: path, reason: "cannot be read as UTF-8 text")
        }
        var limits: [String: Int?] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            func problem(_ text: String) -> ServerConfigurationError {
                .invalidAPIKeyLine(path: path, line: index + 1, problem: text)
            }
            guard fields.count <= 2 else { throw problem("expected `KEY` or `KEY REQUESTS_PER_MINUTE`") }
            let key = String(fields[0])
            if limits[key] != nil { throw problem("the key is listed twice") }
            if fields.count == 2 {
                guard let rate = Int(fields[1]), rate > 0 else {
                    throw problem("the rate \"\(fields[1])\" is not a positive number of requests per minute")
                }
                limits[key] = rate
            } else {
                limits[key] = .some(nil)
            }
        }
        if limits.isEmpty { throw ServerConfigurationError.unreadableAPIKeys(path: path, reason: "lists no key") }
        self.init(limits: limits)
    }

    /// Why a key may not make a request now.
    enum Refusal: Equatable {
        case missing
        case invalid
        /// Over its rate; retry after this many seconds.
        case overRate(limit: Int, retryAfter: Int)
    }

    /// Admits one request with `key` (counting it toward the key's rate), or says why not.
    func admit(_ key: String?) -> Refusal? {
        guard let key, !key.isEmpty else { return .missing }
        guard let limit = limits[key] else { return .invalid }
        guard let limit else { return nil }
        let now = DispatchTime.now().uptimeNanoseconds, minute: UInt64 = 60_000_000_000
        lock.lock()
        defer { lock.unlock() }
        var times = recent[key, default: []]
        times.removeAll { now - $0 >= minute }
        guard times.count < limit else {
            let wait = (times[0] + minute - now + 999_999_999) / 1_000_000_000
            recent[key] = times
            return .overRate(limit: limit, retryAfter: Int(max(1, wait)))
        }
        times.append(now)
        recent[key] = times
        return nil
    }
}
