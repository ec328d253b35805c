import S2SCore
import S2STensor
import S2STraining
import XCTest
@testable import S2SModel

/// Shared helpers for the model's tests: tiny configurations, padded random batches, and a
/// central-difference gradient check in the float-appropriate form.
enum GradientCheck {
    /// A tiny configuration with sizes that are not multiples of 16 (exercises SIMD tails).
    static func tinyConfig(tied: Bool = false, dropout: Float = 0, layerNormalization: Bool = false) -> ModelConfig {
        var config = ModelConfig(sourceVocabularySize: 13, targetVocabularySize: 11)
        config.embeddingSize = 4
        config.hiddenSize = 5
        config.attentionSize = 6
        config.embeddingDropout = dropout
        config.stateDropout = dropout
        config.outputDropout = dropout
        config.labelSmoothing = 0.1
        config.tiedEmbeddings = tied
        config.layerNormalization = layerNormalization
        return config
    }

    /// A sentence of `length` random real ids (≥ 4) ending in </s>.
    static func sentence(length: Int, vocabularySize: Int, rng: inout SeededRNG) -> [Int32] {
        (0..<(length - 1)).map { _ in Int32(4 + Int(rng.next() % UInt64(vocabularySize - 4))) } + [SpecialTokens.eos]
    }

    /// A batch of pairs with the given source and target lengths (so padding differs per row).
    static func batch(sourceLengths: [Int], targetLengths: [Int], config: ModelConfig, seed: UInt64) -> Batch {
        var rng = SeededRNG(seed: seed)
        let sources = sourceLengths.map { sentence(length: $0, vocabularySize: config.sourceVocabularySize, rng: &rng) }
        let targets = targetLengths.map { sentence(length: $0, vocabularySize: config.targetVocabularySize, rng: &rng) }
        return Batch(source: TokenMatrix(padding: sources), target: TokenMatrix(padding: targets),
                     pairIndices: Array(0..<sources.count))
    }

    /// A one-worker trainer of `model`'s parameters (dropout keyed by seed 1).
    static func trainer(_ model: Seq2SeqModel, learningRate: Float, clipNorm: Float = 1,
                        workers: Int = 1) throws -> DataParallelTrainer {
        try DataParallelTrainer(config: model.config, parameters: model.parameters,
                                optimizer: Adam(parameters: model.parameters, learningRate: learningRate),
                                clipNorm: clipNorm, workers: workers, dropoutSeed: 1)
    }

    /// One disagreement between an analytic and a numerical derivative.
    struct Mismatch: CustomStringConvertible {
        var tensor: String, index: Int, analytic: Double, numeric: Double
        var description: String { "\(tensor)[\(index)]: analytic \(analytic), numeric \(numeric)" }
    }

    /// Compares `analytic(θ_i)` with (f(θ + h e_i) − f(θ − h e_i)) / 2h for up to `samples` elements
    /// of every named tensor of `store`. An element passes when
    /// |a − n| ≤ relative·max(|a|, |n|) + absolute. Returns the failures and the number checked.
    static func check(store: ParameterStore, analytic: ParameterStore, names: [String]? = nil,
                      samples: Int = 12, step: Float = 1e-2, relative: Double = 2e-2, absolute: Double = 2e-4,
                      objective: () throws -> Double) rethrows -> (mismatches: [Mismatch], checked: Int) {
        var mismatches: [Mismatch] = []
        var checked = 0
        var rng = SeededRNG(seed: 99)
        for entry in store.entries where names?.contains(entry.name) ?? true {
            let values = store.tensor(entry.name), gradient = analytic.tensor(entry.name)
            let indices: [Int] = entry.count <= samples
                ? Array(0..<entry.count)
                : (0..<samples).map { _ in Int(rng.next() % UInt64(entry.count)) }
            for index in indices {
                let saved = values[index]
                values[index] = saved + step
                let plus = try objective()
                values[index] = saved - step
                let minus = try objective()
                values[index] = saved
                let numeric = (plus - minus) / (2 * Double(step))
                let value = Double(gradient[index])
                checked += 1
                if abs(value - numeric) > relative * max(abs(value), abs(numeric)) + absolute {
                    mismatches.append(Mismatch(tensor: entry.name, index: index, analytic: value, numeric: numeric))
                }
            }
        }
        return (mismatches, checked)
    }
}
