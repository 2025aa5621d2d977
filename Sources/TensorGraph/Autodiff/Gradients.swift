/// Reverse-mode autodiff that builds more graph: the gradients are lazy nodes, so the backward
/// graph is checked, drawn, planned, fused and run exactly like the forward one.
public enum Autodiff {
    /// d(output)/d(each of `wrt`), as lazy nodes. `output` must be a scalar unless `seed`
    /// (the gradient flowing into it) is given. An input that `output` does not depend on
    /// gets zeros.
    public static func gradients(of output: Node, wrt: [Node], seed: Node? = nil) throws -> [Node] {
        guard seed != nil || output.count == 1 else {
            throw TensorGraphError("grad: the output must be a scalar, got shape \(Shape.describe(output.shape)); reduce it first (e.g. sum)",
                                   span: BuildContext.span ?? output.span)
        }
        let order = topologicalOrder([output])
        let needed = dependsOnAny(order, wrt)
        var grads: [Node: Node] = [output: seed ?? Tensor.full(output.shape, 1).node]
        for node in order.reversed() {
            guard let g = grads[node], !node.isLeaf, needed.contains(node) else { continue }
            let inputGrads: [Node?]
            do { inputGrads = try node.op.gradient(node, g) } catch {
                fatalError("internal error in the gradient rule of \(node.op.label): \(error)")
            }
            for (input, dx) in zip(node.inputs, inputGrads) {
                guard let dx, needed.contains(input) else { continue }
                grads[input] = try grads[input].map { try (Tensor($0) + Tensor(dx)).node } ?? dx
            }
        }
        return wrt.map { grads[$0] ?? Tensor.full($0.shape, 0).node }
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
