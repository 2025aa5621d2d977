import Foundation
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// exp eight lanes at a time, for the kernels where libm's scalar exp dominated (softmax in
/// attention and log-softmax, SiLU and sigmoid).
///
/// Cephes' expf: n = round(x·log₂e), r = x − n·ln 2 (ln 2 in two parts, so r is exact), e^r by
/// a degree-6 polynomial on |r| ≤ ln 2 / 2, and 2ⁿ built in the exponent bits. Relative error
/// is below 3e-7 (tested against Double's exp). Below −87.33 the result is 0 — e^−∞ included —
/// where libm would give denormals under 1.2e-38; above 88 the lane is computed by libm.
public enum VectorMath {
    public typealias Vector = SIMD8<Float>

    @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        let low = x .< -87.33, high = x .> 88
        let v = x.replacing(with: -87.33, where: low).replacing(with: 0, where: high)
        let magic: Float = 12_582_912   // 1.5·2²³: adding it rounds to an integer in the low bits
        let t = v * 1.442_695_04 + magic
        let n = t - magic
        let r = v - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p: Vector = Vector(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        p = p * r * r + r + 1
        // 2ⁿ: t's low bits hold n + 0x400000 (the magic's mantissa); move n + 127 to the exponent.
        let bits = unsafeBitCast(t, to: SIMD8<UInt32>.self)
        let scale = unsafeBitCast((bits &- 0x4B40_0000 &+ 127) &<< 23, to: Vector.self)
        var result = (p * scale).replacing(with: 0, where: low)
        if any(high) { for i in 0..<8 where high[i] { result[i] = Foundation.exp(x[i]) } }
        return result
    }

    /// √x in vector instructions. SIMD's own `squareRoot()` takes each lane through the scalar
    /// square root with a branch to libm's `sqrtf` (for errno) — eight scalar square roots and
    /// shuffles, which made AdamW's update compute-bound. Correctly rounded either way: the
    /// same values.
    @inline(__always)
    public static func squareRoot(_ x: Vector) -> Vector {
        #if arch(x86_64)
        return Vector(lowHalf: _mm_sqrt_ps(x.lowHalf), highHalf: _mm_sqrt_ps(x.highHalf))
        #else
        return x.squareRoot()
        #endif
    }

    /// out[i] = f(a[i]) for n values, eight at a time; `out` may be `a`.
    @inline(__always)
    public static func map(_ a: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
                           _ f: (Vector) -> Vector) {
        map(a, a, a, out, n) { x, _, _ in f(x) }
    }

    /// out[i] = f(a[i], b[i]); `out` may be `a` or `b`.
    @inline(__always)
    public static func map(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                           _ n: Int, _ f: (Vector, Vector) -> Vector) {
        map(a, b, b, out, n) { x, y, _ in f(x, y) }
    }

    /// out[i] = f(a[i], b[i], c[i]); `out` may be any of them. Operands a lane function ignores
    /// are not loaded (the maps above inline to their own loops).
    @inline(__always)
    public static func map(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>,
                           _ out: UnsafeMutablePointer<Float>, _ n: Int, _ f: (Vector, Vector, Vector) -> Vector) {
        var i = 0
        while i + 8 <= n {
            UnsafeMutableRawPointer(out + i).storeBytes(of: f(load(a + i), load(b + i), load(c + i)), as: Vector.self)
            i += 8
        }
        guard i < n else { return }
        var u = Vector(repeating: 0), v = u, w = u
        for j in 0..<(n - i) { u[j] = a[i + j]; v[j] = b[i + j]; w[j] = c[i + j] }
        let r = f(u, v, w)
        for j in 0..<(n - i) { out[i + j] = r[j] }
    }

    /// The largest of n values (−∞ for none).
    @inline(__always)
    public static func maximum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        // Compare-and-blend, not the standard library's pointwiseMax and max(), which are not
        // specialized here and cost a call per eight values.
        var m = Vector(repeating: -.infinity), i = 0
        while i + 8 <= n { let v = load(x + i); m = m.replacing(with: v, where: v .> m); i += 8 }
        var r = -Float.infinity
        for lane in 0..<8 where m[lane] > r { r = m[lane] }
        while i < n { if x[i] > r { r = x[i] }; i += 1 }
        return r
    }

    /// Σ a[i]·b[i], summed in eight lanes, then across them: a fixed order for a given n.
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s = Vector(repeating: 0), i = 0
        while i + 8 <= n { s += load(a + i) * load(b + i); i += 8 }
        var r = s.sum()
        while i < n { r += a[i] * b[i]; i += 1 }
        return r
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }

    /// x[i] = e^(x[i] − shift) in place; returns their sum (a softmax's denominator).
    @inline(__always)
    public static func expShifted(_ x: UnsafeMutablePointer<Float>, _ n: Int, minus shift: Float) -> Float {
        var total = Vector(repeating: 0), i = 0
        while i + 8 <= n {
            let e = exp(load(x + i) - shift)
            UnsafeMutableRawPointer(x + i).storeBytes(of: e, as: Vector.self)
            total += e
            i += 8
        }
        var sum = total.sum()
        while i < n { let e = Foundation.exp(x[i] - shift); x[i] = e; sum += e; i += 1 }
        return sum
    }
}
