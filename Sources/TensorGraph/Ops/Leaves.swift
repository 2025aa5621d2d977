/// Leaves of the graph: inputs fed at each run, parameters and constants held in `Storage`.

/// A placeholder fed with a new value at each run of a plan (a batch, a timestep).
public struct Input: LeafOperation {
    public let name: String
    public let fixedShape: [Int]
    let unique = UniqueID()

    public init(name: String, shape: [Int]) {
        self.name = name; self.fixedShape = shape
    }
    public var label: String { "input" }
    public func shape(_ inputs: [[Int]]) throws -> [Int] { fixedShape }
    public func run(_ k: Kernel) {}  // the plan copies the fed value in
}

/// An identity token: two inputs with the same name are still different inputs.
final class UniqueID: Hashable {
    static func == (a: UniqueID, b: UniqueID) -> Bool { a === b }
    func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }
}

/// A trainable value. Gradients are taken with respect to these.
public struct Parameter: LeafOperation {
    public let storage: Storage
    public init(_ storage: Storage) { self.storage = storage }
    public var label: String { "param" }
    public func shape(_ inputs: [[Int]]) throws -> [Int] { storage.shape }
    public func run(_ k: Kernel) {}  // read in place
    public static func == (a: Self, b: Self) -> Bool { a.storage === b.storage }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(storage)) }
}

/// A fixed value (a literal, a random draw, a mask).
public struct Constant: LeafOperation {
    public let storage: Storage
    public init(_ storage: Storage) { self.storage = storage }
    public var label: String { storage.count == 1 ? "const \(storage.pointer[0])" : "const" }
    public func shape(_ inputs: [[Int]]) throws -> [Int] { storage.shape }
    public func run(_ k: Kernel) {}  // read in place
    public static func == (a: Self, b: Self) -> Bool { a.storage === b.storage }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(storage)) }
}

/// A scalar known when the graph is built: fused into elementwise kernels as a literal.
public struct Fill: LeafOperation {
    public let value: Float
    public let fillShape: [Int]
    public var label: String { "\(value)" }
    public func shape(_ inputs: [[Int]]) throws -> [Int] { fillShape }
    public func run(_ k: Kernel) { k.output.update(repeating: value, count: Shape.count(fillShape)) }
}

extension Node {
    public var storage: Storage? {
        if let p = op as? Parameter { return p.storage }
        if let c = op as? Constant { return c.storage }
        return nil
    }
    public var isParameter: Bool { op is Parameter }
    public var isInput: Bool { op is Input }
    public var isLeaf: Bool { inputs.isEmpty }
}
