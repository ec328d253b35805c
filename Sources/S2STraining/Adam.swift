import Foundation
import S2SCore
import S2SModel
import S2STensor

/// Adam (Kingma & Ba 2015) over a whole `ParameterStore` in one vectorized loop, with
/// PyTorch's bias correction and optional decoupled weight decay (AdamW, Loshchilov & Hutter).
///
/// The moments are stores of the parameters' layout, so a checkpoint saves them by name.
public final class Adam {
    /// Step size α; the learning-rate schedule sets it before each `update`.
    public var learningRate: Float
    /// Decay of the first moment (0.9).
    public var beta1: Float
    /// Decay of the second moment (0.98 as in Marian/transformer recipes, or 0.999).
    public var beta2: Float
    /// Added to √v̂ to keep the step finite (1e-9).
    public var epsilon: Float
    /// Decoupled weight decay λ: θ ← θ − α·λ·θ each step (0 = off).
    public var weightDecay: Float
    /// m: running mean of gradients, same layout as the parameters.
    public let firstMoment: ParameterStore
    /// v: running mean of squared gradients, same layout as the parameters.
    public let secondMoment: ParameterStore
    /// Number of updates done so far (t in the bias corrections); restored from checkpoints.
    public var step: Int

    public init(parameters: ParameterStore, learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.98,
                epsilon: Float = 1e-9, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoment = ParameterStore(sameLayoutAs: parameters)
        secondMoment = ParameterStore(sameLayoutAs: parameters)
        step = 0
    }

    /// One update of `parameters` from `gradients` (both with the moments' layout).
    public func update(parameters: ParameterStore, gradients: ParameterStore) {
        precondition(parameters.entries == firstMoment.entries && gradients.entries == firstMoment.entries,
                     "Adam: parameter, gradient and moment layouts differ")
        step += 1
        let t = Float(step)
        let correction1 = 1 - Float(pow(Double(beta1), Double(t)))
        let correction2 = 1 - Float(pow(Double(beta2), Double(t)))
        let stepSize = Lanes(repeating: learningRate / correction1)
        let inverseRootCorrection2 = Lanes(repeating: 1 / correction2.squareRoot())
        let b1 = Lanes(repeating: beta1), b2 = Lanes(repeating: beta2)
        let oneMinusB1 = Lanes(repeating: 1 - beta1), oneMinusB2 = Lanes(repeating: 1 - beta2)
        let eps = Lanes(repeating: epsilon)
        let decay = Lanes(repeating: 1 - learningRate * weightDecay)
        let theta = parameters.values.baseAddress!, g = gradients.values.baseAddress!
        let m = firstMoment.values.baseAddress!, v = secondMoment.values.baseAddress!
        let count = parameters.values.count
        // Every tensor is padded to 16 floats in the store, so whole-vector steps are safe up to
        // the rounded count; padding holds zeros and stays zero.
        var i = 0
        while i < count {
            let width = min(16, count - i)
            let gradient = load(g + i, width)
            let mean = b1 * load(m + i, width) + oneMinusB1 * gradient
            let square = b2 * load(v + i, width) + oneMinusB2 * gradient * gradient
            let denominator = square.squareRoot() * inverseRootCorrection2 + eps
            let updated = load(theta + i, width) * decay - stepSize * mean / denominator
            store(mean, m + i, width)
            store(square, v + i, width)
            store(updated, theta + i, width)
            i += 16
        }
    }

    typealias Lanes = SIMD16<Float>

    @inline(__always)
    private func load(_ p: UnsafeMutablePointer<Float>, _ count: Int) -> Lanes {
        if count == 16 { return UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
        var lanes = Lanes(repeating: 0)
        for k in 0..<count { lanes[k] = p[k] }
        return lanes
    }

    @inline(__always)
    private func store(_ lanes: Lanes, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        if count == 16 { UnsafeMutableRawPointer(p).storeBytes(of: lanes, as: Lanes.self); return }
        for k in 0..<count { p[k] = lanes[k] }
    }
}

/// Global gradient-norm clipping (Pascanu et al. 2013): one norm over every tensor.
public enum GradientClipping {
    /// ‖g‖₂ over the whole store (accumulated in Double).
    public static func globalNorm(_ gradients: ParameterStore) -> Float {
        var sum: Double = 0
        let values = gradients.values
        var i = 0
        var lanes = SIMD16<Float>(repeating: 0)
        // Sum blocks of 16 in Float, flush to Double every 1024 blocks to bound rounding.
        var blocks = 0
        while i + 16 <= values.count {
            let x = UnsafeRawPointer(values.baseAddress! + i).loadUnaligned(as: SIMD16<Float>.self)
            lanes += x * x
            i += 16
            blocks += 1
            if blocks == 1024 { sum += Double(lanes.sum()); lanes = .init(repeating: 0); blocks = 0 }
        }
        sum += Double(lanes.sum())
        while i < values.count { sum += Double(values[i] * values[i]); i += 1 }
        return Float(sum.squareRoot())
    }

    /// Scales `gradients` so their global norm is at most `maxNorm` (≤ 0: no clipping);
    /// returns the norm before clipping.
    @discardableResult
    public static func clip(_ gradients: ParameterStore, maxNorm: Float) -> Float {
        let norm = globalNorm(gradients)
        if maxNorm > 0, norm > maxNorm, norm.isFinite {
            BLAS.scale(count: gradients.values.count, alpha: maxNorm / norm, x: gradients.values.baseAddress!)
        }
        return norm
    }
}

/// What one training step reports.
public struct TrainStepResult: Equatable, Sendable {
    /// Mean label-smoothed loss per target token of the batch (before the update).
    public var loss: Float
    /// Real target tokens in the batch.
    public var targetTokens: Int
    /// Global gradient norm before clipping.
    public var gradientNorm: Float
}

/// Training failed in a way that must stop the run.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss or the gradient norm became NaN or infinite at `step` (1-based update count).
    case nonFinite(step: Int, loss: Float, gradientNorm: Float)

    public var description: String {
        switch self {
        case let .nonFinite(step, loss, norm):
            return "training diverged at step \(step): loss \(loss), gradient norm \(norm) (lower the learning rate or clip harder)"
        }
    }
}

/// One model and its optimizer: `trainStep` = zero grads, forward, backward, clip, update.
public final class Seq2SeqTrainer {
    /// The network being trained.
    public let model: Seq2SeqModel
    /// Its optimizer (moments and step count are the optimizer part of a checkpoint).
    public let optimizer: Adam
    /// Maximum global gradient norm (≤ 0: no clipping).
    public var clipNorm: Float

    public init(model: Seq2SeqModel, optimizer: Adam, clipNorm: Float = 1) {
        self.model = model
        self.optimizer = optimizer
        self.clipNorm = clipNorm
    }

    /// Convenience: Adam with the given learning rate over `model`'s parameters.
    public convenience init(model: Seq2SeqModel, learningRate: Float, clipNorm: Float = 1) {
        self.init(model: model, optimizer: Adam(parameters: model.parameters, learningRate: learningRate),
                  clipNorm: clipNorm)
    }

    /// One full update on `batch` (with dropout). Throws `ModelError` for a bad batch, and
    /// `TrainingError.nonFinite` — leaving the parameters untouched — if loss or gradients are
    /// not finite.
    public func trainStep(batch: Batch) throws -> TrainStepResult {
        model.zeroGradients()
        let loss = try model.forwardBackward(batch: batch, training: true)
        let norm = GradientClipping.clip(model.gradients, maxNorm: clipNorm)
        let meanLoss = loss.meanLoss
        guard meanLoss.isFinite, norm.isFinite else {
            throw TrainingError.nonFinite(step: optimizer.step + 1, loss: meanLoss, gradientNorm: norm)
        }
        optimizer.update(parameters: model.parameters, gradients: model.gradients)
        return TrainStepResult(loss: meanLoss, targetTokens: loss.targetTokens, gradientNorm: norm)
    }
}
