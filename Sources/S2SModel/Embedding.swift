import S2STensor

// Embedding lookup: a gather of table rows; its backward is the matching scatter-add.

/// Gathers rows of the table. ids: [N] → output: [N, E] with output[r] = table[ids[r]].
func embeddingForward(output: UnsafeMutablePointer<Float>, ids: UnsafePointer<Int32>,
                      table: UnsafePointer<Float>, rows: Int, embeddingSize: Int) {
    for r in 0..<rows {
        (output + r * embeddingSize).update(from: table + Int(ids[r]) * embeddingSize, count: embeddingSize)
    }
}

/// Backward of `embeddingForward`: dTable[ids[r]] += dOutput[r]. dOutput: [N, E].
func embeddingBackward(dTable: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
                       ids: UnsafePointer<Int32>, rows: Int, embeddingSize: Int) {
    for r in 0..<rows {
        BLAS.axpy(count: embeddingSize, alpha: 1, x: dOutput + r * embeddingSize,
                  y: dTable + Int(ids[r]) * embeddingSize)
    }
}
