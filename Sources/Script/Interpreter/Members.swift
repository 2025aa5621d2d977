import TensorGraph

/// `object.name`: fields of tensors (`x.shape`, `x.T`), methods of built-in types (bound
/// builtins, from Builtins/*Methods.swift), and whatever a library object exposes.
extension Interpreter {
    func member(_ v: Value, _ name: String) throws -> Value {
        switch v {
        case .object(let o):
            if let m = try o.member(name) { return m }
        case .tensor(let t):
            if let a = try tensorAttribute(t, name) { return a }
        case .function(let f):
            if name == "__name__" { return .string(f.name) }
        default: break
        }
        if let m = Builtins.methods[methodOwner(v)]?[name] { return .builtin(m.bound(to: v)) }
        let hint = closestName(to: name, among: memberNames(v)).map { "did you mean '\($0)'?" }
        throw RuntimeError("'\(v.typeName)' object has no attribute '\(name)'", note: hint)
    }

    func setMember(_ v: Value, _ name: String, _ value: Value) throws {
        if case .object(let o) = v, try o.setMember(name, value) { return }
        throw RuntimeError("cannot set attribute '\(name)' of a '\(v.typeName)' value")
    }

    /// The attribute names of a value: for completion after a dot and for "did you mean".
    public func memberNames(_ v: Value) -> [String] {
        var names = Array((Builtins.methods[methodOwner(v)] ?? [:]).keys)
        switch v {
        case .tensor: names += tensorAttributes
        case .object(let o): names += o.memberNames
        default: break
        }
        return names.sorted()
    }

    /// Which methods table a value uses (tuples share the read-only list methods' names).
    private func methodOwner(_ v: Value) -> String {
        switch v {
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .tensor: return "tensor"
        default: return v.typeName
        }
    }

    var tensorAttributes: [String] { ["shape", "ndim", "T", "name"] }

    private func tensorAttribute(_ t: Tensor, _ name: String) throws -> Value? {
        switch name {
        case "shape": return .list(t.shape.map(Value.int))
        case "ndim": return .int(t.rank)
        case "T": return .tensor(t.rank < 2 ? t : try t.transpose())
        case "name": return t.node.name.map(Value.string) ?? Value.none
        default: return nil
        }
    }
}
