/// The lazy tensor users write with. Every operation builds a graph node (checking shapes
/// then, so errors are thrown at the expression that is wrong) and computes nothing;
/// `realize()` — or `Plan` for repeated runs — computes values.
public struct Tensor: CustomStringConvertible {
    public let node: Node
    public init(_ node: Node) { self.node = node }

    public var shape: [Int] { node.shape }
    public var rank: Int { node.rank }
    public var count: Int { node.count }
    public var description: String { "Tensor\(Shape.describe(shape))" }

    static func make(_ op: any Operation, _ inputs: [Tensor]) throws -> Tensor {
        Tensor(try Graph.make(op, inputs.map(\.node)))
    }

    // MARK: leaves

    public static func scalar(_ v: Float) -> Tensor { Tensor(Graph.leaf(Fill(value: v, fillShape: []))) }
    public static func full(_ shape: [Int], _ v: Float) -> Tensor {
        Tensor(Graph.leaf(Fill(value: v, fillShape: shape)))
    }
    public static func constant(_ data: TensorData) -> Tensor {
        Tensor(Graph.leaf(Constant(Storage(data))))
    }
    /// A value read in place from `storage` at every run: writes to the storage between runs
    /// are seen by every plan that uses it (a KV cache).
    public static func constant(_ storage: Storage) -> Tensor {
        Tensor(Graph.leaf(Constant(storage)))
    }
    public static func input(_ name: String, _ shape: [Int]) -> Tensor {
        Tensor(try! Graph.make(Input(name: name, shape: shape), [], name: name))
    }
    /// A trainable parameter initialised with `data`; `name` is its checkpoint key.
    public static func parameter(_ data: TensorData, name: String? = nil) -> Tensor {
        parameter(Storage(data), name: name)
    }
    public static func parameter(_ storage: Storage, name: String? = nil) -> Tensor {
        Tensor(try! Graph.make(Parameter(storage), [], name: name))
    }

    // MARK: elementwise

    public func unary(_ kind: Unary.Kind) throws -> Tensor { try .make(Unary(kind: kind), [self]) }
    public func exp() throws -> Tensor { try unary(.exp) }
    public func log() throws -> Tensor { try unary(.log) }
    public func sqrt() throws -> Tensor { try unary(.sqrt) }
    public func rsqrt() throws -> Tensor { try unary(.rsqrt) }
    public func tanh() throws -> Tensor { try unary(.tanh) }
    public func sigmoid() throws -> Tensor { try unary(.sigmoid) }
    public func silu() throws -> Tensor { try unary(.silu) }
    /// silu(self) · up, SwiGLU's gating, as one elementwise op.
    public func swiglu(_ up: Tensor) throws -> Tensor { try binary(.swiglu, up) }
    public func gelu() throws -> Tensor { try unary(.gelu) }
    public func relu() throws -> Tensor { try unary(.relu) }
    public func abs() throws -> Tensor { try unary(.abs) }
    public func square() throws -> Tensor { try unary(.square) }

    public func binary(_ kind: Binary.Kind, _ other: Tensor) throws -> Tensor {
        try .make(Binary(kind: kind), [self, other])
    }
    public func pow(_ e: Tensor) throws -> Tensor { try binary(.pow, e) }
    public func pow(_ e: Float) throws -> Tensor { try binary(.pow, .scalar(e)) }
    public func compare(_ kind: Binary.Kind, _ other: Tensor) throws -> Tensor { try binary(kind, other) }
    public func maximum(_ other: Tensor) throws -> Tensor { try binary(.maximum, other) }
    public func minimum(_ other: Tensor) throws -> Tensor { try binary(.minimum, other) }

    /// `cond ? a : b` elementwise, with broadcasting.
    public static func select(_ cond: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try .make(Select(), [cond, a, b])
    }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.add, b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.sub, b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.mul, b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.div, b) }
    public static prefix func - (a: Tensor) throws -> Tensor { try a.unary(.neg) }
    public static func + (a: Tensor, b: Float) throws -> Tensor { try a + .scalar(b) }
    public static func - (a: Tensor, b: Float) throws -> Tensor { try a - .scalar(b) }
    public static func * (a: Tensor, b: Float) throws -> Tensor { try a * .scalar(b) }
    public static func / (a: Tensor, b: Float) throws -> Tensor { try a / .scalar(b) }
    public static func + (a: Float, b: Tensor) throws -> Tensor { try .scalar(a) + b }
    public static func - (a: Float, b: Tensor) throws -> Tensor { try .scalar(a) - b }
    public static func * (a: Float, b: Tensor) throws -> Tensor { try .scalar(a) * b }
    public static func / (a: Float, b: Tensor) throws -> Tensor { try .scalar(a) / b }
}
