/// Reverse-mode autodiff that builds more graph: the gradients are lazy nodes, so the backward
/// graph is checked, drawn, planned, fused and run exactly like the forward one.
public enum Autodiff {
    /// d(output)/d(each of `wrt`), as lazy nodes. `output` must be a scalar unless `seed`
    /// (the gradient flowing into it) is given. An input that `output` does not depend on
    /// gets zeros. With `wrtAsLeaves`, gradients stop at the `wrt` nodes even where they are
    /// computed from each other (a gradient rule differentiating its own formula in terms of
    /// its op's inputs wants exactly the partial derivatives).
    public static func gradients(of output: Node, wrt: [Node], seed: Node? = nil, wrtAsLeaves: Bool = false) throws -> [Node] {
        guard seed != nil || output.count == 1 else {
            throw TensorGraphError("grad: the output must be a scalar, got shape \(Shape.describe(output.shape)); reduce it first (e.g. sum)",
                                   span: BuildContext.span ?? output.span)
        }
        let order = topologicalOrder([output])
        let needed = dependsOnAny(order, wrt), stops = wrtAsLeaves ? Set(wrt) : []
        // Each node's gradient contributions, combined once all of its users are done.
        var parts: [Node: [Node]] = [output: [seed ?? Tensor.full(output.shape, 1).node]]
        for node in order.reversed() {
            guard let contributions = parts[node], !node.isLeaf, needed.contains(node), !stops.contains(node) else { continue }
            let g = try combined(contributions)
            let inputGrads: [Node?]
            do { inputGrads = try node.op.gradient(node, g) } catch var error as TensorGraphError {
                error.span = error.span ?? node.span ?? BuildContext.span
                throw error
            }
            guard inputGrads.count == node.inputs.count else {
                throw TensorGraphError("internal error: the gradient rule of \(node.op.label) gave \(inputGrads.count) gradients for \(node.inputs.count) inputs",
                                       span: node.span ?? BuildContext.span)
            }
            for (input, dx) in zip(node.inputs, inputGrads) {
                guard let dx, needed.contains(input) else { continue }
                parts[input, default: []].append(dx)
            }
        }
        return try wrt.map { try parts[$0].map(combined) ?? Tensor.full($0.shape, 0).node }
    }

    /// The sum of a node's gradient contributions — or, when they are the zero-padded
    /// gradients of slices that tile one axis (a tensor split into parts, each used), the
    /// parts' gradients concatenated: one copy instead of pads and sums.
    static func combined(_ contributions: [Node]) throws -> Node {
        if let tiled = tiledPads(contributions) { return try Tensor.concat(tiled.parts.map(Tensor.init), axis: tiled.axis).node }
        var sum = contributions[0]
        for dx in contributions.dropFirst() { sum = try (Tensor(sum) + Tensor(dx)).node }
        return sum
    }

    /// The pads' inputs in axis order, if every contribution pads one axis and together they
    /// cover it exactly once.
    static func tiledPads(_ contributions: [Node]) -> (parts: [Node], axis: Int)? {
        guard contributions.count > 1 else { return nil }
        let pads = contributions.compactMap { node in (node.op as? Pad).map { (pad: $0, input: node.inputs[0]) } }
        guard pads.count == contributions.count, let axis = pads.first?.pad.axis,
              pads.allSatisfy({ $0.pad.axis == axis }) else { return nil }
        let ordered = pads.sorted { $0.pad.before < $1.pad.before }
        var covered = 0
        for p in ordered {
            guard p.pad.before == covered else { return nil }
            covered += p.input.shape[axis]
        }
        guard covered == contributions[0].shape[axis] else { return nil }
        return (ordered.map(\.input), axis)
    }

    /// The nodes on some path to one of `targets` (the only ones worth differentiating).
    static func dependsOnAny(_ order: [Node], _ targets: [Node]) -> Set<Node> {
        var hit = Set(targets)
        for node in order where node.inputs.contains(where: hit.contains) { hit.insert(node) }
        return hit
    }
}

/// Inputs before the nodes that use them, each node once.
public func topologicalOrder(_ outputs: [Node]) -> [Node] {
    var order: [Node] = [], seen = Set<Node>()
    var stack: [(Node, Int)] = outputs.reversed().map { ($0, 0) }
    while let (node, next) = stack.popLast() {
        if next == 0 && seen.contains(node) { continue }
        if next < node.inputs.count {
            stack.append((node, next + 1))
            let input = node.inputs[next]
            if !seen.contains(input) { stack.append((input, 0)) }
        } else if !seen.contains(node) {
            seen.insert(node); order.append(node)
        }
    }
    return order
}

extension Tensor {
    /// Gradients of this scalar with respect to `wrt`, as lazy tensors.
    public func gradients(wrt: [Tensor]) throws -> [Tensor] {
        try Autodiff.gradients(of: node, wrt: wrt.map(\.node)).map(Tensor.init)
    }
}
