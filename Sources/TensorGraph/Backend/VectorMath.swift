import Foundation

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

    /// out[i] = f(a[i]) for n values, eight at a time; `out` may be `a`.
    @inline(__always)
    public static func map(_ a: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
                           _ f: (Vector) -> Vector) {
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(a + i).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: f(v), as: Vector.self)
            i += 8
        }
        guard i < n else { return }
        var v = Vector(repeating: 0)
        for j in 0..<(n - i) { v[j] = a[i + j] }
        let r = f(v)
        for j in 0..<(n - i) { out[i + j] = r[j] }
    }

    /// x[i] = e^(x[i] − shift) in place; returns their sum (a softmax's denominator).
    @inline(__always)
    public static func expShifted(_ x: UnsafeMutablePointer<Float>, _ n: Int, minus shift: Float) -> Float {
        var total = Vector(repeating: 0), i = 0
        while i + 8 <= n {
            let e = exp(UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self) - shift)
            UnsafeMutableRawPointer(x + i).storeBytes(of: e, as: Vector.self)
            total += e
            i += 8
        }
        var sum = total.sum()
        while i < n { let e = Foundation.exp(x[i] - shift); x[i] = e; sum += e; i += 1 }
        return sum
    }
}
