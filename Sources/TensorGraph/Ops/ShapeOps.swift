/// Ops that move values without arithmetic: reshape, permute, slice/pad, concat, broadcast,
/// and the embedding lookup (gather) with its scatter-add gradient.

public struct Reshape: Operation {
    public let to: [Int]
    public var label: String { "reshape" }
    public var isView: Bool { true }
    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard Shape.count(s[0]) == Shape.count(to) else {
            throw shapeError("reshape", [s[0], to], "element counts differ (\(Shape.count(s[0])) vs \(Shape.count(to)))")
        }
        return to
    }
    public func run(_ k: Kernel) {}  // shares its input's buffer
    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        [try Tensor(g).reshape(node.inputs[0].shape).node]
    }
}

/// Walks every index of `shape` with a second position advancing by `strides`, calling
/// `body(outIndex, inPosition)`. Shared by permute, broadcast and general reductions; the
/// odometer lives on the stack, so kernels using it do not allocate.
@inline(__always)
func forEachStrided<S: Collection<Int>, T: Collection<Int>>(_ shape: S, _ strides: T, _ body: (Int, Int) -> Void) {
    let rank = shape.count
    let total = Shape.count(shape)
    if rank == 0 { if total == 1 { body(0, 0) }; return }
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * rank) { tmp in
        let dims = tmp.baseAddress!, step = dims + rank, index = dims + 2 * rank
        for (i, d) in shape.enumerated() { dims[i] = d; index[i] = 0 }
        for (i, s) in strides.enumerated() { step[i] = s }
        var pos = 0
        for i in 0..<total {
            body(i, pos)
            var d = rank - 1
            while d >= 0 {
                index[d] += 1; pos += step[d]
                if index[d] < dims[d] { break }
                pos -= step[d] * dims[d]; index[d] = 0; d -= 1
            }
        }
    }
}

public struct Permute: Operation {
    public let order: [Int]
    public var label: String { "permute\(order)" }
    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard order.sorted() == Array(0..<s[0].count) else {
            throw shapeError(label, s, "order must be a permutation of 0..<\(s[0].count)")
        }
        return order.map { s[0][$0] }
    }
    public func run(_ k: Kernel) {
        let x = k.input(0), o = k.output, shape = k.node.shape, input = k.node.inputs[0].shape
        guard let last = shape.last, shape.count > 1 else { o.update(from: x, count: k.node.count); return }
        // Input strides in output order, computed on the stack.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: shape.count) { strides in
            var acc = 1
            for axis in stride(from: input.count - 1, through: 0, by: -1) {
                strides[order.firstIndex(of: axis)!] = acc; acc *= input[axis]
            }
            // The innermost output axis copied in a tight loop; the rest walked with strides.
            let lastStride = strides[shape.count - 1]
            forEachStrided(shape.dropLast(), strides.dropLast()) { row, pos in
                let dst = o + row * last
                for j in 0..<last { dst[j] = x[pos + j * lastStride] }
            }
        }
    }
    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        var inverse = order
        for (i, o) in order.enumerated() { inverse[o] = i }
        return [try Tensor(g).permute(inverse).node]
    }
}

/// `x[..., start:end, ...]` along one axis.
public struct Slice: Operation {
    public let axis: Int, start: Int, end: Int
    public var label: String { "slice(\(axis), \(start):\(end))" }
    /// Along the first axis the slice is one contiguous run of its input: a view, no copy.
    public var isView: Bool { axis == 0 }
    public func viewOffset(_ node: Node) -> Int { start * Shape.count(Array(node.shape.dropFirst())) }
    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard axis < s[0].count, 0 <= start, start <= end, end <= s[0][axis] else {
            throw shapeError(label, s, "slice \(start):\(end) out of range on axis \(axis)")
        }
        var out = s[0]; out[axis] = end - start; return out
    }
    public func run(_ k: Kernel) {
        let s = AxisSplit(k.node.inputs[0].shape, axes: axis..<(axis + 1))
        let width = (end - start) * s.inner
        for r in 0..<s.outer {
            (k.output + r * width).update(from: k.input(0) + (r * s.n + start) * s.inner, count: width)
        }
    }
    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        [try Tensor.make(Pad(axis: axis, before: start, after: node.inputs[0].shape[axis] - end), [Tensor(g)]).node]
    }
}

/// Zeros added before and after along one axis (the gradient of a slice).
public struct Pad: Operation {
    public let axis: Int, before: Int, after: Int
    public var label: String { "pad(\(axis), \(before), \(after))" }
    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard axis < s[0].count, before >= 0, after >= 0 else { throw shapeError(label, s, "bad padding") }
        var out = s[0]; out[axis] += before + after; return out
    }
    public func run(_ k: Kernel) {
        let s = AxisSplit(k.node.inputs[0].shape, axes: axis..<(axis + 1))
        let total = s.n + before + after
        for r in 0..<s.outer {
            let dst = k.output + r * total * s.inner
            dst.update(repeating: 0, count: before * s.inner)
            (dst + before * s.inner).update(from: k.input(0) + r * s.n * s.inner, count: s.n * s.inner)
            (dst + (before + s.n) * s.inner).update(repeating: 0, count: after * s.inner)
        }
    }
    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        [try Tensor(g).slice(axis: axis, before, before + node.inputs[0].shape[axis]).node]
    }
}

public struct Concat: Operation {
    public let axis: Int
    public var label: String { "concat(\(axis))" }
    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard let first = s.first, axis < first.count else { throw shapeError(label, s, "axis out of range") }
        var out = first; out[axis] = 0
        for x in s {
            var a = x, b = first; a[axis] = 0; b[axis] = 0
            guard x.count == first.count, a == b else {
                throw shapeError(label, s, "inputs must match on every axis but \(axis)")
            }
            out[axis] += x[axis]
        }
        return out
    }
    public func run(_ k: Kernel) {
        let outer = Shape.count(k.node.shape[..<axis])
        let rowOut = Shape.count(k.node.shape[axis...])
        var offset = 0
        for (i, input) in k.node.inputs.enumerated() {
            let row = Shape.count(input.shape[axis...])
            for r in 0..<outer { (k.output + r * rowOut + offset).update(from: k.input(i) + r * row, count: row) }
            offset += row
        }
    }
    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        var start = 0
        return try node.inputs.map { x in
            defer { start += x.shape[axis] }
            return try Tensor(g).slice(axis: axis, start, start + x.shape[axis]).node
        }
    }
}

/// A broadcast as an elementwise copy: the fused kernel reads its input with broadcast strides,
/// so a broadcast feeding elementwise work (the gradient of a sum, say) is never materialised.
public struct BroadcastTo: Elementwise {
    public let to: [Int]
    public var label: String { "broadcast" }
    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard Shape.broadcast(s[0], to) == to else { throw shapeError("broadcast", [s[0], to], "cannot broadcast") }
        return to
    }
    public func apply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>,
                      _ o: UnsafeMutablePointer<Float>, _ n: Int) {
        o.update(from: a, count: n)
    }
    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        [try Tensor(g).sum(to: node.inputs[0].shape).node]
    }
}

/// Embedding lookup: rows of `table` [V, D...] picked by integer-valued `indices` (any shape).
public struct Gather: Operation {
    public var label: String { "gather" }
    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard s[0].count >= 1 else { throw shapeError("gather", s, "the table needs at least one axis") }
        return s[1] + s[0].dropFirst()
    }
    public func run(_ k: Kernel) {
        let table = k.node.inputs[0].shape, rows = table[0], width = Shape.count(table.dropFirst())
        let idx = k.input(1), t = k.input(0), o = k.output
        for i in 0..<k.node.inputs[1].count {
            guard let r = index(idx[i], below: rows, at: i, of: k.node.inputs[1].shape, k, "gather: index", "(a table of \(rows) rows)") else {
                (o + i * width).update(repeating: 0, count: width); continue
            }
            (o + i * width).update(from: t + r * width, count: width)
        }
    }
    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        [try Tensor.make(ScatterAdd(rows: node.inputs[0].shape[0]), [Tensor(g), Tensor(node.inputs[1])]).node, nil]
    }
}

/// The gradient of gather: sums rows of `values` into a [rows, D...] table at `indices`.
public struct ScatterAdd: Operation {
    public let rows: Int
    public var label: String { "scatter_add" }
    public func shape(_ s: [[Int]]) throws -> [Int] {
        let k = s[1].count
        guard s[0].count >= k, Array(s[0].prefix(k)) == s[1] else {
            throw shapeError("scatter_add", s, "values must start with the indices' shape")
        }
        return [rows] + s[0].dropFirst(k)
    }
    public func run(_ k: Kernel) {
        let width = Shape.count(k.node.shape.dropFirst())
        let v = k.input(0), idx = k.input(1), o = k.output
        o.update(repeating: 0, count: k.node.count)
        for i in 0..<k.node.inputs[1].count {
            // Out-of-range rows were reported by the gather this gradient belongs to.
            guard idx[i].isFinite, idx[i] >= 0, Int(idx[i]) < rows else { continue }
            let dst = o + Int(idx[i]) * width, src = v + i * width
            for j in 0..<width { dst[j] += src[j] }
        }
    }
    /// Each value went to one row of the table: its gradient is that row of the upstream
    /// gradient (gather). The indices carry none.
    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        [try Tensor(g).gather(Tensor(node.inputs[1])).node, nil]
    }
}

/// 1 at the integer value of each input, along a new last axis of size `depth`. A value
/// equal to `ignored` gives a row of zeros; any other value that is not a whole number in
/// 0..<depth fails the run, naming the first one (`what` names it: "one_hot: index",
/// "cross_entropy: target").
public struct OneHot: Operation {
    public let depth: Int
    public var ignored: Int? = nil
    public var what = "one_hot: index"
    public var label: String { "one_hot(\(depth))" }
    public func shape(_ s: [[Int]]) throws -> [Int] { s[0] + [depth] }
    public func run(_ k: Kernel) {
        let idx = k.input(0), o = k.output, shape = k.node.inputs[0].shape
        let skip = ignored.map(Float.init)
        o.update(repeating: 0, count: k.node.count)
        for i in 0..<k.node.inputs[0].count where idx[i] != skip {
            if let c = index(idx[i], below: depth, at: i, of: shape, k, what, "(\(depth) classes)") { o[i * depth + c] = 1 }
        }
    }
    /// Piecewise constant in its input, which holds class indices: no gradient.
    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] { [nil] }
}

/// An index stored as a float (`gather`'s rows, `one_hot`'s classes), or nil after failing
/// the run with a message naming it and where it is: "gather: index 7 at [1, 0] is outside
/// 0…4 (a table of 5 rows)". Never a silent zero, never a fraction rounded down.
func index(_ v: Float, below count: Int, at i: Int, of shape: [Int], _ k: Kernel, _ what: String, _ context: String) -> Int? {
    if v.isFinite, v == v.rounded(), v >= 0, v < Float(count) { return Int(v) }
    var position: [Int] = [], rest = i
    for d in shape.reversed() { position.insert(d > 0 ? rest % d : 0, at: 0); rest = d > 0 ? rest / d : 0 }
    let value = v.isFinite && v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
    let problem = v.isFinite && v == v.rounded() ? "is outside 0…\(count - 1)" : "is not a whole number"
    k.fail("\(what) \(value) at \(Shape.describe(position)) \(problem) \(context)")
    return nil
}

extension Tensor {
    public func reshape(_ to: [Int]) throws -> Tensor {
        var to = to
        if let infer = to.firstIndex(of: -1) {
            let known = to.enumerated().filter { $0.offset != infer }.reduce(1) { $0 * $1.element }
            to[infer] = known == 0 ? 0 : count / known
        }
        if to == shape { return self }
        // Reshaping a reshape reads the same buffer: skip the middle one.
        if node.op is Reshape { return try Tensor(node.inputs[0]).reshape(to) }
        return try .make(Reshape(to: to), [self])
    }
    public func permute(_ order: [Int]) throws -> Tensor {
        if order == Array(0..<rank) { return self }
        return try .make(Permute(order: order), [self])
    }
    public func transpose(_ a: Int = -2, _ b: Int = -1) throws -> Tensor {
        guard let a = Shape.axis(a, rank: rank), let b = Shape.axis(b, rank: rank) else {
            throw TensorGraphError("transpose: axes out of range for shape \(Shape.describe(shape))", span: BuildContext.span)
        }
        var order = Array(0..<rank); order.swapAt(a, b)
        return try permute(order)
    }
    public func slice(axis: Int, _ start: Int, _ end: Int) throws -> Tensor {
        guard let a = Shape.axis(axis, rank: rank) else {
            throw TensorGraphError("slice: axis \(axis) out of range for shape \(Shape.describe(shape))", span: BuildContext.span)
        }
        if start == 0 && end == shape[a] { return self }
        return try .make(Slice(axis: a, start: start, end: end), [self])
    }
    public static func concat(_ parts: [Tensor], axis: Int) throws -> Tensor {
        guard let first = parts.first, let a = Shape.axis(axis, rank: first.rank) else {
            throw TensorGraphError("concat needs at least one tensor and a valid axis", span: BuildContext.span)
        }
        if parts.count == 1 { return first }
        return try .make(Concat(axis: a), parts)
    }
    public func broadcast(to target: [Int]) throws -> Tensor {
        if target == shape { return self }
        return try .make(BroadcastTo(to: target), [self])
    }
    /// `table.gather(indices)`: embedding lookup of integer-valued indices.
    public func gather(_ indices: Tensor) throws -> Tensor { try .make(Gather(), [self, indices]) }
    /// Fails the run at a value outside 0..<depth or not whole, unless it equals `ignoring`
    /// (a row of zeros); `what` names such a value in the message.
    public func oneHot(_ depth: Int, ignoring: Int? = nil, what: String = "one_hot: index") throws -> Tensor {
        try .make(OneHot(depth: depth, ignored: ignoring, what: what), [self])
    }
}
