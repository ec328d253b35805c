import Foundation
import S2SContainer
import S2SModel
import S2STensor

/// File-format constants of model and training-state files.
public enum CheckpointFormat {
    /// Magic of a model file.
    public static let modelMagic = "S2SMODEL"
    /// Magic of a training-state file.
    public static let stateMagic = "S2SSTATE"
    /// Format version written (and the newest read) for both kinds: 2 adds a model file's
    /// optional lexical shortlist (`shortlist.*` arrays); version 1 files read as before.
    public static let version: UInt32 = 2
    /// Names of a model file's shortlist arrays (int32): per-source offsets, their target
    /// lists, and the frequent targets.
    public static let shortlistOffsets = "shortlist.offsets", shortlistTargets = "shortlist.targets",
                      shortlistFrequent = "shortlist.frequent"
    /// Prefixes of the optimizer-moment tensors in a state file.
    public static let firstMomentPrefix = "adam.m."
    public static let secondMomentPrefix = "adam.v."
    /// Prefix of the raw parameters in a state file whose model holds their moving average.
    public static let rawParametersPrefix = "raw."
}

/// An opened, fully verified model file: metadata decoded, tensors checksummed and mapped.
/// Parameters are copied out on request, so the model code can build its own layout first
/// (from `config`) and have the file checked against it.
public final class ModelFile {
    /// The path, for messages.
    public let path: String
    /// Size of the file in bytes.
    public let fileSize: Int
    /// Format version of the file.
    public let formatVersion: UInt32
    /// The header fields.
    public let metadata: CheckpointMetadata
    /// Every stored parameter tensor, in file order (the shortlist's arrays are not tensors).
    public let tensors: [ArrayEntry]
    /// The lexical shortlist stored with the model, if any.
    public let shortlist: Shortlist?

    private let reader: ContainerReader

    /// Opens and checks `path`: magic, version, size, checksums (every tensor unless
    /// `verifyTensors` is false), metadata schema, vocabulary fingerprint, tensor dtypes.
    public init(path: String, verifyTensors: Bool = true) throws {
        reader = try ContainerReader(path: path, magic: CheckpointFormat.modelMagic,
                                     supportedVersion: CheckpointFormat.version, verifyArrays: verifyTensors)
        self.path = path
        fileSize = reader.fileSize
        formatVersion = reader.version
        tensors = reader.arrays.filter { !$0.name.hasPrefix("shortlist.") }
        metadata = try reader.metadata(CheckpointMetadata.self)
        shortlist = try Self.readShortlist(reader, path: path, config: metadata.config)
        guard Fingerprint.of(text: metadata.vocabulary.text) == metadata.vocabulary.fingerprint else {
            throw CheckpointError.vocabularyCorrupt(path: path)
        }
        for tensor in tensors where tensor.dtype != .f32 || tensor.shape.isEmpty || tensor.shape.contains(where: { $0 <= 0 }) {
            throw CheckpointError.tensorMismatch(path: path, tensor: tensor.name,
                                                reason: "\(tensor.dtype.rawValue) \(tensor.shape), expected a non-empty f32 tensor")
        }
    }

    /// The stored configuration.
    public var config: ModelConfig { metadata.config }

    private static func readShortlist(_ reader: ContainerReader, path: String, config: ModelConfig) throws -> Shortlist? {
        let names = [CheckpointFormat.shortlistOffsets, CheckpointFormat.shortlistTargets, CheckpointFormat.shortlistFrequent]
        let present = names.filter { reader.entry($0) != nil }
        if present.isEmpty { return nil }
        guard present.count == names.count else {
            throw CheckpointError.tensorMismatch(path: path, tensor: "shortlist", reason: "incomplete: it needs \(names.joined(separator: ", "))")
        }
        do {
            let shortlist = try Shortlist(offsets: Array(try reader.int32s(names[0])), targets: Array(try reader.int32s(names[1])),
                                          frequent: Array(try reader.int32s(names[2])))
            try shortlist.check(sourceVocabularySize: config.sourceVocabularySize,
                                targetVocabularySize: config.targetVocabularySize)
            return shortlist
        } catch let error as ModelError {
            throw CheckpointError.tensorMismatch(path: path, tensor: "shortlist", reason: String(describing: error))
        }
    }

    /// Total number of parameters.
    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.bytes / 4 } }

    /// Parameter counts per group (a tensor's first dotted name component), in file order.
    public var parameterCountsByGroup: [(group: String, count: Int)] {
        var groups: [(group: String, count: Int)] = []
        for tensor in tensors {
            let group = String(tensor.name.prefix { $0 != "." })
            if let index = groups.firstIndex(where: { $0.group == group }) {
                groups[index].count += tensor.bytes / 4
            } else {
                groups.append((group, tensor.bytes / 4))
            }
        }
        return groups
    }

    /// Throws if the file does not meet `expectation` (config, vocabulary, corpus, layout).
    public func check(_ expectation: CheckpointExpectation) throws {
        if let expected = expectation.config, expected != metadata.config {
            throw CheckpointError.configMismatch(path: path, fields: try Self.differingFields(expected, metadata.config))
        }
        if let expected = expectation.vocabularyFingerprint, expected != metadata.vocabulary.fingerprint {
            throw CheckpointError.vocabularyMismatch(path: path, expected: expected, found: metadata.vocabulary.fingerprint)
        }
        if let expected = expectation.corpusFingerprint, expected != metadata.corpusFingerprint {
            throw CheckpointError.corpusMismatch(path: path, expected: expected, found: metadata.corpusFingerprint ?? "none")
        }
        if let layout = expectation.layout {
            try Self.checkLayout(layout, against: tensors, path: path)
        }
    }

    /// The parameters in `layout` (the model code's tensors and order; default: the file's),
    /// checked name by name and shape by shape, copied into a fresh store.
    public func parameters(layout: [(name: String, shape: [Int])]? = nil) throws -> ParameterStore {
        let layout = layout ?? tensors.map { ($0.name, $0.shape) }
        try Self.checkLayout(layout, against: tensors, path: path)
        let store = ParameterStore(layout: layout)
        for entry in store.entries {
            let source = try reader.floats(entry.name, shape: entry.shape)
            _ = store.tensor(entry.name).update(fromContentsOf: source)
        }
        return store
    }

    /// The whole checkpoint, after checking `expectation`.
    public func checkpoint(expecting expectation: CheckpointExpectation = CheckpointExpectation()) throws -> Checkpoint {
        try check(expectation)
        return Checkpoint(metadata: metadata, parameters: try parameters(layout: expectation.layout), shortlist: shortlist)
    }

    /// Tensor `name` in place (valid while this file object lives), for tools that only look.
    public func tensor(_ name: String) throws -> UnsafeBufferPointer<Float> { try reader.floats(name) }

    static func checkLayout(_ layout: [(name: String, shape: [Int])], against stored: [ArrayEntry], path: String) throws {
        let storedByName = Dictionary(stored.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (name, shape) in layout {
            guard let entry = storedByName[name] else { throw ContainerError.missingArray(path: path, array: name) }
            guard entry.dtype == .f32, entry.shape == shape else {
                throw CheckpointError.tensorMismatch(path: path, tensor: name,
                                                     reason: "shape \(entry.shape) in file, model expects \(shape)")
            }
        }
        let expectedNames = Set(layout.map(\.name))
        if let extra = stored.first(where: { !expectedNames.contains($0.name) }) {
            throw CheckpointError.unexpectedTensor(path: path, tensor: extra.name)
        }
    }

    /// Names of the top-level fields in which two configurations differ.
    static func differingFields(_ a: ModelConfig, _ b: ModelConfig) throws -> [String] {
        let first = try JSONValue(encoding: a), second = try JSONValue(encoding: b)
        guard case let .object(left) = first, case let .object(right) = second else { return ["config"] }
        let keys = Set(left.keys).union(right.keys).sorted()
        let differing = keys.filter { left[$0] != right[$0] }
        return differing.isEmpty ? ["config"] : differing
    }
}

/// An opened, verified training-state file.
public final class TrainingStateFile {
    /// The path, for messages.
    public let path: String
    /// The header fields.
    public let metadata: TrainingStateMetadata
    private let reader: ContainerReader

    /// Opens and checks `path` (magic, version, checksums, metadata schema).
    public init(path: String, verifyTensors: Bool = true) throws {
        reader = try ContainerReader(path: path, magic: CheckpointFormat.stateMagic,
                                     supportedVersion: CheckpointFormat.version, verifyArrays: verifyTensors)
        self.path = path
        metadata = try reader.metadata(TrainingStateMetadata.self)
    }

    /// The state for `parameters`' layout; the moments must cover exactly those tensors.
    public func state(for parameters: ParameterStore) throws -> TrainingState {
        let layout = parameters.entries.map { ($0.name, $0.shape) }
        let firstMoment = ParameterStore(sameLayoutAs: parameters)
        let secondMoment = ParameterStore(sameLayoutAs: parameters)
        let hasRaw = reader.arrays.contains { $0.name.hasPrefix(CheckpointFormat.rawParametersPrefix) }
        let rawParameters = hasRaw ? ParameterStore(sameLayoutAs: parameters) : nil
        let stores = [(CheckpointFormat.firstMomentPrefix, firstMoment), (CheckpointFormat.secondMomentPrefix, secondMoment)]
            + (rawParameters.map { [(CheckpointFormat.rawParametersPrefix, $0)] } ?? [])
        for (prefix, store) in stores {
            let stored = reader.arrays.filter { $0.name.hasPrefix(prefix) }.map { entry -> ArrayEntry in
                var renamed = entry
                renamed.name = String(entry.name.dropFirst(prefix.count))
                return renamed
            }
            do {
                try ModelFile.checkLayout(layout, against: stored, path: path)
            } catch let ContainerError.missingArray(path, name) {
                throw ContainerError.missingArray(path: path, array: prefix + name)
            } catch let CheckpointError.tensorMismatch(path, name, reason) {
                throw CheckpointError.tensorMismatch(path: path, tensor: prefix + name, reason: reason)
            } catch let CheckpointError.unexpectedTensor(path, name) {
                throw CheckpointError.unexpectedTensor(path: path, tensor: prefix + name)
            }
            for entry in store.entries {
                _ = store.tensor(entry.name).update(fromContentsOf: try reader.floats(prefix + entry.name, shape: entry.shape))
            }
        }
        let known = Set(stores.flatMap { prefix, _ in layout.map { prefix + $0.0 } })
        if let extra = reader.arrays.first(where: { !known.contains($0.name) }) {
            throw CheckpointError.unexpectedTensor(path: path, tensor: extra.name)
        }
        return TrainingState(metadata: metadata, firstMoment: firstMoment, secondMoment: secondMoment,
                             rawParameters: rawParameters)
    }
}
