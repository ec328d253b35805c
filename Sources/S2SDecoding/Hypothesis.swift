#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import S2SModel
import S2SCore

/// One node of a search tree: the token it adds, the score of the whole prefix it ends, and
/// a back-pointer to the node it extends (Marian's `Hypothesis`).
public struct Hypothesis: Sendable, Equatable {
    /// The target token this node appends.
    public var token: Int32
    /// Sum of log-probabilities of every token from the first one up to this one.
    public var score: Float
    /// Index of the previous node in the same `History`, or -1 for the first token.
    public var parent: Int32

    public init(token: Int32, score: Float, parent: Int32) {
        self.token = token
        self.score = score
        self.parent = parent
    }
}

/// A finished translation of one source sentence: target pieces without `</s>`, scores, and
/// optionally the attention weights that produced each piece.
public struct Translation: Sendable, Equatable {
    /// Target token ids, without the final `</s>`.
    public var tokens: [Int32]
    /// The ranking score: `logProbability / lengthPenalty(|Y|)` (equal to `logProbability` at α = 0).
    public var score: Float
    /// Sum of the log-probabilities of every target token, `</s>` included.
    public var logProbability: Float
    /// attention[j][i]: weight of source position i (as `StepDecoder.attention` reports it,
    /// normally with the source `</s>`) when target token j was produced; one row per target
    /// token including `</s>`. Empty unless requested.
    public var attention: [[Float]]

    public init(tokens: [Int32], score: Float, logProbability: Float, attention: [[Float]] = []) {
        self.tokens = tokens
        self.score = score
        self.logProbability = logProbability
        self.attention = attention
    }
}

/// Length normalization, GNMT's penalty (Wu et al. 2016, eq. 14):
/// `lp(Y) = ((5 + |Y|) / 6)^α`, and a finished hypothesis ranks by `log P(Y|X) / lp(Y)`.
/// |Y| counts the target tokens including `</s>`; α = 0 turns normalization off (lp = 1).
public struct LengthPenalty: Sendable, Equatable {
    /// The exponent α (`--normalize`); 0 means off.
    public var alpha: Float

    public init(alpha: Float) { self.alpha = alpha }

    /// GNMT's α = 0.6, the usual choice for beam search (Wu et al. 2016).
    public static let standard = LengthPenalty(alpha: 0.6)

    /// lp(|Y|) for a target of `length` tokens (`</s>` included).
    public func penalty(length: Int) -> Float {
        alpha == 0 ? 1 : powf((5 + Float(length)) / 6, alpha)
    }

    /// The ranking score of a hypothesis of `length` tokens with log-probability `logProbability`.
    public func normalized(_ logProbability: Float, length: Int) -> Float {
        alpha == 0 ? logProbability : logProbability / penalty(length: length)
    }

    /// An upper bound on the final ranking score of an open hypothesis now at `logProbability`
    /// that may grow up to `maxLength` tokens. Log-probabilities only decrease as tokens are
    /// added, and for a negative score dividing by the largest penalty gives the largest value.
    public func bestReachable(_ logProbability: Float, maxLength: Int) -> Float {
        if alpha == 0 || logProbability >= 0 { return logProbability }
        return logProbability / penalty(length: maxLength)
    }
}

/// Settings shared by greedy and beam search.
public struct SearchOptions: Sendable, Equatable {
    /// Hypotheses kept open per sentence (`--beam`); 1 means greedy.
    public var beamSize: Int
    /// Translations returned per sentence (≤ beamSize): `--n-best` returns beamSize.
    public var nBest: Int
    /// Length normalization of finished scores.
    public var lengthPenalty: LengthPenalty
    /// A target may have at most `maxLengthFactor × |source| + maxLengthConstant` tokens
    /// (`</s>` included; |source| without its `</s>`); at that length `</s>` is forced.
    public var maxLengthFactor: Double
    /// See `maxLengthFactor`.
    public var maxLengthConstant: Int
    /// Keep each target piece's attention row (for alignments and plots); costs a copy per step.
    public var collectAttention: Bool

    public init(beamSize: Int = 1, nBest: Int = 1, lengthPenalty: LengthPenalty = .standard,
                maxLengthFactor: Double = 2.5, maxLengthConstant: Int = 5, collectAttention: Bool = false) {
        self.beamSize = max(1, beamSize)
        self.nBest = min(max(1, nBest), max(1, beamSize))
        self.lengthPenalty = lengthPenalty
        self.maxLengthFactor = maxLengthFactor
        self.maxLengthConstant = maxLengthConstant
        self.collectAttention = collectAttention
    }

    /// The longest target (in tokens, `</s>` included) allowed for a source of `sourceTokens`
    /// tokens (its `</s>` included). Always at least 1, so `</s>` can be produced.
    public func maxTargetLength(sourceTokens: Int) -> Int {
        let realSource = max(0, sourceTokens - 1)
        return max(1, Int((maxLengthFactor * Double(realSource)).rounded(.up)) + maxLengthConstant)
    }
}

/// Errors raised by search: a source the network cannot take.
public enum DecodingError: Error, CustomStringConvertible, Equatable {
    /// A source sentence did not end in `</s>` or was empty.
    case malformedSource(index: Int)
    /// Two ensemble members disagree on the target vocabulary.
    case vocabularyMismatch(expected: Int, found: Int, member: Int)
    /// An ensemble needs at least one member.
    case emptyEnsemble

    public var description: String {
        switch self {
        case let .malformedSource(index):
            return "source \(index): must be token ids ending in </s> (\(SpecialTokens.eos))"
        case let .vocabularyMismatch(expected, found, member):
            return "ensemble model \(member + 1): target vocabulary has \(found) entries, model 1 has \(expected)"
        case .emptyEnsemble:
            return "an ensemble needs at least one model"
        }
    }
}
