import S2STensor

// Each layer declares its parameter tensors once, in a struct generic over what a tensor is:
// its declaration (name, shape, initialization), its weights as the forward pass reads them,
// or its gradient as the backward pass adds into it. `map` turns one into the other, so the
// store's layout, the checkpoint's names, the gradients, Adam's moments and the packed
// decoding copies all come from the one declaration, and no tensor name is spelled twice.

/// How a parameter tensor starts (docs/model.md, "Initialization").
public enum Initialization: Sendable, Equatable {
    /// 0 (biases).
    case zeros
    /// 1 (layer-normalization gains: the identity scale).
    case ones
    /// N(0, σ²): embeddings, N(0, 1) as PyTorch's nn.Embedding; a target embedding tied to the
    /// output layer N(0, 1/E), so the first logits t·Eᵀ have unit variance instead of E's
    /// (a first loss near ln V, not several times it).
    case normal(standardDeviation: Float)
    /// U(±√(6 / (fan_in + fan_out))) over a [fan_in, fan_out] matrix (Glorot & Bengio 2010);
    /// a vector [n] counts as [n, 1].
    case glorotUniform
    /// Each [H, H] gate block of an [H, gates·H] recurrent matrix orthogonal (Saxe et al. 2014).
    case orthogonalBlocks(gates: Int)
}

/// One parameter tensor as the layer that uses it declares it.
public struct TensorDeclaration: Sendable, Equatable {
    /// Stable dotted name: the key in the store and in checkpoints (`decoder.gru1.W`).
    public let name: String
    /// Row-major shape; a matrix is [in, out] (y = x·W).
    public let shape: [Int]
    public let initialization: Initialization
    /// Whether the forward pass multiplies by it (packed once for decoding's small products),
    /// rather than looking rows up in it (embeddings) or adding it (biases, gains).
    public let isMultiplied: Bool

    init(_ name: String, _ shape: [Int], _ initialization: Initialization, multiplied: Bool = false) {
        self.name = name
        self.shape = shape
        self.initialization = initialization
        self.isMultiplied = multiplied
    }

    /// A weight matrix [in, out] that the forward pass multiplies by.
    static func matrix(_ name: String, _ rows: Int, _ columns: Int,
                       _ initialization: Initialization = .glorotUniform) -> TensorDeclaration {
        TensorDeclaration(name, [rows, columns], initialization, multiplied: true)
    }

    /// A bias [n], starting at 0.
    static func bias(_ name: String, _ count: Int) -> TensorDeclaration { TensorDeclaration(name, [count], .zeros) }

    /// A layer-normalization gain [n], starting at 1.
    static func gain(_ name: String, _ count: Int) -> TensorDeclaration { TensorDeclaration(name, [count], .ones) }
}

/// A parameter as the forward and backward passes read it: its values and, for a matrix in
/// small products, packed copies of it (`PackedWeights`) and of its transpose, and when
/// decoding in 8 bits its quantized copy (`Int8Weights`) with the decoder's scratch; nil where
/// none.
struct Weight {
    let values: UnsafePointer<Float>
    let packed: PackedMatrix?
    var packedTransposed: PackedMatrix? = nil
    var int8: Int8Matrix? = nil
    var int8Scratch: Int8Scratch? = nil

    /// C ← A·op(W) + β·C (β 0 or 1) for A [m, k] and op(W) [k, n], W stored with leading
    /// dimension ldb (as [n, k] when `transposedB`): by the 8-bit copy when there is one,
    /// else `BLAS.gemm` (the packed copy for small products, OpenBLAS otherwise).
    func product(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, ldb: Int, beta: Float,
                 c: UnsafeMutablePointer<Float>, ldc: Int, transposedB: Bool = false) {
        if let int8, let int8Scratch {
            int8.multiply(m: m, a: a, lda: lda, beta: beta, c: c, ldc: ldc, scratch: int8Scratch)
        } else {
            BLAS.gemm(transB: transposedB, m: m, n: n, k: k, a: a, lda: lda, b: values, ldb: ldb, packedB: packed,
                      beta: beta, c: c, ldc: ldc)
        }
    }
}

extension ParameterStore {
    /// The elements of the declared tensor.
    func pointer(_ declaration: TensorDeclaration) -> UnsafeMutablePointer<Float> {
        tensor(declaration.name).baseAddress!
    }

    /// The declared tensor as the forward pass reads it, with its packed copy if `packed` has one.
    func weight(_ declaration: TensorDeclaration, packed: PackedWeights? = nil) -> Weight {
        Weight(values: UnsafePointer(pointer(declaration)), packed: packed?[declaration],
               packedTransposed: packed?.transposed(declaration))
    }
}
