#if canImport(Glibc)
import Glibc
#endif
import Foundation
import S2SContainer
import S2SIO
import S2SModel
import S2STensor

/// Reading and writing model files and their training state.
///
/// Save protocol (`save(_:state:to:)`), so that a crash at any instant leaves a resumable pair:
/// 1. a fresh random `checkpointID` is stamped on both the model and the state;
/// 2. the state file that matches the model now on disk (if any) is kept as `<model>.state.previous`;
/// 3. the new state is written atomically to `<model>.state`;
/// 4. the new model is written atomically to `<model>`;
/// 5. `<model>.state.previous` is removed.
/// A crash before 4 leaves the old model with its state in `.previous`; after 4, the new pair.
/// `resume` picks whichever state file carries the model's `checkpointID`.
public enum CheckpointIO {
    /// Writes a model file atomically (temporary sibling, fsync, rename).
    public static func write(_ checkpoint: Checkpoint, to path: String) throws {
        var writer = ContainerWriter(magic: CheckpointFormat.modelMagic, version: CheckpointFormat.version)
        try writer.setMetadata(checkpoint.metadata)
        let store = checkpoint.parameters
        for entry in store.entries {
            writer.add(name: entry.name, shape: entry.shape, floats: UnsafeBufferPointer(store.tensor(entry.name)))
        }
        if let shortlist = checkpoint.shortlist {
            writer.add(name: CheckpointFormat.shortlistOffsets, shape: [shortlist.offsets.count], int32s: shortlist.offsets)
            writer.add(name: CheckpointFormat.shortlistTargets, shape: [shortlist.targets.count], int32s: shortlist.targets)
            writer.add(name: CheckpointFormat.shortlistFrequent, shape: [shortlist.frequent.count], int32s: shortlist.frequent)
        }
        try writer.write(to: path)
    }

    /// Writes a training-state file atomically; the moments are stored as `adam.m.<name>`
    /// and `adam.v.<name>`, raw parameters (when the model holds their average) as `raw.<name>`.
    public static func write(_ state: TrainingState, to path: String) throws {
        precondition(state.firstMoment.entries == state.secondMoment.entries, "Adam moments have different layouts")
        var writer = ContainerWriter(magic: CheckpointFormat.stateMagic, version: CheckpointFormat.version)
        try writer.setMetadata(state.metadata)
        let stores = [(CheckpointFormat.firstMomentPrefix, state.firstMoment),
                      (CheckpointFormat.secondMomentPrefix, state.secondMoment)]
            + (state.rawParameters.map { [(CheckpointFormat.rawParametersPrefix, $0)] } ?? [])
        for (prefix, store) in stores {
            for entry in store.entries {
                writer.add(name: prefix + entry.name, shape: entry.shape, floats: UnsafeBufferPointer(store.tensor(entry.name)))
            }
        }
        try writer.write(to: path)
    }

    /// Reads and fully checks a model file against `expectation`.
    public static func read(from path: String, expecting expectation: CheckpointExpectation = CheckpointExpectation()) throws -> Checkpoint {
        try ModelFile(path: path).checkpoint(expecting: expectation)
    }

    /// The state-file path of a model file: `<model>.state`.
    public static func statePath(for modelPath: String) -> String { modelPath + ".state" }

    /// Where the previous state is kept during a save: `<model>.state.previous`.
    public static func previousStatePath(for modelPath: String) -> String { modelPath + ".state.previous" }

    /// Saves a model and its training state as a pair (see the protocol above); returns the
    /// `checkpointID` stamped on both.
    @discardableResult
    public static func save(_ checkpoint: Checkpoint, state: TrainingState, to path: String) throws -> String {
        try save(checkpoint, state: state, to: path, afterWritingState: {})
    }

    /// `save`, with a hook between writing the state and the model, where tests simulate a crash.
    static func save(_ checkpoint: Checkpoint, state: TrainingState, to path: String,
                     afterWritingState: () throws -> Void) throws -> String {
        let identifier = Fingerprint.randomIdentifier()
        var checkpoint = checkpoint, state = state
        checkpoint.checkpointID = identifier
        state.modelCheckpointID = identifier
        try AtomicFile.checkWritable(path)
        let statePath = statePath(for: path), previousPath = previousStatePath(for: path)
        var setAside = false
        if let currentID = try? ModelFile(path: path, verifyTensors: false).metadata.checkpointID,
           (try? TrainingStateFile(path: statePath, verifyTensors: false).metadata.modelCheckpointID) == currentID {
            // Otherwise `.previous` already holds the matching state (an earlier save was cut
            // short) or no state matches: either way there is nothing better to keep.
            guard rename(statePath, previousPath) == 0 else {
                throw IOError.cannotWrite(path: previousPath, reason: systemErrorMessage(errno))
            }
            setAside = true
        }
        // A write that fails (a full disk) puts the old state back under its name, so the run
        // is left exactly as it was; only a crash leaves the pair in `.previous`.
        func restoringTheOldState<T>(_ write: () throws -> T) throws -> T {
            do { return try write() } catch {
                if setAside { rename(previousPath, statePath) }
                throw error
            }
        }
        try restoringTheOldState { try write(state, to: statePath) }
        try afterWritingState()
        try restoringTheOldState { try write(checkpoint, to: path) }
        unlink(previousPath)
        return identifier
    }

    /// Opens a model to continue training: checks it against `expectation` and loads the
    /// training state that belongs to it (`<model>.state`, or `<model>.state.previous` after
    /// an interrupted save). Throws `CheckpointError.stateMismatch` if neither belongs to it.
    public static func resume(from path: String, expecting expectation: CheckpointExpectation = CheckpointExpectation())
        throws -> (checkpoint: Checkpoint, state: TrainingState) {
        let checkpoint = try read(from: path, expecting: expectation)
        var firstError: Error?
        for candidate in [statePath(for: path), previousStatePath(for: path)] {
            do {
                let file = try TrainingStateFile(path: candidate)
                guard file.metadata.modelCheckpointID == checkpoint.checkpointID else {
                    throw CheckpointError.stateMismatch(path: candidate, modelPath: path)
                }
                return (checkpoint, try file.state(for: checkpoint.parameters))
            } catch IOError.cannotOpen(_, _) where candidate != statePath(for: path) {
                // No `.previous`: report what was wrong with `.state`.
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        throw firstError ?? CheckpointError.stateMismatch(path: statePath(for: path), modelPath: path)
    }

    /// The element-wise mean of the parameters of `paths`, which must share configuration,
    /// tensor layout and vocabulary; progress and options are taken from the last file.
    public static func average(_ paths: [String], s2sVersion: String) throws -> Checkpoint {
        guard let lastPath = paths.last else { throw CheckpointError.noModels }
        let last = try ModelFile(path: lastPath)
        let layout = last.tensors.map { ($0.name, $0.shape) }
        // Sums in Double so the mean of many models is correctly rounded once.
        var sums: [Double] = []
        var store: ParameterStore?
        for path in paths {
            let file = path == lastPath ? last : try ModelFile(path: path)
            if file.config != last.config {
                let fields = try ModelFile.differingFields(file.config, last.config)
                throw CheckpointError.incompatibleModels(path: path, reason: "configuration differs from '\(lastPath)' in \(fields.joined(separator: ", "))")
            }
            if file.metadata.vocabulary.fingerprint != last.metadata.vocabulary.fingerprint {
                throw CheckpointError.incompatibleModels(path: path, reason: "vocabulary differs from '\(lastPath)'")
            }
            do {
                try ModelFile.checkLayout(layout, against: file.tensors, path: path)
            } catch let error as CheckpointError {
                throw CheckpointError.incompatibleModels(path: path, reason: "tensor layout differs from '\(lastPath)' (\(error))")
            } catch let error as ContainerError {
                throw CheckpointError.incompatibleModels(path: path, reason: "tensor layout differs from '\(lastPath)' (\(error))")
            }
            let parameters = try file.parameters(layout: layout)
            if sums.isEmpty {
                // Start from the first model (not from +0), so averaging one model is the identity.
                sums = parameters.values.map(Double.init)
            } else {
                for i in 0..<sums.count { sums[i] += Double(parameters.values[i]) }
            }
            store = store ?? parameters
        }
        guard let result = store else { throw CheckpointError.noModels }
        let scale = 1 / Double(paths.count)
        for i in 0..<sums.count { result.values[i] = Float(sums[i] * scale) }
        var metadata = last.metadata
        metadata.createdAt = CheckpointMetadata.timestamp(Date())
        metadata.s2sVersion = s2sVersion
        metadata.checkpointID = Fingerprint.randomIdentifier()
        metadata.averagedFrom = paths
        return Checkpoint(metadata: metadata, parameters: result)
    }
}
