import Foundation
import S2SContainer
import S2SIO
import S2SModel

/// What `s2s info` shows about a model file: as JSON (`Codable`, stable keys) or as text lines.
public struct ModelSummary: Codable, Equatable, Sendable {
    /// Parameters in one tensor group (the first dotted component of the names).
    public struct Group: Codable, Equatable, Sendable {
        public var group: String
        public var parameters: Int
    }

    /// One stored tensor, with the CRC-32C of its bytes: two models hold bit-identical
    /// tensors exactly when these agree (barring a collision).
    public struct Tensor: Codable, Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        public var crc32c: UInt32
    }

    public var file: String
    public var fileSize: Int
    public var formatVersion: UInt32
    public var createdAt: String
    public var s2sVersion: String
    public var config: ModelConfig
    public var sourceVocabularySize: Int
    public var targetVocabularySize: Int
    public var vocabularyFingerprint: String
    public var corpusFingerprint: String?
    /// Total number of parameters.
    public var parameters: Int
    public var groups: [Group]
    public var tensors: [Tensor]
    public var epoch: Int
    public var updates: Int
    public var targetTokensSeen: Int
    public var elapsedSeconds: Double
    public var validations: [ValidationRecord]
    public var bestScore: Double?
    public var bestUpdates: Int?
    public var bestMetric: String?
    public var trainingOptions: JSONValue
    public var averagedFrom: [String]?
    /// The languages it translates between, when recorded.
    public var languages: LanguagePair?
    /// The stored lexical shortlist: target pieces listed in all, the longest list, the
    /// frequent pieces always kept (nil without one).
    public var shortlist: ShortlistSummary?

    public struct ShortlistSummary: Codable, Equatable, Sendable {
        public var targets: Int
        public var longestList: Int
        public var frequent: Int
    }

    /// The summary of an opened model file.
    public init(_ model: ModelFile) {
        let metadata = model.metadata
        file = model.path
        fileSize = model.fileSize
        formatVersion = model.formatVersion
        createdAt = metadata.createdAt
        s2sVersion = metadata.s2sVersion
        config = metadata.config
        sourceVocabularySize = metadata.config.sourceVocabularySize
        targetVocabularySize = metadata.config.targetVocabularySize
        vocabularyFingerprint = metadata.vocabulary.fingerprint
        corpusFingerprint = metadata.corpusFingerprint
        parameters = model.parameterCount
        groups = model.parameterCountsByGroup.map { Group(group: $0.group, parameters: $0.count) }
        tensors = model.tensors.map { Tensor(name: $0.name, shape: $0.shape, crc32c: $0.crc32c) }
        epoch = metadata.progress.epoch
        updates = metadata.progress.updates
        targetTokensSeen = metadata.progress.targetTokensSeen
        elapsedSeconds = metadata.progress.elapsedSeconds
        validations = metadata.progress.validations
        bestScore = metadata.progress.bestScore
        bestUpdates = metadata.progress.bestUpdates
        bestMetric = metadata.progress.bestMetric
        trainingOptions = metadata.trainingOptions
        averagedFrom = metadata.averagedFrom
        languages = metadata.languages
        shortlist = model.shortlist.map { list in
            ShortlistSummary(targets: list.targets.count,
                             longestList: zip(list.offsets, list.offsets.dropFirst()).map { Int($1 - $0) }.max() ?? 0,
                             frequent: list.frequent.count)
        }
    }

    /// Pretty-printed JSON with sorted keys (non-finite numbers as "inf"/"nan").
    public func json() throws -> String {
        let encoder = Container.makeJSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// A human-readable report.
    public var text: String {
        var lines: [String] = []
        lines.append("file         \(file): \(grouped(fileSize)) bytes (\(megabytes(fileSize))), format \(formatVersion)")
        lines.append("written      \(createdAt) by s2s \(s2sVersion)")
        lines.append("vocabulary   source \(grouped(sourceVocabularySize)), target \(grouped(targetVocabularySize)) (fingerprint \(vocabularyFingerprint))")
        if let corpusFingerprint { lines.append("corpus       fingerprint \(corpusFingerprint)") }
        if let languages { lines.append("languages    \(languages.source) → \(languages.target)") }
        if let averagedFrom { lines.append("averaged     \(averagedFrom.joined(separator: " "))") }
        if let shortlist {
            lines.append("shortlist    up to \(grouped(shortlist.longestList)) target pieces per source piece "
                         + "(\(grouped(shortlist.targets)) in all), \(grouped(shortlist.frequent)) frequent ones always")
        }
        lines.append("config")
        if case let .object(fields)? = try? JSONValue(encoding: config) {
            let width = fields.keys.map(\.count).max() ?? 0
            for key in fields.keys.sorted() {
                lines.append("  " + key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + Self.render(fields[key]!))
            }
        }
        lines.append("parameters   \(grouped(parameters))")
        let groupWidth = groups.map(\.group.count).max() ?? 0
        for group in groups {
            let share = parameters > 0 ? String(format: "%5.1f%%", 100 * Double(group.parameters) / Double(parameters)) : ""
            lines.append("  " + group.group.padding(toLength: groupWidth, withPad: " ", startingAt: 0)
                         + "  " + leftPadded(grouped(group.parameters), 13) + "  " + share)
        }
        lines.append("training     epoch \(epoch), \(grouped(updates)) updates, \(grouped(targetTokensSeen)) target tokens, \(duration(elapsedSeconds))")
        if let bestScore {
            lines.append("best         \(bestMetric ?? "score") \(String(format: "%.4f", bestScore))" + (bestUpdates.map { " at \(grouped($0)) updates" } ?? ""))
        }
        if !validations.isEmpty {
            lines.append("validations")
            lines.append("  " + ["updates", "epoch", "cross-entropy", "perplexity", "bleu", "time"].map { leftPadded($0, 14) }.joined())
            for record in validations {
                let cells = [grouped(record.updates), String(record.epoch), String(format: "%.4f", record.crossEntropy),
                             String(format: "%.2f", record.perplexity), record.bleu.map { String(format: "%.2f", $0) } ?? "-",
                             duration(record.time)]
                lines.append("  " + cells.map { leftPadded($0, 14) }.joined())
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One line per tensor: name, shape and checksum (`s2s info --tensors`).
    public var tensorLines: String {
        let width = tensors.map(\.name.count).max() ?? 0
        return tensors.map { tensor in
            tensor.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + leftPadded(tensor.shape.map(String.init).joined(separator: "×"), 12) + "  crc32c "
                + String(format: "%08x", tensor.crc32c)
        }.joined(separator: "\n")
    }

    private static func render(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case let .bool(flag): return String(flag)
        case let .integer(number): return String(number)
        case let .unsignedInteger(number): return String(number)
        case let .number(number): return "\(number)"
        case let .string(text): return text
        case .array, .object:
            let encoder = Container.makeJSONEncoder()
            return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        }
    }
}

private func grouped(_ number: Int) -> String { formatCount(number) }

private func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }

private func leftPadded(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}

/// Seconds as "1h02m03s", "2m03s" or "3.5s".
private func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "\(seconds)s" }
    let whole = Int(seconds)
    if whole >= 3600 { return String(format: "%dh%02dm%02ds", whole / 3600, whole / 60 % 60, whole % 60) }
    if whole >= 60 { return String(format: "%dm%02ds", whole / 60, whole % 60) }
    return String(format: "%.1fs", seconds)
}
