import Foundation
import S2SCheckpoint
import S2SCorpus
import S2SIO
import S2SModel
import S2SSubword

// What `s2s train` decides before its first update: the run to continue, the validation set,
// and whether the largest batch fits in memory.

/// A saved run to continue: its model file and training state, read once.
public struct SavedRun {
    /// The model file's path (`-o` of the run).
    public let path: String
    public let checkpoint: Checkpoint
    public let state: TrainingState
    /// The vocabulary embedded in the model.
    public let vocabulary: SubwordVocabulary

    /// Opens the run saved at `path`. `vocabularyPath`, when given, must hold the vocabulary
    /// the model was trained with.
    public init(path: String, vocabularyPath: String? = nil) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw TrainerError.nothingToResume(modelPath: path) }
        // Temporaries left by a write that was killed half-way are never read; tidy them up.
        _ = try? CheckpointFiles.removeStaleTemporaries(of: path)
        (checkpoint, state) = try CheckpointIO.resume(from: path)
        vocabulary = try SubwordVocabulary(serialized: checkpoint.vocabulary.text, name: path)
        if let vocabularyPath, try SubwordVocabulary(contentsOfFile: vocabularyPath).fingerprint != vocabulary.fingerprint {
            throw TrainerError.vocabularyFileMismatch(vocabularyPath: vocabularyPath, modelPath: path)
        }
        self.path = path
    }
}

extension ValidationSet {
    /// The validation set of two aligned files (`--valid-src`, `--valid-tgt`).
    public init(sourcePath: String, referencePath: String, vocabulary: SubwordVocabulary, maxLength: Int) throws {
        let sources = try LineReader(path: sourcePath).readAllLines()
        let references = try LineReader(path: referencePath).readAllLines()
        guard sources.count == references.count else {
            throw TrainerError.validationLineCounts(sourcePath: sourcePath, sourceLines: sources.count,
                                                    referencePath: referencePath, referenceLines: references.count)
        }
        self.init(sourceLines: sources, referenceLines: references, vocabulary: vocabulary, maxLength: maxLength)
    }

    /// Training pairs held out for validation when no validation files are given: 2% of the
    /// corpus, at least 1 and at most 500.
    public static func heldOutCount(corpusSize: Int) -> Int { min(500, max(1, corpusSize / 50)) }

    /// Holds `heldOutCount` random pairs of `corpus` out for validation (the same ones on
    /// `--resume`: they depend only on the seed); returns the rest for training.
    public static func holdingOut(from corpus: ParallelCorpus, vocabulary: SubwordVocabulary,
                                  seed: UInt64) -> (training: ParallelCorpus, validation: ValidationSet) {
        let (training, heldOut) = corpus.holdingOut(heldOutCount(corpusSize: corpus.count), seed: seed)
        return (training, ValidationSet(heldOut: heldOut, of: corpus, vocabulary: vocabulary))
    }
}

/// The memory a training run needs for its largest batch, before the first update.
public struct TrainingMemoryEstimate: Sendable {
    /// Parameters, gradients, Adam's moments, the parameters' moving average when smoothing,
    /// and the activations of the largest batch.
    public let bytes: Int
    /// That batch's shape.
    public let largestBatch: BatchShape

    /// The largest batch of the first epoch by `Seq2SeqModel.trainingMemoryBytes`. BPE-dropout
    /// lengthens sentences, so their lengths are scaled by 1 + 2p for it.
    public init(config: ModelConfig, corpus: ParallelCorpus, options: TrainingOptions) throws {
        let growth = 1 + 2 * Double(options.bpeDropout)
        func grown(_ length: Int) -> Int { Int((Double(length) * growth).rounded(.up)) }
        var largest = (bytes: 0, shape: BatchShape(rows: 0, longestSource: 0, longestTarget: 0))
        for shape in try BatchIterator(corpus: corpus, options: options.batching).epochBatchShapes() {
            let bytes = Seq2SeqModel.trainingMemoryBytes(config: config, batchSize: shape.rows,
                                                         sourceLength: grown(shape.longestSource),
                                                         targetLength: grown(shape.longestTarget))
            if bytes > largest.bytes { largest = (bytes, shape) }
        }
        bytes = largest.bytes + (options.exponentialSmoothing > 0 ? 4 * Seq2SeqParameters.count(for: config) : 0)
        largestBatch = largest.shape
    }

    /// Throws `TrainerError.notEnoughMemory` when the estimate exceeds `available` bytes
    /// (`MemAvailable`, and the cgroup limit when there is one), instead of the run being
    /// killed part-way.
    public func check(available: Int? = AvailableMemory.bytes()) throws {
        if let available, bytes > available {
            throw TrainerError.notEnoughMemory(needed: bytes, available: available, largestBatch: largestBatch)
        }
    }
}

extension BatchShape {
    /// `64 × 20 source × 22 target tokens`.
    public var summary: String { "\(rows) × \(longestSource) source × \(longestTarget) target tokens" }
}
