import Foundation

/// How often something recurs during training: every N updates, or every so much training time
/// (Marian's `--disp-freq 500u` / `--valid-freq 5m` style).
public enum Frequency: Codable, Equatable, Sendable, CustomStringConvertible {
    case updates(Int)
    case seconds(Double)

    /// Parses `500`, `500u` (updates) or a duration with a unit: `90s`, `5m`, `1h30m`.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.hasSuffix("u") ? String(trimmed.dropLast()) : trimmed
        if let count = Int(digits) {
            guard count > 0 else { return nil }
            self = .updates(count)
            return
        }
        guard let seconds = parseDuration(trimmed), seconds > 0, Double(trimmed) == nil else { return nil }
        self = .seconds(seconds)
    }

    /// Whether an event last due at `lastSeconds` of training time is due again after update
    /// `updates` at `seconds`.
    public func isDue(updates: Int, seconds: Double, lastSeconds: Double) -> Bool {
        switch self {
        case let .updates(every): return updates % every == 0
        case let .seconds(every): return seconds - lastSeconds >= every
        }
    }

    public var description: String {
        switch self {
        case let .updates(count): return "\(count)u"
        case let .seconds(seconds): return seconds.rounded() == seconds ? "\(Int(seconds))s" : "\(seconds)s"
        }
    }
}
