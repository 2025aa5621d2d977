import Foundation
import TensorGraph

/// Binary and unary operators. Dispatch order: library objects first (their hooks decide,
/// in either operand order), then tensors (which build graph nodes), then Python's rules for
/// numbers, strings, lists and dicts.
extension Interpreter {
    func binary(_ op: BinaryOperator, _ a: Value, _ b: Value) throws -> Value {
        switch op {
        case .in: return .bool(try contains(b, a))
        case .notIn: return .bool(!(try contains(b, a)))
        case .is: return .bool(identical(a, b))
        case .isNot: return .bool(!identical(a, b))
        default: break
        }
        if case .object(let o) = a, let r = try o.binary(op, b, reversed: false) { return r }
        if case .object(let o) = b, let r = try o.binary(op, a, reversed: true) { return r }
        if isTensorLike(a) && isTensorLike(b), case .tensor = a { return try tensorBinary(op, a, b) }
        if isTensorLike(a) && isTensorLike(b), case .tensor = b { return try tensorBinary(op, a, b) }
        switch op {
        case .equal: return .bool(try equal(a, b))
        case .notEqual: return .bool(!(try equal(a, b)))
        case .less, .lessEqual, .greater, .greaterEqual: return .bool(try compare(op, a, b))
        default: break
        }
        if let r = try numeric(op, a, b) { return r }
        if let r = try sequenceOperator(op, a, b) { return r }
        throw unsupported(op, a, b)
    }

    func unsupported(_ op: BinaryOperator, _ a: Value, _ b: Value) -> RuntimeError {
        var note: String? = nil
        if op == .add, case .string = a, b.number != nil { note = "convert with str(...) first, or use an f-string" }
        if op == .add, a.number != nil, case .string = b { note = "convert with float(...) or int(...) first" }
        if op == .matmul { note = "'@' multiplies tensors; build them with tensor([...])" }
        return RuntimeError("unsupported operand types for \(op.rawValue): '\(a.typeName)' and '\(b.typeName)'", note: note)
    }

    func unary(_ op: UnaryOperator, _ v: Value) throws -> Value {
        if op == .not { return .bool(!(try v.isTruthy())) }
        switch (op, v) {
        case (_, .object(let o)):
            if let r = try o.unary(op) { return r }
        case (.negate, .tensor(let t)): return .tensor(try -t)
        case (.invert, .tensor(let t)): return .tensor(try t.binary(.equal, .scalar(0)))   // logical not: 0 or 1
        case (.plus, .tensor): return v
        case (.negate, .int(let i)):
            guard i != .min else { throw RuntimeError("integer overflow") }
            return .int(-i)
        case (.negate, .float(let d)): return .float(-d)
        case (.negate, .bool(let b)): return .int(b ? -1 : 0)
        case (.plus, .int), (.plus, .float): return v
        case (.plus, .bool(let b)): return .int(b ? 1 : 0)
        case (.invert, .int(let i)): return .int(~i)
        case (.invert, .bool(let b)): return .int(b ? -2 : -1)
        default: break
        }
        throw RuntimeError("bad operand type for unary \(op.rawValue): '\(v.typeName)'")
    }

    // MARK: numbers

    /// Arithmetic on ints, floats and bools: int op int stays int (checked for overflow;
    /// `/` always gives a float, as in Python 3), anything with a float gives a float.
    private func numeric(_ op: BinaryOperator, _ a: Value, _ b: Value) throws -> Value? {
        if let x = a.integer, let y = b.integer { return try intOperator(op, x, y) }
        guard let x = a.number, let y = b.number else { return nil }
        switch op {
        case .add: return .float(x + y)
        case .subtract: return .float(x - y)
        case .multiply: return .float(x * y)
        case .divide:
            guard y != 0 else { throw RuntimeError("float division by zero") }
            return .float(x / y)
        case .floorDivide:
            guard y != 0 else { throw RuntimeError("float floor division by zero") }
            return .float((x / y).rounded(.down))
        case .modulo:
            guard y != 0 else { throw RuntimeError("float modulo by zero") }
            return .float(pythonModulo(x, y))
        case .power:
            if x == 0 && y < 0 { throw RuntimeError("0.0 cannot be raised to a negative power") }
            let r = Foundation.pow(x, y)
            if r.isNaN && !x.isNaN && !y.isNaN { throw RuntimeError("a negative number raised to a fractional power is complex") }
            return .float(r)
        default: return nil
        }
    }

    private func intOperator(_ op: BinaryOperator, _ x: Int, _ y: Int) throws -> Value? {
        func checked(_ r: (partialValue: Int, overflow: Bool)) throws -> Value {
            if r.overflow { throw RuntimeError("integer overflow", note: "use floats for very large numbers") }
            return .int(r.partialValue)
        }
        switch op {
        case .add: return try checked(x.addingReportingOverflow(y))
        case .subtract: return try checked(x.subtractingReportingOverflow(y))
        case .multiply: return try checked(x.multipliedReportingOverflow(by: y))
        case .divide:
            guard y != 0 else { throw RuntimeError("division by zero") }
            return .float(Double(x) / Double(y))
        case .floorDivide, .modulo:
            guard y != 0 else { throw RuntimeError(op == .modulo ? "integer modulo by zero" : "integer division by zero") }
            if x == .min && y == -1 { throw RuntimeError("integer overflow") }
            var q = x / y, r = x % y
            if r != 0 && ((r < 0) != (y < 0)) { q -= 1; r += y }    // floor, like Python
            return .int(op == .modulo ? r : q)
        case .power:
            if y < 0 {
                guard x != 0 else { throw RuntimeError("0 cannot be raised to a negative power") }
                return .float(Foundation.pow(Double(x), Double(y)))
            }
            return try checked(intPower(x, y))
        case .bitOr: return .int(x | y)
        case .bitAnd: return .int(x & y)
        case .shiftLeft, .shiftRight:
            guard y >= 0 else { throw RuntimeError("negative shift count") }
            if op == .shiftRight { return .int(y >= 64 ? (x < 0 ? -1 : 0) : x >> y) }
            guard y < 63, x == (x << y) >> y else { throw RuntimeError("integer overflow") }
            return .int(x << y)
        default: return nil
        }
    }

    private func intPower(_ base: Int, _ exponent: Int) -> (partialValue: Int, overflow: Bool) {
        var result = 1, b = base, e = exponent
        while e > 0 {
            if e & 1 == 1 {
                let r = result.multipliedReportingOverflow(by: b)
                if r.overflow { return r }
                result = r.partialValue
            }
            e >>= 1
            if e > 0 {
                let s = b.multipliedReportingOverflow(by: b)
                if s.overflow { return s }
                b = s.partialValue
            }
        }
        return (result, false)
    }

    // MARK: strings, lists, tuples, dicts

    private func sequenceOperator(_ op: BinaryOperator, _ a: Value, _ b: Value) throws -> Value? {
        switch (op, a, b) {
        case (.add, .string(let x), .string(let y)): return .string(x + y)
        case (.add, .list(let x), .list(let y)): return .list(x.items + y.items)
        case (.add, .tuple(let x), .tuple(let y)): return .tuple(x + y)
        case (.multiply, .string(let s), _) where b.integer != nil:
            return .string(String(repeating: s, count: try repeatCount(b.integer!, s.count)))
        case (.multiply, _, .string(let s)) where a.integer != nil:
            return .string(String(repeating: s, count: try repeatCount(a.integer!, s.count)))
        case (.multiply, .list(let l), _) where b.integer != nil:
            return .list(repeated(l.items, try repeatCount(b.integer!, l.items.count)))
        case (.multiply, _, .list(let l)) where a.integer != nil:
            return .list(repeated(l.items, try repeatCount(a.integer!, l.items.count)))
        case (.multiply, .tuple(let t), _) where b.integer != nil:
            return .tuple(repeated(t, try repeatCount(b.integer!, t.count)))
        case (.bitOr, .dict(let x), .dict(let y)):
            return .dict(DictRef(x.pairs + y.pairs))
        case (.modulo, .string, _):
            throw RuntimeError("'%' formatting of strings is not supported", note: "use an f-string: f\"{x:.3f}\"")
        default: return nil
        }
    }

    /// A repeat count, refusing results too large to hold (a fuzzed `'a' * 10**12`).
    private func repeatCount(_ n: Int, _ size: Int) throws -> Int {
        let n = max(n, 0)
        if size > 0 && n > 50_000_000 / size { throw RuntimeError("result of repetition is too large") }
        return n
    }

    private func repeated(_ items: [Value], _ n: Int) -> [Value] {
        Array([[Value]](repeating: items, count: n).joined())
    }

    // MARK: comparison

    /// `==`: structural for numbers, strings, lists, tuples and dicts; identity for the rest.
    /// The same list is equal to itself without looking inside (so lists holding themselves
    /// compare); nesting beyond `maxNesting` is an error rather than a stack overflow.
    func equal(_ a: Value, _ b: Value, depth: Int = 0) throws -> Bool {
        guard depth < maxNesting else { throw RuntimeError("comparison nested too deeply") }
        if case .list(let x) = a, case .list(let y) = b, x === y { return true }
        if case .dict(let x) = a, case .dict(let y) = b, x === y { return true }
        switch (a, b) {
        case (.none, .none): return true
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)): return try elementsEqual(x.items, y.items, depth)
        case (.tuple(let x), .tuple(let y)): return try elementsEqual(x, y, depth)
        case (.dict(let x), .dict(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x.pairs {
                guard let w = y[k], try equal(v, w, depth: depth + 1) else { return false }
            }
            return true
        default:
            if let x = a.number, let y = b.number { return x == y }
            return identical(a, b)
        }
    }

    private func elementsEqual(_ x: [Value], _ y: [Value], _ depth: Int) throws -> Bool {
        guard x.count == y.count else { return false }
        for (u, v) in zip(x, y) where !(try equal(u, v, depth: depth + 1)) { return false }
        return true
    }

    /// `is`: the same object for references; equal for immutable scalars.
    func identical(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)): return x === y
        case (.dict(let x), .dict(let y)): return x === y
        case (.function(let x), .function(let y)): return x === y
        case (.builtin(let x), .builtin(let y)): return x.name == y.name && x.receiver == nil && y.receiver == nil
        case (.tensor(let x), .tensor(let y)): return x.node === y.node
        case (.object(let x), .object(let y)): return x === y
        default: return false
        }
    }

    /// Ordering: numbers, strings, and lists/tuples lexicographically.
    func compare(_ op: BinaryOperator, _ a: Value, _ b: Value) throws -> Bool {
        let order = try ordering(a, b, op)
        switch op {
        case .less: return order < 0
        case .lessEqual: return order <= 0
        case .greater: return order > 0
        default: return order >= 0
        }
    }

    /// -1, 0 or 1; NaN compares as "not less, not greater" (so every comparison but != is false).
    func ordering(_ a: Value, _ b: Value, _ op: BinaryOperator = .less, depth: Int = 0) throws -> Int {
        guard depth < maxNesting else { throw RuntimeError("comparison nested too deeply") }
        if let x = a.number, let y = b.number {
            if x.isNaN || y.isNaN { return op == .less || op == .lessEqual ? 1 : -1 }
            return x < y ? -1 : (x > y ? 1 : 0)
        }
        switch (a, b) {
        case (.string(let x), .string(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.list, .list), (.tuple, .tuple):
            let x = a.sequence!, y = b.sequence!
            for (u, v) in zip(x, y) {
                let o = try ordering(u, v, op, depth: depth + 1)
                if o != 0 { return o }
            }
            return x.count < y.count ? -1 : (x.count > y.count ? 1 : 0)
        default:
            throw RuntimeError("'\(op.rawValue)' is not supported between '\(a.typeName)' and '\(b.typeName)'")
        }
    }

    /// `needle in haystack`.
    func contains(_ haystack: Value, _ needle: Value) throws -> Bool {
        switch haystack {
        case .string(let s):
            guard case .string(let n) = needle else {
                throw RuntimeError("'in <string>' requires a string on the left, not '\(needle.typeName)'")
            }
            return n.isEmpty || s.contains(n)
        case .list, .tuple:
            for item in haystack.sequence! where try equal(item, needle) { return true }
            return false
        case .dict(let d):
            guard case .string(let k) = needle else { return false }
            return d[k] != nil
        default:
            throw RuntimeError("argument of type '\(haystack.typeName)' is not a container")
        }
    }
}

/// How deeply comparisons and conversions follow nested lists (a list may contain itself).
let maxNesting = 200

/// Python's `%` on floats: the result takes the divisor's sign.
func pythonModulo(_ x: Double, _ y: Double) -> Double {
    let r = fmod(x, y)
    return r != 0 && (r < 0) != (y < 0) ? r + y : r
}
