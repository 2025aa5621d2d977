/// An immutable node of the lazy graph: an operation, its inputs, and the shape it produces.
/// Building a node checks shapes (the op's shape rule) and computes nothing.
public final class Node: Hashable, CustomStringConvertible {
    public let op: any Operation
    public let inputs: [Node]
    public let shape: [Int]
    /// A human name (parameter key such as `block0.attn.wq`, or a script variable).
    public internal(set) var name: String?
    /// The source expression that built this node, when built from a script.
    public let span: SourceSpan?
    /// Unique and increasing: a node is always newer than its inputs.
    public let id: Int

    init(op: any Operation, inputs: [Node], shape: [Int], name: String?, span: SourceSpan?, id: Int) {
        self.op = op; self.inputs = inputs; self.shape = shape; self.name = name; self.span = span
        self.id = id
    }

    public var count: Int { Shape.count(shape) }
    public var rank: Int { shape.count }

    public static func == (a: Node, b: Node) -> Bool { a === b }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }

    public var description: String {
        "\(op.label)\(Shape.describe(shape))" + (name.map { " '\($0)'" } ?? "")
    }
}

/// Where newly built nodes take their source span from: the interpreter sets it while it
/// evaluates an expression, so every node built there (and its shape errors) point at it.
/// Task-local, so graphs built concurrently (tests, worker tasks) keep their own spans.
public enum BuildContext {
    @TaskLocal public static var span: SourceSpan?

    public static func with<T>(_ span: SourceSpan?, _ body: () throws -> T) rethrows -> T {
        guard let span else { return try body() }
        return try $span.withValue(span) { try body() }
    }
}
