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
public struct RMSNormGradient: Operation {
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

    public func run(_ k: Kernel) {
        let d = k.node.inputs[1].count, rows = k.node.inputs[0].count / Swift.max(d, 1), eps = eps
        let x = k.input(0), w = k.input(1), g = k.input(2), out = k.output
        guard of == .weight else {
            Parallel.chunks(rows, work: rows * d * 5) { range in
                for row in range {
                    let xr = x + row * d, gr = g + row * d, r = RMSNorm.inverseRMS(xr, d, eps)
                    VectorMath.map(gr, w, out + row * d, d) { $0 * $1 }   // g·w, then dx in place
                    let gwx = VectorMath.dot(out + row * d, xr, d)
                    let c = r * r * r * gwx / Float(d)
                    VectorMath.map(out + row * d, xr, out + row * d, d) { r * $0 - c * $1 }
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

    /// Differentiated through the composed formula: gradients of gradients stay exact.
    public func gradient(_ node: Node, _ upstream: Node) throws -> [Node?] {
        let (x, w, g) = (Tensor(node.inputs[0]), Tensor(node.inputs[1]), node.inputs[2])
        let y = try x.rmsNormComposed(weight: w, eps: eps)
        let first = try Autodiff.gradients(of: y.node, wrt: [x.node, w.node], seed: g, wrtAsLeaves: true)[of == .input ? 0 : 1]
        return try Autodiff.gradients(of: first, wrt: node.inputs, seed: upstream, wrtAsLeaves: true)
    }
}
