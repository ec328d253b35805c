/// Decides when training ends: by time, epochs, updates, or validations without improvement.
public struct StoppingRule: Codable, Equatable, Sendable {
    /// Wall-clock budget in seconds (`--time-limit`), or nil for none.
    public var timeLimitSeconds: Double?
    /// Last epoch to train (`--max-epochs`), or nil.
    public var maxEpochs: Int?
    /// Last update (`--max-updates`), or nil.
    public var maxUpdates: Int?
    /// Stop after this many validations without improvement (`--early-stopping`), or nil.
    public var patience: Int?

    public init(timeLimitSeconds: Double? = nil, maxEpochs: Int? = nil, maxUpdates: Int? = nil, patience: Int? = nil) {
        self.timeLimitSeconds = timeLimitSeconds
        self.maxEpochs = maxEpochs
        self.maxUpdates = maxUpdates
        self.patience = patience
    }

    /// Why training should stop now, or nil to go on. `epoch` is the epoch about to be trained
    /// (1-based); `stalledValidations` counts validations since the best one.
    public func reasonToStop(elapsedSeconds: Double, epoch: Int, updates: Int, stalledValidations: Int) -> StopReason? {
        if let limit = timeLimitSeconds, elapsedSeconds >= limit { return .timeLimit }
        if let maxUpdates, updates >= maxUpdates { return .maxUpdates }
        if let maxEpochs, epoch > maxEpochs { return .maxEpochs }
        if let patience, stalledValidations >= patience { return .earlyStopping }
        return nil
    }

    /// The share of the run's budget spent after `elapsedSeconds` and `updates`: the larger of
    /// the time and update shares, since whichever limit comes first ends the run (0 with no
    /// budget, at most 1).
    public func budgetUsed(elapsedSeconds: Double, updates: Int) -> Double {
        var used = 0.0
        if let limit = timeLimitSeconds, limit > 0 { used = max(used, elapsedSeconds / limit) }
        if let maxUpdates, maxUpdates > 0 { used = max(used, Double(updates) / Double(maxUpdates)) }
        return min(used, 1)
    }
}

/// Why a training run ended.
public enum StopReason: String, Codable, Sendable, CaseIterable {
    case timeLimit = "time limit"
    case maxUpdates = "max updates"
    case maxEpochs = "max epochs"
    case earlyStopping = "early stopping"
    case interrupted = "interrupted"
}

/// Parses a duration such as `30m`, `1h30m`, `90s`, `2h`, or a bare number of minutes.
public func parseDuration(_ text: String) -> Double? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if let minutes = Double(trimmed) { return minutes >= 0 ? minutes * 60 : nil }
    var total = 0.0
    var number = ""
    var sawUnit = false
    for character in trimmed {
        if character.isNumber || character == "." {
            number.append(character)
            continue
        }
        guard let value = Double(number), value >= 0 else { return nil }
        switch character {
        case "h": total += value * 3600
        case "m": total += value * 60
        case "s": total += value
        default: return nil
        }
        number = ""
        sawUnit = true
    }
    return number.isEmpty && sawUnit ? total : nil
}

import Foundation
