/// A checkpoint that cannot be used, described in one line naming the file and the problem.
/// (Damaged or foreign files surface as `ContainerError`; I/O failures as `IOError`.)
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file holds a tensor the caller's layout does not have.
    case unexpectedTensor(path: String, tensor: String)
    /// A tensor's dtype or shape is not what the caller's layout says.
    case tensorMismatch(path: String, tensor: String, reason: String)
    /// The stored configuration differs from the expected one in these fields.
    case configMismatch(path: String, fields: [String])
    /// The embedded vocabulary is not the one the caller is using.
    case vocabularyMismatch(path: String, expected: String, found: String)
    /// The model was trained on another corpus than the one given for resuming.
    case corpusMismatch(path: String, expected: String, found: String)
    /// The embedded vocabulary's text does not match its own fingerprint.
    case vocabularyCorrupt(path: String)
    /// No training-state file belongs to this model file.
    case stateMismatch(path: String, modelPath: String)
    /// Models that cannot be averaged together.
    case incompatibleModels(path: String, reason: String)
    /// A caller asked for an operation on no files at all.
    case noModels

    public var description: String {
        switch self {
        case let .unexpectedTensor(path, tensor):
            return "\(path): unexpected tensor '\(tensor)' (not in this model's layout)"
        case let .tensorMismatch(path, tensor, reason):
            return "\(path): tensor '\(tensor)': \(reason)"
        case let .configMismatch(path, fields):
            return "\(path): model configuration differs in \(fields.joined(separator: ", "))"
        case let .vocabularyMismatch(path, expected, found):
            return "\(path): vocabulary mismatch: model has \(found), expected \(expected)"
        case let .corpusMismatch(path, expected, found):
            return "\(path): corpus mismatch: model was trained on \(found), expected \(expected)"
        case let .vocabularyCorrupt(path):
            return "\(path): embedded vocabulary does not match its fingerprint (file is corrupt)"
        case let .stateMismatch(path, modelPath):
            return "\(path): training state does not belong to '\(modelPath)' (from another run or an interrupted save); cannot resume exactly"
        case let .incompatibleModels(path, reason):
            return "\(path): cannot average: \(reason)"
        case .noModels:
            return "no model files given"
        }
    }
}
