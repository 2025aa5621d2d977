/// Multi-head layout, with the rotary embedding folded in: [B, T, H·D] ⇄ [B, H, T, D], or
/// RoPE alone on [B, T, H·D] (`keep`: the layout attention with `heads` reads in place).
///
/// The projections produce [B, T, H·D]; attention takes either layout. Splitting the heads was
/// a permute, and RoPE on queries and keys was two slices, a negation, a concatenation, two
/// products and a sum, forward and again backward; here both are one pass over memory.
///
/// RoPE rotates each pair (j, j + D/2) of a head by its position's angle, with tables cos and
/// sin of shape [B, 1, T, D] (or [1, 1, T, D] for all rows):
///   out[j]       = x[j]·cos[j]       − x[j + D/2]·sin[j]
///   out[j + D/2] = x[j + D/2]·cos[j + D/2] + x[j]·sin[j + D/2]
/// Its gradient is the transposed rotation on the opposite layout change. The tables are
/// inputs, not parameters: they get no gradient.
public struct HeadLayout: Operation {
    public enum Direction: Hashable { case split, merge, keep }
    public enum Rotation: Hashable { case none, rope, transposedRope }
    public let direction: Direction, rotation: Rotation, heads: Int

    public var label: String {
        let name = switch direction { case .split: "split_heads(\(heads))"; case .merge: "merge_heads"; case .keep: "heads(\(heads))" }
        switch rotation { case .none: return name; case .rope: return name + " rope"; case .transposedRope: return name + " ropeᵀ" }
    }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard s.count == (rotation == .none ? 1 : 3) else { throw shapeError(label, s, "expects x, and the cos and sin tables with RoPE") }
        let x = s[0]
        let out: [Int], d: Int, t: Int, b: Int
        switch direction {
        case .split:
            guard x.count == 3, heads > 0, x[2] % heads == 0 else {
                throw shapeError(label, s, "expects [B, T, H·D] with a width divisible by \(heads) heads")
            }
            (b, t, d) = (x[0], x[1], x[2] / heads)
            out = [b, heads, t, d]
        case .merge:
            guard x.count == 4, x[1] == heads else { throw shapeError(label, s, "expects [B, \(heads), T, D]") }
            (b, t, d) = (x[0], x[2], x[3])
            out = [b, t, heads * d]
        case .keep:
            guard x.count == 3, heads > 0, x[2] % heads == 0 else {
                throw shapeError(label, s, "expects [B, T, H·D] with a width divisible by \(heads) heads")
            }
            (b, t, d) = (x[0], x[1], x[2] / heads)
            out = x
        }
        if rotation != .none {
            guard d % 2 == 0 else { throw shapeError(label, s, "RoPE needs an even head size, got \(d)") }
            for table in s[1...] where table != [b, 1, t, d] && table != [1, 1, t, d] {
                throw shapeError(label, s, "the RoPE tables must be [\(b), 1, \(t), \(d)] or [1, 1, \(t), \(d)]")
            }
        }
        return out
    }

    public func run(_ k: Kernel) {
        let x = k.node.inputs[0].shape
        let (b, t, d) = direction == .merge ? (x[0], x[2], x[3]) : (x[0], x[1], x[2] / heads)
        let h = heads, src = k.input(0), out = k.output, rotation = rotation, direction = direction
        let tables = rotation == .none ? nil : (cos: k.input(1), sin: k.input(2), batched: k.node.inputs[1].shape[0] == b && b > 1)
        Parallel.chunks(b * t, work: b * t * h * d * 2) { rows in
            for row in rows {
                let bi = row / t, ti = row % t
                let cs = tables.map { tb in
                    let offset = ((tb.batched ? bi : 0) * t + ti) * d
                    return (tb.cos + offset, tb.sin + offset)
                }
                for head in 0..<h {
                    let flat = row * h * d + head * d, split = ((bi * h + head) * t + ti) * d
                    let (from, to) = switch direction { case .split: (flat, split); case .merge: (split, flat); case .keep: (flat, flat) }
                    Self.rotate(src + from, out + to, d, rotation, cs)
                }
            }
        }
    }

    /// One head's D values, copied, rotated or rotated by the transpose.
    @inline(__always)
    static func rotate(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ d: Int, _ rotation: Rotation,
                       _ tables: (cos: UnsafePointer<Float>, sin: UnsafePointer<Float>)?) {
        guard let tables, rotation != .none else { y.update(from: x, count: d); return }
        let (c, s) = tables, half = d / 2
        if rotation == .rope {
            for j in 0..<half {
                y[j] = x[j] * c[j] - x[j + half] * s[j]
                y[j + half] = x[j + half] * c[j + half] + x[j] * s[j + half]
            }
        } else {
            for j in 0..<half {
                y[j] = x[j] * c[j] + x[j + half] * s[j + half]
                y[j + half] = x[j + half] * c[j + half] - x[j] * s[j]
            }
        }
    }

    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        let back: Rotation = switch rotation { case .none: .none; case .rope: .transposedRope; case .transposedRope: .rope }
        let inverse: Direction = switch direction { case .split: .merge; case .merge: .split; case .keep: .keep }
        let op = HeadLayout(direction: inverse, rotation: back, heads: heads)
        return [try Graph.build(op, [g] + node.inputs.dropFirst())] + node.inputs.dropFirst().map { _ in nil }
    }
}

extension Tensor {
    /// [B, T, H·D] → [B, H, T, D], with RoPE applied when `rope` (cos and sin tables,
    /// [B or 1, 1, T, D]) is given.
    public func splitHeads(_ heads: Int, rope: (cos: Tensor, sin: Tensor)? = nil) throws -> Tensor {
        let op = HeadLayout(direction: .split, rotation: rope == nil ? .none : .rope, heads: heads)
        return try .make(op, [self] + (rope.map { [$0.cos, $0.sin] } ?? []))
    }

    /// RoPE on each of `heads` heads of [B, T, H·D], in that layout (cos and sin tables
    /// [B or 1, 1, T, D]).
    public func rope(heads: Int, cos: Tensor, sin: Tensor) throws -> Tensor {
        try .make(HeadLayout(direction: .keep, rotation: .rope, heads: heads), [self, cos, sin])
    }

    /// [B, H, T, D] → [B, T, H·D].
    public func mergeHeads() throws -> Tensor {
        try .make(HeadLayout(direction: .merge, rotation: .none, heads: rank == 4 ? shape[1] : 0), [self])
    }
}
