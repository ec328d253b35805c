import Dispatch
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

    /// One update of `parameters` from `gradients` (both with the moments' layout), in `threads`
    /// slices side by side (elementwise, so the same bits however many).
    public func update(parameters: ParameterStore, gradients: ParameterStore, threads: Int = 1) {
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
        let pointers = UncheckedSendable((parameters.values.baseAddress!, UnsafePointer(gradients.values.baseAddress!),
                                          firstMoment.values.baseAddress!, secondMoment.values.baseAddress!))
        // Every tensor is padded to 16 floats in the store, so whole-vector steps are safe up to
        // the rounded count; padding holds zeros and stays zero.
        forEachSlice(count: parameters.values.count, parts: threads) { slice in
            let (theta, g, m, v) = pointers.value
            var i = slice.lowerBound
            while i < slice.upperBound {
                let width = min(16, slice.upperBound - i)
                let gradient = Self.load(g + i, width)
                let mean = b1 * Self.load(m + i, width) + oneMinusB1 * gradient
                let square = b2 * Self.load(v + i, width) + oneMinusB2 * gradient * gradient
                let denominator = square.squareRoot() * inverseRootCorrection2 + eps
                let updated = Self.load(theta + i, width) * decay - stepSize * mean / denominator
                Self.store(mean, m + i, width)
                Self.store(square, v + i, width)
                Self.store(updated, theta + i, width)
                i += 16
            }
        }
    }

    typealias Lanes = SIMD16<Float>

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>, _ count: Int) -> Lanes {
        if count == 16 { return UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
        var lanes = Lanes(repeating: 0)
        for k in 0..<count { lanes[k] = p[k] }
        return lanes
    }

    @inline(__always)
    private static func store(_ lanes: Lanes, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        if count == 16 { UnsafeMutableRawPointer(p).storeBytes(of: lanes, as: Lanes.self); return }
        for k in 0..<count { p[k] = lanes[k] }
    }
}

/// Global gradient-norm clipping (Pascanu et al. 2013): one norm over every tensor.
public enum GradientClipping {
    /// Floats per partial sum of the norm: 1,024 vectors of 16, summed in Float, then in Double.
    static let chunk = 1 << 14

    /// ‖g‖₂ over the whole store: Float partial sums of fixed chunks, added in chunk order in
    /// Double, so the same bits however many `threads` compute the chunks.
    public static func globalNorm(_ gradients: ParameterStore, threads: Int = 1) -> Float {
        let values = UnsafePointer(gradients.values.baseAddress!), count = gradients.values.count
        let chunks = (count + chunk - 1) / chunk
        let partials = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(chunks, 1))
        defer { partials.deallocate() }
        let shared = UncheckedSendable((values, partials))
        forEachSlice(count: chunks, parts: threads, alignment: 1, minimum: 4) { range in
            let (values, partials) = shared.value
            for c in range {
                var lanes = SIMD16<Float>(repeating: 0), i = c * chunk
                let end = min(count, i + chunk)
                while i + 16 <= end {
                    let x = UnsafeRawPointer(values + i).loadUnaligned(as: SIMD16<Float>.self)
                    lanes += x * x
                    i += 16
                }
                var partial = Double(lanes.sum())
                while i < end { partial += Double(values[i] * values[i]); i += 1 }
                partials[c] = partial
            }
        }
        return Float(partials.prefix(chunks).reduce(0, +).squareRoot())
    }

    /// Scales `gradients` so their global norm is at most `maxNorm` (≤ 0: no clipping);
    /// returns the norm before clipping.
    @discardableResult
    public static func clip(_ gradients: ParameterStore, maxNorm: Float, threads: Int = 1) -> Float {
        let norm = globalNorm(gradients, threads: threads)
        if maxNorm > 0, norm > maxNorm, norm.isFinite {
            let scale = maxNorm / norm, values = UncheckedSendable(gradients.values.baseAddress!)
            forEachSlice(count: gradients.values.count, parts: threads) { slice in
                BLAS.scale(count: slice.count, alpha: scale, x: values.value + slice.lowerBound)
            }
        }
        return norm
    }
}

/// Runs `body` on up to `parts` consecutive slices of 0..<count side by side, each at least
/// `minimum` long (one slice when `count` is small); slice bounds are multiples of `alignment`.
func forEachSlice(count: Int, parts: Int, alignment: Int = 16, minimum: Int = 1 << 16,
                  _ body: @Sendable (Range<Int>) -> Void) {
    let slices = max(1, min(parts, count / max(minimum, 1)))
    if slices == 1 { body(0..<count); return }
    DispatchQueue.concurrentPerform(iterations: slices) { slice in
        let start = count * slice / slices / alignment * alignment
        let end = slice == slices - 1 ? count : count * (slice + 1) / slices / alignment * alignment
        body(start..<end)
    }
}
