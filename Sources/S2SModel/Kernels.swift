import Dispatch
import S2SCore
import S2STensor

/// Sixteen Float lanes: the unit of every elementwise kernel (see PLATFORM-NOTES: plain SIMD16
/// arithmetic is fast at every flag setting, libm is not). exp, σ and tanh over lanes, and the
/// bitwise `select`, are `Activations`' (S2STensor): the one implementation for every module.
typealias Lanes = Activations.Vector

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
