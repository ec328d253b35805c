
// Layer normalization (Ba, Kiros & Hinton 2016) of a GRU's two projections, as Nematus and
// Marian apply it with `--layer-normalization`: each row of x·W, and of h·U, is normalized over
// its 3H outputs, then scaled by a learned gain and shifted by the GRU's own bias (b for x·W,
// c for h·U), so the normalization adds gains and no second, redundant bias. It holds the gates'
// pre-activations at one scale whatever the size of the input and state, which is what lets a
// recurrent model take larger steps early in training.
//
// The forward pass keeps x̂ = (v − μ)/σ and 1/σ per row; the backward pass needs nothing else.

/// ε added to the variance under the square root: PyTorch's `nn.LayerNorm` default.
let layerNormEpsilon: Float = 1e-5

/// What a layer normalization's backward pass needs: x̂ [rows, N] and 1/σ [rows].
struct LayerNormCache {
    var normalized: UnsafeMutablePointer<Float>
    var inverseDeviation: UnsafeMutablePointer<Float>

    /// The cache of the rows from `row` on (one time step of a time-major sequence).
    func fromRow(_ row: Int, width: Int) -> LayerNormCache {
        LayerNormCache(normalized: normalized + row * width, inverseDeviation: inverseDeviation + row)
    }
}

/// values: [rows, N], in place → y = gain ⊙ (v − μ)/√(σ² + ε) + shift, μ and σ² per row.
/// gain, shift: [N]. cache: x̂ and 1/σ for the backward pass (nil when decoding).
func layerNormForward(values: UnsafeMutablePointer<Float>, gain: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                      cache: LayerNormCache?, rows: Int, width: Int) {
    let full = width / 16 * 16
    forEachRowChunk(rows: rows) { _, chunk in
        for row in chunk {
            let v = values + row * width
            // Two passes (mean, then squared deviations): E[v²] − μ² loses every digit when
            // |μ| ≫ σ, as it is for a state that saturates the gates.
            var sum = Lanes(repeating: 0)
            var k = 0
            while k < full { sum += loadLanes(v + k, 16); k += 16 }
            var total = sum.sum()
            for i in full..<width { total += v[i] }
            let mean = total / Float(width)
            let meanLanes = Lanes(repeating: mean)
            var squares = Lanes(repeating: 0)
            k = 0
            while k < full { let d = loadLanes(v + k, 16) - meanLanes; squares += d * d; k += 16 }
            var squareTotal = squares.sum()
            for i in full..<width { squareTotal += (v[i] - mean) * (v[i] - mean) }
            let inverse = 1 / (squareTotal / Float(width) + layerNormEpsilon).squareRoot()
            cache?.inverseDeviation[row] = inverse
            let normalizedRow = cache.map { $0.normalized + row * width }
            let inverseLanes = Lanes(repeating: inverse)
            k = 0
            while k < width {
                let w = min(16, width - k)
                let normalized = (loadLanes(v + k, w) - meanLanes) * inverseLanes
                if let normalizedRow { storeLanes(normalized, normalizedRow + k, w) }
                storeLanes(normalized * loadLanes(gain + k, w) + loadLanes(shift + k, w), v + k, w)
                k += 16
            }
        }
    }
}

/// Backward of `layerNormForward`. gradient: [rows, N], in: ∂L/∂y; out, in place: ∂L/∂v =
/// (1/σ)·(ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)) with ĝ = ∂L/∂y ⊙ gain. Accumulates
/// dGain += Σ_rows ∂L/∂y ⊙ x̂ and dShift += Σ_rows ∂L/∂y.
func layerNormBackward(gradient: UnsafeMutablePointer<Float>, dGain: UnsafeMutablePointer<Float>,
                       dShift: UnsafeMutablePointer<Float>, cache: LayerNormCache, gain: UnsafePointer<Float>,
                       rows: Int, width: Int) {
    // The parameter sums first, serially (every row adds into them), before the rows are overwritten.
    addColumnSums(dShift, of: gradient, rows: rows, cols: width)
    var column = 0
    while column < width {
        let w = min(16, width - column)
        var accumulator = loadLanes(dGain + column, w)
        for row in 0..<rows {
            accumulator += loadLanes(gradient + row * width + column, w)
                * loadLanes(cache.normalized + row * width + column, w)
        }
        storeLanes(accumulator, dGain + column, w)
        column += 16
    }
    forEachRowChunk(rows: rows) { _, chunk in
        for row in chunk {
            let g = gradient + row * width, normalized = cache.normalized + row * width
            // Lanes past `width` load as 0 in both ĝ and x̂, so whole-lane sums are exact.
            var gainedSum = Lanes(repeating: 0), projectedSum = Lanes(repeating: 0)
            var k = 0
            while k < width {
                let w = min(16, width - k)
                let gained = loadLanes(g + k, w) * loadLanes(gain + k, w)
                gainedSum += gained
                projectedSum += gained * loadLanes(normalized + k, w)
                k += 16
            }
            let meanGained = Lanes(repeating: gainedSum.sum() / Float(width))
            let meanProjected = Lanes(repeating: projectedSum.sum() / Float(width))
            let inverse = Lanes(repeating: cache.inverseDeviation[row])
            k = 0
            while k < width {
                let w = min(16, width - k)
                let gained = loadLanes(g + k, w) * loadLanes(gain + k, w)
                let x = loadLanes(normalized + k, w)
                storeLanes(inverse * (gained - meanGained - x * meanProjected), g + k, w)
                k += 16
            }
        }
    }
}
