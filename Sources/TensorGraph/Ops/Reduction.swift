import Foundation

/// Reductions over axes (sum, max), and the softmax family along one axis.
/// Each output value is accumulated by one thread in a fixed order: deterministic results.

/// Views a shape as [outer, n, inner] around a contiguous run of axes.
struct AxisSplit {
    let outer: Int, n: Int, inner: Int
    init(_ shape: [Int], axes: Range<Int>) {
        outer = Shape.count(shape[..<axes.lowerBound])
        n = Shape.count(shape[axes])
        inner = Shape.count(shape[axes.upperBound...])
    }
}

public struct Reduce: Operation {
    public enum Kind: String, Hashable { case sum, max }
    public let kind: Kind
    public let axes: [Int]      // sorted, non-negative
    public let keepDims: Bool
    public var label: String { "\(kind.rawValue)\(axes)" }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        let x = s[0]
        guard axes.allSatisfy({ $0 < x.count }) else {
            throw shapeError(label, s, "axis out of range for rank \(x.count)")
        }
        return keepDims ? x.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
                        : x.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    var contiguous: Bool { axes.isEmpty || axes.last! - axes.first! + 1 == axes.count }

    public func run(_ k: Kernel) {
        let x = k.input(0), o = k.output, shape = k.node.inputs[0].shape
        guard contiguous, !axes.isEmpty else { return runGeneral(k) }
        let s = AxisSplit(shape, axes: axes.first!..<(axes.last! + 1))
        let isMax = kind == .max
        if s.inner == 1 {
            Parallel.chunks(s.outer, work: s.outer * s.n) { rows in
                for r in rows {
                    let row = x + r * s.n
                    if isMax {
                        var m = -Float.infinity
                        for j in 0..<s.n { m = Swift.max(m, row[j]) }
                        o[r] = m
                    } else {
                        var acc: Double = 0
                        for j in 0..<s.n { acc += Double(row[j]) }
                        o[r] = Float(acc)
                    }
                }
            }
            return
        }
        Parallel.chunks(s.inner, work: s.outer * s.n * s.inner) { cols in
            for r in 0..<s.outer {
                let out = o + r * s.inner
                let base = x + r * s.n * s.inner
                for c in cols { out[c] = isMax ? -Float.infinity : 0 }
                for j in 0..<s.n {
                    let row = base + j * s.inner
                    if isMax { for c in cols { out[c] = Swift.max(out[c], row[c]) } }
                    else { for c in cols { out[c] += row[c] } }
                }
            }
        }
    }

    /// The input's axes merged into alternating runs: (reduced?, size of the run).
    func runs(_ shape: [Int]) -> [(reduced: Bool, size: Int)] {
        var runs: [(reduced: Bool, size: Int)] = []
        for (axis, size) in shape.enumerated() where size != 1 {
            let reduced = axes.contains(axis)
            if let last = runs.last, last.reduced == reduced { runs[runs.count - 1].size *= size }
            else { runs.append((reduced, size)) }
        }
        return runs
    }

    /// Reduced axes on both sides of the kept ones, [O, K, I] → [K] (a bias or a norm's
    /// gradient over [N, C, H, W]): each output sums its O rows of I contiguous values.
    private func runAround(_ k: Kernel, outer: Int, kept: Int, inner: Int) {
        let x = k.input(0), o = k.output, isMax = kind == .max
        Parallel.chunks(kept, work: outer * kept * inner) { range in
            for c in range {
                if isMax {
                    var m = -Float.infinity
                    for r in 0..<outer { let row = x + (r * kept + c) * inner; for i in 0..<inner { m = Swift.max(m, row[i]) } }
                    o[c] = m
                } else {
                    var acc: Double = 0
                    for r in 0..<outer {
                        let row = x + (r * kept + c) * inner
                        var part: Float = 0
                        for i in 0..<inner { part += row[i] }
                        acc += Double(part)
                    }
                    o[c] = Float(acc)
                }
            }
        }
    }

    /// Non-contiguous axes: walk the input once, accumulating into the output position.
    private func runGeneral(_ k: Kernel) {
        let shape = k.node.inputs[0].shape, o = k.output, x = k.input(0)
        let r = runs(shape)
        if r.count == 3, r[0].reduced, !r[1].reduced {
            return runAround(k, outer: r[0].size, kept: r[1].size, inner: r[2].size)
        }
        let outCount = k.node.count
        o.update(repeating: kind == .max ? -Float.infinity : 0, count: outCount)
        let isMax = kind == .max
        withUnsafeTemporaryAllocation(of: Int.self, capacity: shape.count) { ostr in
            // Output strides seen from the input: 0 on reduced axes.
            var acc = 1
            for axis in stride(from: shape.count - 1, through: 0, by: -1) {
                ostr[axis] = axes.contains(axis) ? 0 : acc
                if !axes.contains(axis) { acc *= shape[axis] }
            }
            forEachStrided(shape, ostr) { i, opos in
                o[opos] = isMax ? Swift.max(o[opos], x[i]) : o[opos] + x[i]
            }
        }
    }

    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        let x = Tensor(node.inputs[0])
        let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let gk = try Tensor(g).reshape(kept)
        switch kind {
        case .sum: return [try gk.broadcast(to: x.shape).node]
        case .max:
            // Ties share the gradient of the max: each tied position receives it in full.
            let hit = try x.compare(.equal, Tensor(node).reshape(kept))
            return [try (hit * gk).node]
        }
    }
}

/// softmax / log-softmax along one axis, stable (the row max is subtracted first).
public struct Softmax: Operation {
    public let axis: Int
    public let log: Bool
    public var label: String { log ? "log_softmax" : "softmax" }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard axis < s[0].count else { throw shapeError(label, s, "axis \(axis) out of range") }
        return s[0]
    }

    public func run(_ k: Kernel) {
        let s = AxisSplit(k.node.shape, axes: axis..<(axis + 1))
        let x = k.input(0), o = k.output, isLog = log
        Parallel.chunks(s.outer * s.inner, work: k.node.count * 8) { lines in
            for line in lines {
                let r = line / s.inner, c = line % s.inner
                let xi = x + r * s.n * s.inner + c, oi = o + r * s.n * s.inner + c
                var m = -Float.infinity
                for j in 0..<s.n { m = Swift.max(m, xi[j * s.inner]) }
                if m == -.infinity { m = 0 }  // a fully masked row: keep NaN out of the max
                var total: Float = 0
                if s.inner == 1 {
                    oi.update(from: xi, count: s.n)
                    total = VectorMath.expShifted(oi, s.n, minus: m)
                } else {
                    for j in 0..<s.n { let e = Foundation.exp(xi[j * s.inner] - m); oi[j * s.inner] = e; total += e }
                }
                if isLog {
                    let shift = m + Foundation.log(total)
                    for j in 0..<s.n { oi[j * s.inner] = xi[j * s.inner] - shift }
                } else {
                    let inv = 1 / total
                    for j in 0..<s.n { oi[j * s.inner] *= inv }
                }
            }
        }
    }

    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        let y = Tensor(node), g = Tensor(g)
        if log { return [try (g - y.exp() * g.sum(axes: [axis], keepDims: true)).node] }
        return [try (y * (g - (g * y).sum(axes: [axis], keepDims: true))).node]
    }
}

extension Tensor {
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try reduce(.sum, axes: axes, keepDims: keepDims)
    }
    public func max(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try reduce(.max, axes: axes, keepDims: keepDims)
    }
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let ax = try normalizedAxes(axes)
        let n = ax.reduce(1) { $0 * shape[$1] }
        return try sum(axes: ax, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    func reduce(_ kind: Reduce.Kind, axes: [Int]?, keepDims: Bool) throws -> Tensor {
        let ax = try normalizedAxes(axes)
        if ax.isEmpty { return self }
        return try .make(Reduce(kind: kind, axes: ax, keepDims: keepDims), [self])
    }

    func normalizedAxes(_ axes: [Int]?) throws -> [Int] {
        guard let axes else { return Array(0..<rank) }
        return try Set(axes.map { a -> Int in
            guard let n = Shape.axis(a, rank: rank) else {
                throw TensorGraphError("axis \(a) is out of range for a tensor of shape \(Shape.describe(shape))",
                                       span: BuildContext.span)
            }
            return n
        }).sorted()
    }

    /// Sums broadcast axes away so the result has `target`'s shape (gradients of broadcasts).
    public func sum(to target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let offset = rank - target.count
        var axes = Array(0..<offset)
        for (i, d) in target.enumerated() where d == 1 && shape[offset + i] != 1 { axes.append(offset + i) }
        return try sum(axes: axes, keepDims: true).reshape(target)
    }

    public func softmax(axis: Int = -1) throws -> Tensor { try softmaxFamily(axis, log: false) }
    public func logSoftmax(axis: Int = -1) throws -> Tensor { try softmaxFamily(axis, log: true) }

    private func softmaxFamily(_ axis: Int, log: Bool) throws -> Tensor {
        guard let a = Shape.axis(axis, rank: rank) else {
            throw TensorGraphError("\(log ? "log_softmax" : "softmax"): axis \(axis) out of range for shape \(Shape.describe(shape))",
                                   span: BuildContext.span)
        }
        return try .make(Softmax(axis: a, log: log), [self])
    }
}
