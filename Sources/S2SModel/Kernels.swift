import Dispatch
import S2STensor

/// Sixteen Float lanes: the unit of every elementwise kernel (see PLATFORM-NOTES: plain SIMD16
/// arithmetic is fast at every flag setting, libm is not).
typealias Lanes = SIMD16<Float>

/// Loads `count` (≤ 16) floats from `pointer`; missing lanes are 0.
@inline(__always)
func loadLanes(_ pointer: UnsafePointer<Float>, _ count: Int) -> Lanes {
    if count == 16 { return UnsafeRawPointer(pointer).loadUnaligned(as: Lanes.self) }
    var lanes = Lanes(repeating: 0)
    for i in 0..<count { lanes[i] = pointer[i] }
    return lanes
}

/// Stores the first `count` (≤ 16) lanes of `lanes` at `pointer`.
@inline(__always)
func storeLanes(_ lanes: Lanes, _ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
    if count == 16 {
        UnsafeMutableRawPointer(pointer).storeBytes(of: lanes, as: Lanes.self)
    } else {
        for i in 0..<count { pointer[i] = lanes[i] }
    }
}

/// A growable scratch array of Floats, reused across batches so the hot path never allocates
/// once the largest batch shape has been seen.
final class FloatBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init(capacity: Int = 16) {
        self.capacity = max(capacity, 16)
        pointer = .allocate(capacity: self.capacity)
        pointer.initialize(repeating: 0, count: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// A pointer to at least `count` floats; old contents are lost when it has to grow.
    @discardableResult
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = count + count / 4
            pointer = .allocate(capacity: capacity)
            pointer.initialize(repeating: 0, count: capacity)
        }
        return pointer
    }

    /// Reserves `count` floats and sets them to zero.
    @discardableResult
    func zeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = reserve(count)
        p.update(repeating: 0, count: count)
        return p
    }
}

/// y[r, :] = bias for every row r of the [rows, cols] matrix y (so a GEMM with β = 1 adds x·W).
@inline(__always)
func broadcastRows(_ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows { (y + r * cols).update(from: bias, count: cols) }
}

/// sums[c] += Σ_r m[r, c] over the [rows, cols] matrix m (a bias gradient).
@inline(__always)
func addColumnSums(_ sums: UnsafeMutablePointer<Float>, of m: UnsafePointer<Float>, rows: Int, cols: Int) {
    var k = 0
    while k < cols {
        let width = min(16, cols - k)
        var accumulator = loadLanes(sums + k, width)
        for r in 0..<rows { accumulator += loadLanes(m + r * cols + k, width) }
        storeLanes(accumulator, sums + k, width)
        k += 16
    }
}

/// y ⊙= mask elementwise over `count` floats.
@inline(__always)
func multiplyInPlace(_ y: UnsafeMutablePointer<Float>, by mask: UnsafePointer<Float>, count: Int) {
    var k = 0
    while k < count {
        let width = min(16, count - k)
        storeLanes(loadLanes(y + k, width) * loadLanes(mask + k, width), y + k, width)
        k += 16
    }
}

/// Fills `mask[0..<count]` with inverted-dropout factors: 0 with probability `rate`, else 1/(1−rate).
func fillDropoutMask(_ mask: UnsafeMutablePointer<Float>, count: Int, rate: Float, rng: inout SeededRNG) {
    let keep = 1 / (1 - rate)
    for i in 0..<count { mask[i] = rng.uniform() < rate ? 0 : keep }
}

/// exp, σ and tanh over 16 lanes, as `Activations` computes them but with the clamp and the
/// small-argument switch done by bitwise selects: the standard library's `clamped` and
/// `replacing(with:where:)` compile to per-lane calls (PLATFORM-NOTES: 15–38 ns per element),
/// which profiling showed costing 15% of a training step.
enum FastMath {
    /// Lanes of `a` where `mask` is set, else lanes of `b`.
    @inline(__always)
    static func select(_ mask: SIMDMask<SIMD16<Int32>>, _ a: Lanes, _ b: Lanes) -> Lanes {
        let m = unsafeBitCast(mask, to: SIMD16<Int32>.self)
        let aBits = unsafeBitCast(a, to: SIMD16<Int32>.self), bBits = unsafeBitCast(b, to: SIMD16<Int32>.self)
        return unsafeBitCast((aBits & m) | (bBits & ~m), to: Lanes.self)
    }

    /// eˣ (Cephes polynomial, 2ⁿ by exponent bits), saturating outside [−87.3, 88.3].
    @inline(__always)
    static func exp(_ x: Lanes) -> Lanes {
        let low = Lanes(repeating: -87.3), high = Lanes(repeating: 88.3)
        var clamped = select(x .< low, low, x)
        clamped = select(clamped .> high, high, clamped)
        let magic = Lanes(repeating: 12_582_912.0)
        let shifted = clamped * Lanes(repeating: 1.442_695_04) + magic
        let n = shifted - magic
        var r = clamped - n * Lanes(repeating: 0.693_359_375)
        r = r - n * Lanes(repeating: -2.121_944_4e-4)
        var p = Lanes(repeating: 1.987_569_1e-4)
        p = p * r + Lanes(repeating: 1.398_199_9e-3)
        p = p * r + Lanes(repeating: 8.333_451_9e-3)
        p = p * r + Lanes(repeating: 4.166_579_6e-2)
        p = p * r + Lanes(repeating: 1.666_666_5e-1)
        p = p * r + Lanes(repeating: 5.000_000_1e-1)
        let poly = p * (r * r) + r + Lanes(repeating: 1)
        let nBits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- SIMD16<Int32>(repeating: 0x4B40_0000)
        let scaleBits = (nBits &+ SIMD16<Int32>(repeating: 127)) &<< SIMD16<Int32>(repeating: 23)
        return poly * unsafeBitCast(scaleBits, to: Lanes.self)
    }

    /// σ(x) = 1 / (1 + e⁻ˣ).
    @inline(__always)
    static func sigmoid(_ x: Lanes) -> Lanes {
        Lanes(repeating: 1) / (Lanes(repeating: 1) + exp(-x))
    }

    /// tanh(x) = 2σ(2x) − 1, with the odd Taylor series near 0 against cancellation.
    @inline(__always)
    static func tanh(_ x: Lanes) -> Lanes {
        let viaSigmoid = Lanes(repeating: 2) * sigmoid(Lanes(repeating: 2) * x) - Lanes(repeating: 1)
        let x2 = x * x
        let series = x * (Lanes(repeating: 1) + x2 * (Lanes(repeating: -1.0 / 3.0) + x2 * Lanes(repeating: 2.0 / 15.0)))
        return select(x2 .< Lanes(repeating: 0.0625 * 0.0625), series, viaSigmoid)
    }

    /// x ← tanh(x) over `count` floats.
    static func tanhInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var k = 0
        while k < count {
            let w = min(16, count - k)
            storeLanes(tanh(loadLanes(x + k, w)), x + k, w)
            k += 16
        }
    }
}

/// Splits rows 0..<rows into as many contiguous chunks as BLAS has threads (the one `--threads`
/// knob) and runs `body(chunkIndex, rows)` on each chunk concurrently; rows must be independent.
/// Between GEMMs the BLAS threads are idle, so the elementwise work (softmaxes, attention) uses
/// those cores too.
func forEachRowChunk(rows: Int, minimumRowsPerChunk: Int = 8, _ body: (Int, Range<Int>) -> Void) {
    let chunks = rowChunkCount(rows: rows, minimumRowsPerChunk: minimumRowsPerChunk)
    if chunks <= 1 { body(0, 0..<rows); return }
    withoutActuallyEscaping(body) { escapable in
        // The chunks touch disjoint rows; the closure is only called within this scope.
        let box = UncheckedSendableBody(run: escapable)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            box.run(chunk, (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks))
        }
    }
}

/// How many chunks `forEachRowChunk` uses for `rows` rows.
func rowChunkCount(rows: Int, minimumRowsPerChunk: Int = 8) -> Int {
    min(BLAS.threads, max(1, rows / minimumRowsPerChunk))
}

private struct UncheckedSendableBody: @unchecked Sendable {
    let run: (Int, Range<Int>) -> Void
}
