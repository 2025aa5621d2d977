/// SwiGLU's backward in one pass. For y = silu(a)·b and upstream g:
///   da = g·b·silu'(a),  db = g·silu(a)
/// Both share σ(a) = 1 / (1 + e^−a): one kernel reads a, b and g once, computes e^−a once and
/// writes both gradients, where the composed rule ran two fused kernels (each reading g and a,
/// each computing its own exponential). The output is packed [2, …shape] — da then db — and
/// `Binary.swiglu`'s gradient takes the halves apart with first-axis slices, which are views.
/// Each value is computed with the same operations in the same order as the composed rule
/// (`g × b × siluGrad(a)` and `g × silu(a)`), so the results are the same bits.
public struct SwiGLUBackward: Operation {
    public var label: String { "swiglu_backward" }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard s.count == 3, s[0] == s[1], s[0] == s[2] else {
            throw shapeError(label, s, "gate, up and gradient must have one shape")
        }
        return [2] + s[0]
    }

    public func run(_ k: Kernel) {
        let n = k.node.inputs[0].count
        let a = k.input(0), b = k.input(1), g = k.input(2)
        let da = k.output, db = k.output + n
        // Pieces of whole blocks of 8 values: every value is computed the same way on any split.
        let vectors = (n + 7) / 8
        Parallel.chunks(vectors, work: n * 40) { range in
            let lo = range.lowerBound * 8, hi = min(range.upperBound * 8, n)
            Self.apply(a + lo, b + lo, g + lo, da + lo, db + lo, hi - lo)
        }
    }

    /// Both gradients of `n` positions, eight lanes at a time.
    @inline(__always)
    static func apply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                      _ da: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>, _ n: Int) {
        typealias V = VectorMath.Vector
        @inline(__always) func lanes(_ x: V, _ y: V, _ z: V) -> (V, V) {
            let d = 1 + VectorMath.exp(-x)
            let s = 1 / d
            return (z * y * (s * (1 + x * (1 - s))), z * (x / d))
        }
        var i = 0
        while i + 8 <= n {
            let (u, v) = lanes(VectorMath.load(a + i), VectorMath.load(b + i), VectorMath.load(g + i))
            UnsafeMutableRawPointer(da + i).storeBytes(of: u, as: V.self)
            UnsafeMutableRawPointer(db + i).storeBytes(of: v, as: V.self)
            i += 8
        }
        guard i < n else { return }
        var x = V(repeating: 0), y = x, z = x
        for j in 0..<(n - i) { x[j] = a[i + j]; y[j] = b[i + j]; z[j] = g[i + j] }
        let (u, v) = lanes(x, y, z)
        for j in 0..<(n - i) { da[i + j] = u[j]; db[i + j] = v[j] }
    }

    /// Differentiates the two gradients (second order), composed from primitives:
    /// with G = (Gda, Gdb) upstream, s = σ(a) and silu'' = s(1 − s)(2 + a(1 − 2s)),
    ///   ∂/∂a = Gda·g·b·silu''(a) + Gdb·g·silu'(a)
    ///   ∂/∂b = Gda·g·silu'(a)
    ///   ∂/∂g = Gda·b·silu'(a) + Gdb·silu(a)
    public func gradient(_ node: Node, _ upstream: Node) throws -> [Node?] {
        let a = Tensor(node.inputs[0]), b = Tensor(node.inputs[1]), g = Tensor(node.inputs[2])
        let up = Tensor(upstream)
        let gda = try up.slice(axis: 0, 0, 1).reshape(a.shape), gdb = try up.slice(axis: 0, 1, 2).reshape(a.shape)
        let d1 = try a.unary(.siluGrad), d2 = try a.siluSecondDerivative()
        return [try (gda * g * b * d2 + gdb * g * d1).node,
                try (gda * g * d1).node,
                try (gda * b * d1 + gdb * a.silu()).node]
    }
}
