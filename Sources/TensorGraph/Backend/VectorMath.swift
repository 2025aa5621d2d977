import AttentionBaseline
import Foundation
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// exp eight lanes at a time, for the kernels where libm's scalar exp dominated (softmax in
/// attention and log-softmax, SiLU and sigmoid), and the loops around it. `exp`, `maximum`, `dot`
/// and `expShifted` are the attention kernel's (`FlashKernel` in AttentionBaseline, baseline x86-64,
/// eight lanes), inlined here: one definition for TensorGraph and the per-CPU attention modules.
/// exp is Cephes' expf, relative error below 3e-7 (tested against Double's exp); below −87.33 the
/// result is 0 — e^−∞ included — and above 88 the lane is computed by libm.
public enum VectorMath {
    public typealias Vector = SIMD8<Float>

    @inline(__always)
    public static func exp(_ x: Vector) -> Vector { FlashKernel.exp(x) }

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
    public static func maximum(_ x: UnsafePointer<Float>, _ n: Int) -> Float { FlashKernel.maximum(x, n) }

    /// Σ a[i]·b[i], summed in eight lanes, then across them: a fixed order for a given n.
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float { FlashKernel.dot(a, b, n) }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { FlashKernel.load(p) }

    /// x[i] = e^(x[i] − shift) in place; returns their sum (a softmax's denominator).
    @inline(__always)
    public static func expShifted(_ x: UnsafeMutablePointer<Float>, _ n: Int, minus shift: Float) -> Float {
        FlashKernel.expShifted(x, n, minus: shift)
    }
}
