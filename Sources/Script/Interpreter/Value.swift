import TensorGraph

/// A value of the tfs language.
///
/// Lists and dicts are references (`a = b` shares one list, as in Python); everything else
/// behaves as a value. Tensors are lazy graph handles: holding one computes nothing.
/// Library pieces (masks, schedules, models, datasets) join the language as `.object`s.
public enum Value {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list(ListRef)
    /// `(a, b)`, `return a, b`, the pairs of `enumerate`/`zip`/`items()`: an immutable list.
    case tuple([Value])
    case dict(DictRef)
    /// A user `def` or `lambda` with the scope it closes over.
    case function(Function)
    /// A function written in Swift (also a method bound to its receiver: `x.sum`).
    case builtin(Builtin)
    case tensor(Tensor)
    case object(any ScriptObject)

    /// The name `type(x)` returns and error messages use.
    public var typeName: String {
        switch self {
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .function: return "function"
        case .builtin: return "builtin"
        case .tensor: return "tensor"
        case .object(let o): return o.typeName
        }
    }

    /// Python truthiness. A tensor is true or false only if it holds one value (which is realized).
    public func isTruthy() throws -> Bool {
        switch self {
        case .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let l): return !l.items.isEmpty
        case .tuple(let t): return !t.isEmpty
        case .dict(let d): return !d.isEmpty
        case .function, .builtin: return true
        case .tensor(let t):
            guard t.count == 1 else {
                throw RuntimeError("the truth value of a tensor of shape \(Shape.describe(t.shape)) is ambiguous",
                                   note: "reduce it first, e.g. (x > 0).sum() > 0")
            }
            return try t.realize().values[0] != 0
        case .object(let o): return o.isTruthy
        }
    }

    /// A number as a Double (bools count as 0/1, as in Python), or nil.
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .float(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// An integer (bools count), or nil; floats are not silently truncated.
    public var integer: Int? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// A list's or tuple's elements, or nil.
    public var sequence: [Value]? {
        switch self {
        case .list(let l): return l.items
        case .tuple(let t): return t
        default: return nil
        }
    }

    static func list(_ items: [Value]) -> Value { .list(ListRef(items)) }
}

/// The shared storage of a list.
public final class ListRef {
    public var items: [Value]
    public init(_ items: [Value] = []) { self.items = items }
    deinit { releaseIteratively(&items) }
}

/// Frees the lists, dicts, tuples and closures nested in `values` with a loop instead of the
/// recursion of ordinary release: a list nested millions deep (`x = [x]` in a loop), a tuple
/// chain (`x = (x,)`) or a chain of closures each capturing the last would otherwise be freed
/// by a recursion as deep, past the end of the stack. A container someone else still holds is
/// only let go of, as usual.
func releaseIteratively(_ values: inout [Value]) {
    guard values.contains(where: \.holdsContainers) else { return }
    var pending = values
    values = []
    while var next = pending.popLast() {
        if var l = take(&next, { if case .list(let l) = $0 { l } else { nil } }), isKnownUniquelyReferenced(&l) {
            pending += l.items
            l.items = []
        } else if var d = take(&next, { if case .dict(let d) = $0 { d } else { nil } }), isKnownUniquelyReferenced(&d) {
            pending += d.takeValues()
        } else if var f = take(&next, { if case .function(let f) = $0 { f } else { nil } }), isKnownUniquelyReferenced(&f) {
            pending += f.takeCaptured()
        } else if case .tuple(var items) = next, items.contains(where: \.holdsContainers) {
            // A tuple is a value: its elements are opened only when this was its last holder
            // (its storage is then ours alone), so a chain still held elsewhere is not walked.
            next = .none
            if ownsStorage(&items) { pending += items }
        }
    }
}

/// Frees one value that way. It is consumed — no other copy of it may stay alive here, or a
/// tuple it holds would look shared and be freed by ordinary recursion when that copy goes.
func releaseIteratively(_ value: consuming Value) {
    guard value.holdsContainers else { return }
    var values = [consume value]
    releaseIteratively(&values)
}

/// Whether `items` is the only holder of its storage: asking for mutable access copies shared
/// storage (copy on write), which moves it. A shared array costs one copy of its elements.
private func ownsStorage(_ items: inout [Value]) -> Bool {
    let before = items.withUnsafeBufferPointer { $0.baseAddress }
    let after = items.withUnsafeMutableBufferPointer { UnsafePointer($0.baseAddress) }
    return before == after
}

extension Value {
    /// A list, dict or closure, or a tuple that may hold one: what `releaseIteratively` takes apart.
    var holdsContainers: Bool {
        switch self {
        case .list, .dict, .tuple, .function: return true
        default: return false
        }
    }
}

/// The container `value` holds, moved out of it (`value` becomes None), so the caller's
/// reference is the only one if nobody else holds the container.
private func take<T: AnyObject>(_ value: inout Value, _ payload: (Value) -> T?) -> T? {
    guard let ref = payload(value) else { return nil }
    value = .none
    return ref
}

/// An ordered dict with string keys (insertion order is kept, as in Python).
public final class DictRef {
    public private(set) var keys: [String] = []
    private var storage: [String: Value] = [:]

    public init(_ pairs: [(String, Value)] = []) {
        for (k, v) in pairs { self[k] = v }
    }

    public subscript(key: String) -> Value? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }
    public var pairs: [(String, Value)] { keys.map { ($0, storage[$0]!) } }
    public var values: [Value] { keys.map { storage[$0]! } }

    /// Empties the dict, handing its values over (for `releaseIteratively`).
    fileprivate func takeValues() -> [Value] {
        defer { storage = [:]; keys = [] }
        return Array(storage.values)
    }

    deinit {
        var values = Array(storage.values)
        storage = [:]
        releaseIteratively(&values)
    }
}

/// A user function: a `def` or a `lambda`, with its defaults (evaluated once, when the
/// definition ran, as in Python) and the scope it was defined in.
public final class Function {
    public enum Body { case block([Stmt]), expression(Expr) }

    public let name: String
    public let parameters: ParameterList
    let body: Body
    private(set) var defaults: [String: Value]
    private(set) var closure: Scope
    /// Where it was defined, for error traces.
    public let span: SourceSpan

    init(name: String, parameters: ParameterList, body: Body, defaults: [String: Value],
         closure: Scope, span: SourceSpan) {
        self.name = name; self.parameters = parameters; self.body = body
        self.defaults = defaults; self.closure = closure; self.span = span
    }

    deinit {
        var captured = takeCaptured()
        releaseIteratively(&captured)
    }

    /// Hands over what this function alone keeps alive — its defaults, and the values of its
    /// closure scope when nothing else holds that scope — for `releaseIteratively`.
    fileprivate func takeCaptured() -> [Value] {
        var taken = Array(defaults.values)
        defaults = [:]
        if isKnownUniquelyReferenced(&closure) { taken += closure.takeValues() }
        return taken
    }

    public var signature: Signature { parameters.signature }
}

extension Value {
    /// The value of a number, string, bool or None literal; nil for any other expression.
    init?(scalarLiteral kind: Expr.Kind) {
        switch kind {
        case .int(let i): self = .int(i)
        case .float(let d): self = .float(d)
        case .string(let s): self = .string(s)
        case .bool(let b): self = .bool(b)
        case .none: self = .none
        default: return nil
        }
    }
}
