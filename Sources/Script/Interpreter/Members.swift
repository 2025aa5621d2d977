import TensorGraph

/// `object.name`: fields of tensors (`x.shape`, `x.T`), methods of built-in types (bound
/// builtins, from Builtins/*Methods.swift), and whatever a library object exposes.
extension Interpreter {
    func member(_ v: Value, _ name: String) throws -> Value {
        if let type = valueType(v), let m = try type.member(name, of: v) { return m }
        if case .object(let o as DynamicMembers) = v, let m = o.dynamicMember(name) { return m }
        if case .function(let f) = v, name == "__name__" { return .string(f.name) }
        // `tensor.sum`, `str.upper`: a type's method reached through the function named after
        // the type, unbound (for `help(tensor.sum)`, as Python's `help(str.upper)`).
        if case .builtin(let b) = v, b.receiver == nil, let method = registry.types[b.name]?.method(name) {
            return .builtin(method)
        }
        let hint = closestName(to: name, among: memberNames(v)).map { "did you mean '\($0)'?" }
        throw RuntimeError("'\(v.typeName)' object has no attribute '\(name)'", note: hint)
    }

    func setMember(_ v: Value, _ name: String, _ value: Value) throws {
        if case .object(let o) = v, try o.setMember(name, value) { return }
        throw RuntimeError("cannot set attribute '\(name)' of a '\(v.typeName)' value")
    }

    /// The attribute names of a value: for completion after a dot and for "did you mean".
    public func memberNames(_ v: Value) -> [String] {
        if case .builtin(let b) = v, b.receiver == nil, let type = registry.types[b.name] { return type.methods.map(\.name) }
        let data = if case .object(let o as DynamicMembers) = v { o.dynamicMemberNames } else { [String]() }
        return ((valueType(v)?.memberNames ?? []) + data).sorted()
    }

    /// The documented type of a value, whose table holds its fields and methods.
    public func valueType(_ v: Value) -> ValueType? {
        switch v {
        case .string: return CollectionMethods.stringType
        case .list: return CollectionMethods.listType
        case .tuple: return CollectionMethods.tupleType
        case .dict: return CollectionMethods.dictType
        case .tensor: return TensorMethods.type
        case .object(let o): return Swift.type(of: o).type
        default: return nil
        }
    }
}
