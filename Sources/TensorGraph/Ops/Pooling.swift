/// Resampling of the last two (spatial) axes of [..., H, W] images: nearest-neighbour upsampling
/// and non-overlapping average pooling. Each is (up to a factor) the other's gradient.
/// Parallel over image planes: every output value is written by one piece in a fixed order.

/// Checks the rank, the factor, and returns (planes, H, W).
private func planes(_ op: String, _ s: [[Int]], _ factor: Int) throws -> (Int, Int, Int) {
    let x = s[0]
    guard x.count >= 2 else { throw shapeError(op, s, "needs at least two (spatial) axes") }
    guard factor >= 1 else { throw shapeError(op, s, "the factor must be ≥ 1 (got \(factor))") }
    return (Shape.count(x.dropLast(2)), x[x.count - 2], x[x.count - 1])
}

/// Nearest-neighbour upsampling: [..., H, W] → [..., H·f, W·f], each value copied to an f×f block.
public struct Upsample: Operation {
    public let factor: Int
    public var label: String { "upsample(\(factor))" }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        let (_, h, w) = try planes(label, s, factor)
        return Array(s[0].dropLast(2)) + [h * factor, w * factor]
    }

    public func run(_ k: Kernel) {
        let x = k.node.inputs[0].shape
        let p = Shape.count(x.dropLast(2)), h = x[x.count - 2], w = x[x.count - 1], f = factor
        let src = k.input(0), dst = k.output
        Parallel.chunks(p, work: k.node.count) { range in
            for plane in range {
                let i = src + plane * h * w, o = dst + plane * h * w * f * f
                for y in 0..<h {
                    let row = o + y * f * w * f, from = i + y * w
                    for x in 0..<w { let v = from[x]; for r in 0..<f { row[x * f + r] = v } }
                    for r in 1..<Swift.max(f, 1) { (row + r * w * f).update(from: row, count: w * f) }
                }
            }
        }
    }

    /// Each input value fed f² outputs: its gradient is their sum (average pooling × f²).
    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        if factor == 1 { return [g] }
        return [try (Tensor(g).avgPool(factor) * Float(factor * factor)).node]
    }
}

/// Average pooling over non-overlapping k×k blocks (stride k): [..., H, W] → [..., H/k, W/k].
/// H and W must be multiples of k.
public struct AvgPool: Operation {
    public let size: Int
    public var label: String { "avg_pool(\(size))" }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        let (_, h, w) = try planes(label, s, size)
        guard h % size == 0, w % size == 0 else {
            throw shapeError(label, s, "the spatial size \(h)×\(w) is not a multiple of the pool size \(size)")
        }
        return Array(s[0].dropLast(2)) + [h / size, w / size]
    }

    public func run(_ k: Kernel) {
        let x = k.node.inputs[0].shape
        let p = Shape.count(x.dropLast(2)), h = x[x.count - 2], w = x[x.count - 1], f = size
        let oh = h / f, ow = w / f, inv = 1 / Float(f * f)
        let src = k.input(0), dst = k.output
        Parallel.chunks(p, work: Shape.count(x)) { range in
            for plane in range {
                let i = src + plane * h * w, o = dst + plane * oh * ow
                for y in 0..<oh {
                    let row = o + y * ow
                    row.update(repeating: 0, count: ow)
                    for r in 0..<f {
                        let from = i + (y * f + r) * w
                        for x in 0..<ow { var acc: Float = 0; for c in 0..<f { acc += from[x * f + c] }; row[x] += acc }
                    }
                    for x in 0..<ow { row[x] *= inv }
                }
            }
        }
    }

    /// Each input value contributes 1/k² to one output: the upsampled gradient over k².
    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        if size == 1 { return [g] }
        return [try (Tensor(g).upsample(size) * (1 / Float(size * size))).node]
    }
}

extension Tensor {
    /// Nearest-neighbour upsampling of the last two axes by an integer factor.
    public func upsample(_ factor: Int) throws -> Tensor {
        if factor == 1 && rank >= 2 { return self }
        return try .make(Upsample(factor: factor), [self])
    }
    /// Average pooling of the last two axes over non-overlapping size×size blocks.
    public func avgPool(_ size: Int) throws -> Tensor {
        if size == 1 && rank >= 2 { return self }
        return try .make(AvgPool(size: size), [self])
    }
}
