/// The learning rate at each update: linear warmup, then a decay.
///
/// - `inverseSqrt`: lr = base · min(u / warmup, √(warmup / u)) — Vaswani et al. 2017, Marian's
///   `--lr-decay-inv-sqrt`; a warmup of 0 means the rate starts at `base` and decays from update 1.
/// - `plateau`: the rate is multiplied by `plateauFactor` after every `plateauPatience`
///   validations without improvement (Marian's `--lr-decay-strategy stalled`).
/// - `constant`: base after warmup.
/// - `linear`: base · (1 − b), where b is the share of the run's budget (`--time-limit` or
///   `--max-updates`) already spent, so the rate reaches 0 as the run ends. A run that knows
///   its length does best to anneal over exactly that length (Li, Yumer and Ramanan 2020,
///   "Budgeted training"), and a 30-minute run never reaches a plateau for `plateau` to act on.
///
/// The schedule is a value whose whole state is Codable, so a resumed run continues it exactly.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public enum Decay: String, Codable, Sendable, CaseIterable {
        case inverseSqrt = "inverse-sqrt"
        case plateau
        case constant
        case linear
    }

    /// Peak learning rate, reached at the end of warmup.
    public var baseRate: Float
    /// Updates of linear warmup from 0 to `baseRate`.
    public var warmupUpdates: Int
    /// What happens after warmup.
    public var decay: Decay
    /// Multiplier applied on a plateau.
    public var plateauFactor: Float = 0.5
    /// Validations without improvement that make a plateau.
    public var plateauPatience: Int = 2

    /// Current plateau multiplier (1 until the first plateau).
    public private(set) var plateauScale: Float = 1
    /// Validations since the best score, for plateau detection.
    public private(set) var validationsSinceBest = 0
    /// Best validation score seen (lower is better: cross-entropy).
    public private(set) var bestScore: Double?

    public init(baseRate: Float, warmupUpdates: Int, decay: Decay) {
        self.baseRate = baseRate
        self.warmupUpdates = warmupUpdates
        self.decay = decay
    }

    /// The rate for update `update` (1-based: the first update is 1); `budgetUsed` is the share
    /// of the run's budget spent before it (`StoppingRule.budgetUsed`), which only `linear` reads.
    public func rate(atUpdate update: Int, budgetUsed: Double = 0) -> Float {
        let u = Float(max(update, 1))
        let warmup = Float(warmupUpdates)
        let remaining = Float(min(max(1 - budgetUsed, 0), 1))
        if warmupUpdates > 0 && u < warmup {
            // `linear` is never above its line, even while warming up on a very short budget.
            return baseRate * min(u / warmup, decay == .linear ? remaining : 1)
        }
        switch decay {
        case .linear:
            return baseRate * remaining
        case .constant:
            return baseRate
        case .plateau:
            return baseRate * plateauScale
        case .inverseSqrt:
            return warmupUpdates > 0 ? baseRate * (warmup / u).squareRoot() : baseRate / u.squareRoot()
        }
    }

    /// Records a validation score (lower is better) for the plateau decay.
    public mutating func recordValidation(score: Double) {
        if let best = bestScore, score >= best {
            validationsSinceBest += 1
            if decay == .plateau && validationsSinceBest % max(plateauPatience, 1) == 0 {
                plateauScale *= plateauFactor
            }
        } else {
            bestScore = score
            validationsSinceBest = 0
        }
    }
}
