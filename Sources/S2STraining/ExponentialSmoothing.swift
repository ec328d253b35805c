import S2SCore
import S2STensor

/// The exponential moving average of the parameters (Polyak averaging; Marian's
/// `--exponential-smoothing`): after update t, average ← average + a_t · (θ − average) with
/// a_t = max(rate, 9 / (10 + t)), so early in a run, when θ moves fast, the average follows it
/// closely and later it spans about the last 1/rate updates (TensorFlow's warmed-up decay). The
/// average is what validation scores and checkpoints hold; θ stays in the training state.
public final class ExponentialSmoothing {
    /// The smallest step the average takes towards the parameters.
    public let rate: Float
    /// The average, same layout as the parameters.
    public let average: ParameterStore

    /// An average that starts at `parameters` (a copy).
    public convenience init(rate: Float, startingAt parameters: ParameterStore) {
        let average = ParameterStore(sameLayoutAs: parameters)
        average.copy(from: parameters)
        self.init(rate: rate, average: average)
    }

    /// An average restored from a checkpoint.
    public init(rate: Float, average: ParameterStore) {
        self.rate = rate
        self.average = average
    }

    /// The step after update `update` (1-based).
    func step(after update: Int) -> Float { max(rate, 9 / (10 + Float(update))) }

    /// Moves the average towards `parameters` after update `update`, in `threads` slices.
    public func update(from parameters: ParameterStore, update: Int, threads: Int) {
        precondition(parameters.entries == average.entries, "ExponentialSmoothing: layouts differ")
        let a = SIMD16<Float>(repeating: step(after: update))
        let pointers = UncheckedSendable((average.values.baseAddress!, UnsafePointer(parameters.values.baseAddress!)))
        forEachSlice(count: average.values.count, parts: threads) { slice in
            let (mean, theta) = pointers.value
            var i = slice.lowerBound
            while i + 16 <= slice.upperBound {
                let m = UnsafeRawPointer(mean + i).loadUnaligned(as: SIMD16<Float>.self)
                let x = UnsafeRawPointer(theta + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(mean + i).storeBytes(of: m + a * (x - m), as: SIMD16<Float>.self)
                i += 16
            }
            while i < slice.upperBound { mean[i] += a[0] * (theta[i] - mean[i]); i += 1 }
        }
    }
}
