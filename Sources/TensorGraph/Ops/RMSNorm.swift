/// RMSNorm over the last axis as one op, and its two gradient ops.
///
///   y = x · r · w,   r = 1 / √(mean(x²) + eps) per row,   x [..., D], w [D]
///   dx = r · g · w − x · r³ · (Σⱼ gⱼ wⱼ xⱼ) / D
///   dw = Σ over rows of g · x · r
///
/// Composed from primitives, RMSNorm was several elementwise and reduction kernels forward and
/// more backward, each a pass over memory; each of these ops reads its inputs once. `r` is recomputed (a dot
/// product per row) rather than stored. The weight gradient is summed over fixed chunks of rows,
/// then the chunks in order: the same result for any thread count.

public struct RMSNorm: Operation {
    public let eps: Float
    public var label: String { "rms_norm" }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard let d = s[0].last, s[1] == [d] else { throw shapeError(label, s, "expects x [..., D] and a weight [D]") }
        return s[0]
    }

    public func run(_ k: Kernel) {
        let d = k.node.shape.last!, rows = k.node.count / Swift.max(d, 1), eps = eps
        let x = k.input(0), w = k.input(1), y = k.output
        Parallel.chunks(rows, work: rows * d * 3) { range in
            for row in range {
                let xr = x + row * d, r = RMSNorm.inverseRMS(xr, d, eps)
                VectorMath.map(xr, w, y + row * d, d) { $0 * r * $1 }
            }
        }
    }

    @inline(__always)
    static func inverseRMS(_ x: UnsafePointer<Float>, _ d: Int, _ eps: Float) -> Float {
        1 / (VectorMath.dot(x, x, d) / Float(d) + eps).squareRoot()
    }

    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        let inputs = node.inputs + [g]
        return [try Graph.build(RMSNormGradient(eps: eps, of: .input), inputs),
                try Graph.build(RMSNormGradient(eps: eps, of: .weight), inputs)]
    }
}

/// dx or dw of RMSNorm from (x, w, g).
public struct RMSNormGradient: Operation, Accumulating {
    public enum Of: Hashable { case input, weight }
    public let eps: Float, of: Of
    static let chunkRows = 32
    public var label: String { of == .input ? "rms_norm_dx" : "rms_norm_dw" }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard s.count == 3, s[2] == s[0], let d = s[0].last, s[1] == [d] else {
            throw shapeError(label, s, "expects x [..., D], a weight [D] and the output gradient")
        }
        return of == .input ? s[0] : s[1]
    }

    public func scratch(_ node: Node) -> Int { of == .weight ? chunks(node) * node.inputs[1].count : 0 }

    func chunks(_ node: Node) -> Int {
        let d = node.inputs[1].count, rows = node.inputs[0].count / Swift.max(d, 1)
        return (rows + Self.chunkRows - 1) / Self.chunkRows
    }

    public func run(_ k: Kernel) { run(k, accumulate: false) }

    /// dx can add itself to what the output holds (the residual stream's other gradient,
    /// Plan/AccumulatedSums.swift); dw cannot.
    func accumulates(_ node: Node) -> Bool { of == .input }

    func run(_ k: Kernel, accumulate: Bool) {
        let d = k.node.inputs[1].count, rows = k.node.inputs[0].count / Swift.max(d, 1), eps = eps
        let x = k.input(0), w = k.input(1), g = k.input(2), out = k.output
        guard of == .weight else {
            Parallel.chunks(rows, work: rows * d * 5) { range in
                for row in range {
                    let xr = x + row * d, gr = g + row * d, o = out + row * d, r = RMSNorm.inverseRMS(xr, d, eps)
                    let c = r * r * r * Self.dot(gr, w, xr, d) / Float(d)
                    if accumulate { Self.dx(gr, w, xr, o, d, r, c, plus: true) } else { Self.dx(gr, w, xr, o, d, r, c, plus: false) }
                }
            }
            return
        }
        let chunks = chunks(k.node), partial = k.scratch!
        Parallel.chunks(chunks, work: rows * d * 3) { range in
            for chunk in range {
                let sums = partial + chunk * d
                sums.update(repeating: 0, count: d)
                for row in (chunk * Self.chunkRows)..<Swift.min(rows, (chunk + 1) * Self.chunkRows) {
                    let xr = x + row * d, r = RMSNorm.inverseRMS(xr, d, eps)
                    VectorMath.map(g + row * d, xr, sums, sums, d) { $0 * $1 * r + $2 }
                }
            }
        }
        Parallel.chunks(d, work: chunks * d) { columns in
            for j in columns {
                var total: Float = 0
                for chunk in 0..<chunks { total += partial[chunk * d + j] }
                out[j] = total
            }
        }
    }

    /// Σ (g·w)·x over a row, in eight lanes then across them (g·w rounded first, as stored).
    @inline(__always)
    static func dot(_ g: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var s = VectorMath.Vector(repeating: 0), i = 0
        while i + 8 <= n { s += VectorMath.load(g + i) * VectorMath.load(w + i) * VectorMath.load(x + i); i += 8 }
        var total = s.sum()
        while i < n { total += g[i] * w[i] * x[i]; i += 1 }
        return total
    }

    /// A row of dx: o = r·(g·w) − c·x, added to what o holds when `plus`.
    @inline(__always)
    static func dx(_ g: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                   _ o: UnsafeMutablePointer<Float>, _ n: Int, _ r: Float, _ c: Float, plus: Bool) {
        var i = 0
        while i + 8 <= n {
            var v = r * (VectorMath.load(g + i) * VectorMath.load(w + i)) - c * VectorMath.load(x + i)
            if plus { v += VectorMath.load(UnsafePointer(o + i)) }
            UnsafeMutableRawPointer(o + i).storeBytes(of: v, as: VectorMath.Vector.self)
            i += 8
        }
        while i < n {
            let v = r * (g[i] * w[i]) - c * x[i]
            o[i] = plus ? o[i] + v : v
            i += 1
        }
    }

    /// Differentiated through the composed formula: gradients of gradients stay exact.
    public func gradient(_ node: Node, _ upstream: Node) throws -> [Node?] {
        let (x, w, g) = (Tensor(node.inputs[0]), Tensor(node.inputs[1]), node.inputs[2])
        let y = try x.rmsNormComposed(weight: w, eps: eps)
        let first = try Autodiff.gradients(of: y.node, wrt: [x.node, w.node], seed: g, wrtAsLeaves: true)[of == .input ? 0 : 1]
        return try Autodiff.gradients(of: first, wrt: node.inputs, seed: upstream, wrtAsLeaves: true)
    }
}
