import Foundation
import S2SIO

/// One line of a `--log run.jsonl` file: a periodic training report or a validation.
public struct TrainingLogRecord: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable { case train, valid }

    /// `train` for a progress report, `valid` for a validation.
    public var kind: Kind
    /// Seconds since training started (including time before a resume).
    public var elapsedSeconds: Double
    public var epoch: Int
    public var updates: Int
    /// Mean training loss per target token since the previous report (train records).
    public var loss: Double?
    /// Target tokens per second since the previous report (train records).
    public var targetTokensPerSecond: Double?
    /// Learning rate at the report (train records).
    public var learningRate: Double?
    /// Validation cross-entropy per target token (valid records).
    public var crossEntropy: Double?
    /// Validation perplexity (valid records).
    public var perplexity: Double?
    /// Validation BLEU, greedy and detokenized (valid records).
    public var bleu: Double?

    public init(kind: Kind, elapsedSeconds: Double, epoch: Int, updates: Int, loss: Double? = nil,
                targetTokensPerSecond: Double? = nil, learningRate: Double? = nil,
                crossEntropy: Double? = nil, perplexity: Double? = nil, bleu: Double? = nil) {
        self.kind = kind
        self.elapsedSeconds = elapsedSeconds
        self.epoch = epoch
        self.updates = updates
        self.loss = loss
        self.targetTokensPerSecond = targetTokensPerSecond
        self.learningRate = learningRate
        self.crossEntropy = crossEntropy
        self.perplexity = perplexity
        self.bleu = bleu
    }

    /// The record as one line of JSON (no newline).
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// A failure to read a training log.
public enum TrainingLogError: Error, CustomStringConvertible, Equatable {
    case malformedLine(path: String, line: Int)
    case empty(path: String)

    public var description: String {
        switch self {
        case let .malformedLine(path, line): return "\(path):\(line): not a training log record (expected one JSON object per line)"
        case let .empty(path): return "\(path): no training log records"
        }
    }
}

/// Reads every record of a JSONL training log; blank lines are allowed.
public func readTrainingLog(path: String) throws -> [TrainingLogRecord] {
    let reader = try LineReader(path: path)
    let decoder = JSONDecoder()
    var records: [TrainingLogRecord] = []
    while let line = try reader.nextLine() {
        if line.allSatisfy(\.isWhitespace) { continue }
        guard let record = try? decoder.decode(TrainingLogRecord.self, from: Data(line.utf8)) else {
            throw TrainingLogError.malformedLine(path: reader.name, line: reader.lineNumber)
        }
        records.append(record)
    }
    if records.isEmpty { throw TrainingLogError.empty(path: reader.name) }
    return records
}
