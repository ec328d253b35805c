import Foundation
import S2SContainer
import S2SCore
import S2STensor

/// The header fields of a training-state file (`model.s2s.state`, an `S2SSTATE` container).
public struct TrainingStateMetadata: Codable, Equatable, Sendable {
    /// The `checkpointID` of the model file this state belongs to.
    public var modelCheckpointID: String
    /// Adam's step counter t (for bias correction).
    public var optimizerStep: Int
    /// The learning-rate schedule's state, in the scheduler's own schema.
    public var scheduler: JSONValue
    /// Every random generator the trainer draws from, by role (`shuffle`, `dropout`, …).
    public var rngStates: [String: SeededRNG]
    /// Where the corpus iterator is, in the corpus loader's own schema.
    public var corpusPosition: JSONValue
    /// Anything else the trainer needs to continue exactly (early-stopping patience, …).
    public var extra: JSONValue
    /// When this file was written, ISO 8601 UTC.
    public var createdAt: String

    public init(modelCheckpointID: String = "", optimizerStep: Int, scheduler: JSONValue = .null,
                rngStates: [String: SeededRNG] = [:], corpusPosition: JSONValue = .null, extra: JSONValue = .null,
                createdAt: Date = Date()) {
        self.modelCheckpointID = modelCheckpointID
        self.optimizerStep = optimizerStep
        self.scheduler = scheduler
        self.rngStates = rngStates
        self.corpusPosition = corpusPosition
        self.extra = extra
        self.createdAt = CheckpointMetadata.timestamp(createdAt)
    }
}

/// Everything beyond the model that an interrupted run needs to continue exactly as if it had
/// never stopped: Adam's moments, counters, schedule, generators and corpus position.
///
/// Metadata fields read through: `state.optimizerStep`, `state.rngStates["shuffle"]`.
@dynamicMemberLookup
public struct TrainingState {
    /// The header fields.
    public var metadata: TrainingStateMetadata
    /// Adam's first moment m, same layout as the parameters; stored as `adam.m.<name>`.
    public var firstMoment: ParameterStore
    /// Adam's second moment v, same layout as the parameters; stored as `adam.v.<name>`.
    public var secondMoment: ParameterStore
    /// The parameters training continues from, when the model file holds their moving
    /// average (`--exponential-smoothing`); stored as `raw.<name>`. Nil otherwise.
    public var rawParameters: ParameterStore?

    public init(metadata: TrainingStateMetadata, firstMoment: ParameterStore, secondMoment: ParameterStore,
                rawParameters: ParameterStore? = nil) {
        self.metadata = metadata
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
        self.rawParameters = rawParameters
    }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<TrainingStateMetadata, Value>) -> Value {
        get { metadata[keyPath: keyPath] }
        set { metadata[keyPath: keyPath] = newValue }
    }
}
