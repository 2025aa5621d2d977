/// One primitive of the graph. Each op family lives in one file under `Ops/` holding, side by
/// side, the shape rule, the kernel and the gradient rule of its ops.
public protocol Operation: Hashable {
    /// Short name shown in errors and drawings (`matmul`, `softmax(-1)`).
    var label: String { get }
    /// The shape rule: the output shape for these input shapes, or an error naming the shapes.
    func shape(_ inputs: [[Int]]) throws -> [Int]
    /// The kernel: reads the inputs, writes the output (never allocates).
    func run(_ k: Kernel)
    /// The gradient rule: given the node and the gradient of its output, the gradients of its
    /// inputs as new lazy nodes. Every op writes one — there is no default, so a new op cannot
    /// silently pass zero gradients. nil declares an input that carries no gradient by nature
    /// (indices, a selection's condition); an op that cannot be differentiated at all throws
    /// `notDifferentiable`.
    func gradient(_ node: Node, _ upstream: Node) throws -> [Node?]
    /// Floats of scratch memory the kernel needs (taken from the plan's arena).
    func scratch(_ node: Node) -> Int
    /// True when the output is the first input's buffer read differently (reshape, a slice
    /// along the first axis): no copy, no kernel.
    var isView: Bool { get }
    /// For a view, where its values start in its input's buffer (floats; a reshape's is 0).
    func viewOffset(_ node: Node) -> Int
}

public extension Operation {
    func scratch(_ node: Node) -> Int { 0 }
    var isView: Bool { false }
    func viewOffset(_ node: Node) -> Int { 0 }
}

/// A leaf: no inputs, so nothing to pass a gradient to (autodiff stops at leaves).
public protocol LeafOperation: Operation {}
public extension LeafOperation {
    func gradient(_ node: Node, _ upstream: Node) throws -> [Node?] { [] }
}

/// The error of an op that has no gradient: autodiff reports it at the place that made the node.
public func notDifferentiable(_ node: Node, _ why: String) -> TensorGraphError {
    TensorGraphError("grad: \(node.op.label) is not differentiable (\(why))", span: node.span)
}

/// What a kernel sees: its node and raw pointers to planned buffers.
public struct Kernel {
    public let node: Node
    public let inputs: [UnsafeMutablePointer<Float>]
    public let output: UnsafeMutablePointer<Float>
    public let scratch: UnsafeMutablePointer<Float>?
    let failures: RunFailure

    public var inputShapes: [[Int]] { node.inputs.map(\.shape) }
    public func input(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(inputs[i]) }

    /// Reports bad data met while running (the plan throws it after the run); the kernel
    /// should still write harmless values and return.
    public func fail(_ message: String) { failures.report(message, node) }
}

/// Errors from shape rules: they name the op and the shapes; `Graph.make` adds the span.
func shapeError(_ op: String, _ shapes: [[Int]], _ why: String) -> TensorGraphError {
    TensorGraphError("\(op): \(why) (shapes \(shapes.map(Shape.describe).joined(separator: " and ")))")
}
