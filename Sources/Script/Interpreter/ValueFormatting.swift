import Foundation
import TensorGraph

/// Python's `str` and `repr`. Tensors are realized to show their values, so these throw;
/// `Value.description` never realizes (error messages use it).
extension Interpreter {
    /// `str(x)` and what `print` shows: strings without quotes.
    public func str(_ v: Value) throws -> String {
        if case .string(let s) = v { return s }
        return try repr(v)
    }

    /// `repr(x)`.
    public func repr(_ v: Value) throws -> String {
        var open = Set<ObjectIdentifier>()
        return try v.format(open: &open) { formatTensor(try $0.realize()) }
    }

    /// How a cell's value shows (the REPL's `Out[n]`, a notebook's result): the repr, with a
    /// list, tuple or dict of more than `displayedItems` entries cut to its first ones and `...`
    /// (IPython's pretty printer does the same; tensors summarize themselves).
    public func displayRepr(_ v: Value) throws -> String {
        var open = Set<ObjectIdentifier>()
        return try v.format(open: &open, maxItems: Interpreter.displayedItems) { formatTensor(try $0.realize()) }
    }

    public static let displayedItems = 1000
}

extension Value {
    /// The repr, with `tensorText` for tensors. A list or dict that contains itself prints
    /// as `[...]`/`{...}` there, as in Python (`open` holds the containers being printed);
    /// nesting beyond `maxNesting` is an error rather than a stack overflow.
    func format(open: inout Set<ObjectIdentifier>, depth: Int = 0, maxItems: Int = .max,
                tensorText: (Tensor) throws -> String) throws -> String {
        guard depth < maxNesting else { throw RuntimeError("value nested too deeply to print (limit \(maxNesting))") }
        func items(_ values: [Value]) throws -> [String] {
            var out: [String] = []
            for v in values.prefix(maxItems) {
                out.append(try v.format(open: &open, depth: depth + 1, maxItems: maxItems, tensorText: tensorText))
            }
            if values.count > maxItems { out.append("...") }
            return out
        }
        switch self {
        case .tensor(let t): return try tensorText(t)
        case .list(let l):
            guard open.insert(ObjectIdentifier(l)).inserted else { return "[...]" }
            defer { open.remove(ObjectIdentifier(l)) }
            return "[" + (try items(l.items)).joined(separator: ", ") + "]"
        case .tuple(let t):
            let parts = try items(t)
            return t.count == 1 ? "(\(parts[0]),)" : "(" + parts.joined(separator: ", ") + ")"
        case .dict(let d):
            guard open.insert(ObjectIdentifier(d)).inserted else { return "{...}" }
            defer { open.remove(ObjectIdentifier(d)) }
            let values = try items(Array(d.values.prefix(maxItems)))
            let entries = zip(d.keys, values).map { "\(quote($0)): \($1)" } + (d.count > maxItems ? ["..."] : [])
            return "{" + entries.joined(separator: ", ") + "}"
        default: return description
        }
    }
}

extension Value: CustomStringConvertible {
    /// The repr, except that tensors show their shape instead of being computed.
    public var description: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return formatFloat(d)
        case .string(let s): return quote(s)
        case .list, .tuple, .dict:
            var open = Set<ObjectIdentifier>()
            return (try? format(open: &open) { "tensor(shape=\(Shape.describe($0.shape)))" }) ?? "?"
        case .function(let f): return "<function \(f.name)>"
        case .builtin(let b): return b.receiver == nil ? "<builtin \(b.name)>" : "<method \(b.qualifiedName)>"
        case .tensor(let t): return "tensor(shape=\(Shape.describe(t.shape)))"
        case .object(let o): return o.description
        }
    }

    /// `repr` without computing tensors.
    var repr: String { description }
}

/// Python's repr of a float: shortest round-trip digits, always with a '.' or exponent.
func formatFloat(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    return "\(d)"
}

/// A string literal as Python's repr writes it: single quotes unless the text has some.
public func quote(_ s: String) -> String {
    let q: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
    var out = String(q)
    for c in s {
        switch c {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case q: out += "\\\(q)"
        default:
            if let a = c.asciiValue, a < 0x20 || a == 0x7f { out += String(format: "\\x%02x", a) } else { out.append(c) }
        }
    }
    out.append(q)
    return out
}
