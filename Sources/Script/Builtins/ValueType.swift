/// A kind of value scripts see — a tensor, a string, a mask, a model — with its documented
/// fields and methods. This one table is what `x.name` finds, what completion offers after a
/// dot, what `help("mask.on")` prints and what the reference lists, so they cannot drift.
public final class ValueType {
    /// The name `type(x)` returns: "tensor", "mask", "model".
    public let name: String
    /// One line for the reference: what values of this type are and where they come from.
    public let help: String
    /// Attributes that read a value (`x.shape`, `model.dim`): computing them runs no script code.
    public let fields: [Field]
    /// Methods (`x.sum`, `mask.on`), each a builtin with an owner, bound to the value when read.
    public let methods: [Builtin]
    private let fieldsByName: [String: Field]
    private let methodsByName: [String: Builtin]

    public init(_ name: String, help: String, fields: [Field] = [], methods: [Builtin] = []) {
        self.name = name; self.help = help; self.fields = fields; self.methods = methods
        var f: [String: Field] = [:], m: [String: Builtin] = [:]
        for field in fields {
            precondition(f[field.name] == nil, "\(name).\(field.name) is defined twice")
            f[field.name] = field
        }
        for method in methods {
            precondition(method.owner == name, "\(name).\(method.name) has owner '\(method.owner ?? "none")'")
            precondition(f[method.name] == nil && m[method.name] == nil, "\(name).\(method.name) is defined twice")
            m[method.name] = method
        }
        fieldsByName = f; methodsByName = m
    }

    /// `value.name`: the field's value or the method bound to `value`; nil when there is none.
    public func member(_ name: String, of value: Value) throws -> Value? {
        if let f = fieldsByName[name] { return try f.get(value) }
        return methodsByName[name].map { .builtin($0.bound(to: value)) }
    }

    /// Every attribute name, sorted (for completion and "did you mean").
    public var memberNames: [String] { (fields.map(\.name) + methods.map(\.name)).sorted() }

    public func method(_ name: String) -> Builtin? { methodsByName[name] }
    public func field(_ name: String) -> Field? { fieldsByName[name] }
}

/// A documented attribute that reads a value: `x.shape`, `run.loss`.
public struct Field {
    public let owner: String
    public let name: String
    /// One line: what it holds.
    public let help: String
    let get: (Value) throws -> Value

    public var qualifiedName: String { "\(owner).\(name)" }
    public var helpText: String { "\(qualifiedName)\n    \(help)" }
}

/// Makes the fields and methods of a type whose values unwrap to `T` (a library object's
/// class, a tensor, a list), so each body receives its receiver already typed.
public struct Members<T> {
    public let owner: String
    let unwrap: (Value) -> T?

    public init(_ owner: String, unwrap: @escaping (Value) -> T?) { self.owner = owner; self.unwrap = unwrap }

    public func field(_ name: String, _ help: String, _ get: @escaping (T) throws -> Value) -> Field {
        let owner = owner, unwrap = unwrap
        return Field(owner: owner, name: name, help: help) { v in
            guard let t = unwrap(v) else { throw RuntimeError("\(owner).\(name): not a '\(owner)' value") }
            return try get(t)
        }
    }

    public func method(_ name: String, _ spec: String, _ help: String, example: String,
                       _ body: @escaping (T, Arguments) throws -> Value) -> Builtin {
        let owner = owner, unwrap = unwrap
        return Builtin(name, spec, help: help, example: example, owner: owner) { a in
            guard let t = unwrap(a.receiver) else { throw RuntimeError("\(owner).\(name): not bound to a '\(owner)' value") }
            return try body(t, a)
        }
    }
}

extension Members where T: ScriptObject {
    /// The members of a library object's class.
    public init(_ owner: String) {
        self.init(owner) { v in if case .object(let o) = v { o as? T } else { nil } }
    }
}
