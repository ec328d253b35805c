/// Vectorized elementwise nonlinearities: exp, sigmoid, tanh, over `SIMD16<Float>`.
///
/// libm's `expf`/`tanhf` are scalar calls that cost as much as a GRU step's GEMM
/// (../shared/PLATFORM-NOTES.md); these polynomial kernels run 16 lanes at a time and stay
/// within a few ULP of libm for exp (absolute error ≲ 2e-7 for sigmoid and tanh). Inputs are clamped so no overflow reaches a
/// NaN: exp saturates to ~1.2e-38 below −87.3 and to ~1.7e38 above 88.3.
///
/// Every lane-wise choice (the clamp, tanh's small-argument switch) is a bitwise select through
/// `SIMD16<Int32>`: the standard library's `clamped`, `pointwiseMin/Max` and
/// `replacing(with:where:)` compile to per-lane loops (PLATFORM-NOTES), which once cost a
/// noticeable part of a training step. The kernels are `@inlinable` so the model's fused
/// loops (GRU gates, attention, softmax) inline them across the module boundary.
public enum Activations {
    public typealias Vector = SIMD16<Float>

    /// Lanes of `a` where `mask` is set, else lanes of `b`; bits are copied unchanged (NaN,
    /// ±∞ and −0 included).
    @inlinable @inline(__always)
    public static func select(_ mask: SIMDMask<SIMD16<Int32>>, _ a: Vector, _ b: Vector) -> Vector {
        let m = unsafeBitCast(mask, to: SIMD16<Int32>.self)
        let aBits = unsafeBitCast(a, to: SIMD16<Int32>.self), bBits = unsafeBitCast(b, to: SIMD16<Int32>.self)
        return unsafeBitCast((aBits & m) | (bBits & ~m), to: Vector.self)
    }

    /// Lanes of `a` where `mask` is all ones, else lanes of `b` (mask lanes are 0 or −1).
    @inlinable @inline(__always) @usableFromInline
    static func blend(_ mask: SIMD16<Int32>, _ a: Vector, _ b: Vector) -> Vector {
        let aBits = unsafeBitCast(a, to: SIMD16<Int32>.self), bBits = unsafeBitCast(b, to: SIMD16<Int32>.self)
        return unsafeBitCast((aBits & mask) | (bBits & ~mask), to: Vector.self)
    }

    /// −1 in the lanes of `v` whose sign bit is set, else 0. Comparing by the sign of a difference
    /// keeps the mask in integer lanes; a `.<` mask is built as 16 booleans and repacked, which
    /// is slower than the whole kernel done this way.
    @inlinable @inline(__always) @usableFromInline
    static func signMask(_ v: Vector) -> SIMD16<Int32> {
        unsafeBitCast(v, to: SIMD16<Int32>.self) &>> SIMD16<Int32>(repeating: 31)
    }

    /// −1 in the NaN lanes of `x`, else 0: |x|'s bits exceed those of +∞ exactly for NaN.
    @inlinable @inline(__always) @usableFromInline
    static func nanMask(_ x: Vector) -> SIMD16<Int32> {
        let magnitude = unsafeBitCast(x, to: SIMD16<Int32>.self) & SIMD16<Int32>(repeating: 0x7FFF_FFFF)
        return (SIMD16<Int32>(repeating: 0x7F80_0000) &- magnitude) &>> SIMD16<Int32>(repeating: 31)
    }

    /// The lane-wise maximum of `a` and `b`, by the sign of a − b (a sign test, not a `.>` mask
    /// and not `pointwiseMax`, both per-lane loops at baseline). A lane where either is NaN
    /// yields one of the two, unspecified which.
    @inlinable @inline(__always)
    public static func maximum(_ a: Vector, _ b: Vector) -> Vector {
        blend(signMask(a - b), b, a)
    }

    /// eˣ, lane by lane (Cephes `expf` polynomial with a 2ⁿ scaling by exponent-bit arithmetic).
    @inlinable @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        let low = Vector(repeating: -87.3), high = Vector(repeating: 88.3)
        // x < low ⇔ x − low < 0 (±∞ included); a NaN lane is kept as NaN whatever its sign bit.
        let notNaN = ~nanMask(x)
        var clamped = blend(signMask(x - low) & notNaN, low, x)
        clamped = blend(signMask(high - clamped) & notNaN, high, clamped)
        // n = round(x / ln 2) by the magic-number trick: adding 1.5·2²³ rounds to an integer
        // whose value sits in the low mantissa bits.
        let magic = Vector(repeating: 12_582_912.0)
        let shifted = clamped * Vector(repeating: 1.442_695_04) + magic
        let n = shifted - magic
        // r = x − n·ln2, with ln2 split in two for accuracy.
        var r = clamped - n * Vector(repeating: 0.693_359_375)
        r = r - n * Vector(repeating: -2.121_944_4e-4)
        var p = Vector(repeating: 1.987_569_1e-4)
        p = p * r + Vector(repeating: 1.398_199_9e-3)
        p = p * r + Vector(repeating: 8.333_451_9e-3)
        p = p * r + Vector(repeating: 4.166_579_6e-2)
        p = p * r + Vector(repeating: 1.666_666_5e-1)
        p = p * r + Vector(repeating: 5.000_000_1e-1)
        let poly = p * (r * r) + r + Vector(repeating: 1)
        // 2ⁿ: the integer n is in the low bits of `shifted`; move it into the exponent field.
        let nBits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- SIMD16<Int32>(repeating: 0x4B40_0000)
        let scaleBits = (nBits &+ SIMD16<Int32>(repeating: 127)) &<< SIMD16<Int32>(repeating: 23)
        return poly * unsafeBitCast(scaleBits, to: Vector.self)
    }

    /// σ(x) = 1 / (1 + e⁻ˣ).
    @inlinable @inline(__always)
    public static func sigmoid(_ x: Vector) -> Vector {
        Vector(repeating: 1) / (Vector(repeating: 1) + exp(-x))
    }

    /// tanh(x) as a rational function p(x)/q(x), odd of degree 13 over even of degree 6, on
    /// |x| < 7.9053 (the minimax coefficients of Eigen's float tanh); exactly ±1 beyond, where
    /// float tanh rounds to ±1 anyway; x itself for |x| < 0.0004, where tanh(x) = x to float
    /// precision and the ratio would lose relative accuracy; NaN for NaN. Absolute error
    /// ≤ 4e-7 (tested against libm). One division and no exp: 0.7 ns per element against 1.8 ns
    /// for 2σ(2x) − 1, and tanh is the attention's inner loop.
    @inlinable @inline(__always)
    public static func tanh(_ x: Vector) -> Vector {
        let bits = unsafeBitCast(x, to: SIMD16<Int32>.self)
        let magnitude = unsafeBitCast(bits & SIMD16<Int32>(repeating: 0x7FFF_FFFF), to: Vector.self)
        let x2 = x * x
        var p = Vector(repeating: -2.760_768_477_423_55e-16)
        p = p * x2 + Vector(repeating: 2.000_187_904_824_77e-13)
        p = p * x2 + Vector(repeating: -8.604_671_522_137_35e-11)
        p = p * x2 + Vector(repeating: 5.122_297_090_371_14e-08)
        p = p * x2 + Vector(repeating: 1.485_722_357_179_79e-05)
        p = p * x2 + Vector(repeating: 6.372_619_288_754_36e-04)
        p = p * x2 + Vector(repeating: 4.893_524_558_917_86e-03)
        p = p * x
        var q = Vector(repeating: 1.198_258_394_667_02e-06)
        q = q * x2 + Vector(repeating: 1.185_347_056_866_54e-04)
        q = q * x2 + Vector(repeating: 2.268_434_632_439_00e-03)
        q = q * x2 + Vector(repeating: 4.893_525_185_543_85e-03)
        var result = p / q
        // Lane selects by sign tests, as everywhere here: ±1 past the bound (also for ±∞, whose
        // ratio is NaN), x for tiny |x|, and NaN lanes passed through whatever their sign bit.
        let signedOne = unsafeBitCast((bits & SIMD16<Int32>(repeating: Int32(bitPattern: 0x8000_0000)))
                                          | SIMD16<Int32>(repeating: 0x3F80_0000), to: Vector.self)
        result = blend(signMask(Vector(repeating: 7.905_311_107_635_498) - magnitude), signedOne, result)
        result = blend(signMask(magnitude - Vector(repeating: 0.0004)), x, result)
        return blend(nanMask(x), x, result)
    }

    /// Applies `transform` to every element of `buffer` in place, 16 lanes at a time; the tail
    /// is padded with zeros and written back partially, so any length works.
    @inlinable @inline(__always)
    public static func apply(_ buffer: UnsafeMutableBufferPointer<Float>, _ transform: (Vector) -> Vector) {
        guard let base = buffer.baseAddress else { return }
        let count = buffer.count
        var i = 0
        while i + 16 <= count {
            let raw = UnsafeMutableRawPointer(base + i)
            let v = raw.loadUnaligned(as: Vector.self)
            raw.storeBytes(of: transform(v), as: Vector.self)
            i += 16
        }
        if i < count {
            var v = Vector(repeating: 0)
            for lane in 0..<(count - i) { v[lane] = base[i + lane] }
            let out = transform(v)
            for lane in 0..<(count - i) { base[i + lane] = out[lane] }
        }
    }

    // The buffer forms pass closure literals, not the overloaded function names: a bare `tanh`
    // becomes a thunk called through a pointer for every 16 lanes, with the vector spilled to the
    // stack around each call; a literal inlines into the loop.

    /// x ← σ(x) over a buffer.
    public static func sigmoidInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) { apply(buffer) { sigmoid($0) } }
    /// x ← tanh(x) over a buffer.
    public static func tanhInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) { apply(buffer) { tanh($0) } }
    /// x ← eˣ over a buffer.
    public static func expInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) { apply(buffer) { exp($0) } }

    /// Scalar σ(x), for code that is not on a hot path.
    @inlinable @inline(__always)
    public static func sigmoid(_ x: Float) -> Float { sigmoid(Vector(repeating: x))[0] }
    /// Scalar tanh(x), for code that is not on a hot path.
    @inlinable @inline(__always)
    public static func tanh(_ x: Float) -> Float { tanh(Vector(repeating: x))[0] }
    /// Scalar eˣ, for code that is not on a hot path.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }
}
