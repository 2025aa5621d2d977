import Foundation
import TensorGraph

/// Python's everyday functions: printing, conversions, sequences. `sum`, `min`, `max` and
/// `abs` also reduce tensors, so `sum(y * y)` reads as it does in PyTorch.
enum CoreBuiltins {
    static let all: [Builtin] = [
        Builtin("print", "*values, sep=' ', end='\\n'",
                help: "Writes the values, converted with str and separated by sep, then end.",
                example: "print(\"loss\", 0.25, [1, 2])") { a in
            let parts = try a.rest.map(a.interpreter.str)
            a.interpreter.write(parts.joined(separator: try a.string("sep")) + (try a.string("end")))
            return .none
        },
        Builtin("len", "x",
                help: "The number of items of a list, tuple, string or dict, the first dimension of a tensor, or the items of images, examples or a dataset that holds them.",
                example: "len([1, 2, 3])") { a in
            switch a["x"] {
            case .list(let l): return .int(l.items.count)
            case .tuple(let t): return .int(t.count)
            case .string(let s): return .int(s.count)
            case .dict(let d): return .int(d.count)
            case .tensor(let t):
                guard let n = t.shape.first else { throw a.error("x", "len() of a 0-d tensor") }
                return .int(n)
            case .object(let o as ScriptSequence): return .int(try o.length())
            default: throw a.error("x", "object of type '\(a["x"].typeName)' has no len()")
            }
        },
        Builtin("range", "start, stop=None, step=1",
                help: "The list of ints from start (or 0) up to but excluding stop, counting by step.",
                example: "range(3)          # [0, 1, 2]\nrange(1, 10, 4)   # [1, 5, 9]") { a in
            var start = try a.int("start"), stop = try a.optionalInt("stop")
            if stop == nil { stop = start; start = 0 }
            let step = try a.int("step")
            guard step != 0 else { throw a.error("step", "range() step must not be zero") }
            // In floating point: the span of a fuzzed range(-2**62, 2**62) overflows Int.
            _ = try a.count(from: Double(start), to: Double(stop!), by: Double(step), atMost: 10_000_000,
                        a.has("stop") ? "stop" : "start")
            return .list(Array(stride(from: start, to: stop!, by: step)).map(Value.int))
        },
        Builtin("str", "x=''", help: "The text of a value (a tensor's values).", example: "str(3) + \"rd\"") { a in
            .string(try a.interpreter.str(a["x"]))
        },
        Builtin("dir", "x=None", help: "The session's variables, sorted (with no argument), or the fields and methods of x.",
                example: "dir(\"abc\")[:3]\nlen(dir(ones([2]))) > 10") { a in
            guard a.has("x") else {
                return .list(a.interpreter.globalNames.filter { !Session.isOutputHistoryName($0) }.map(Value.string))
            }
            return .list(a.interpreter.memberNames(a["x"]).map(Value.string))
        },
        Builtin("repr", "x", help: "The text of a value as the REPL shows it (strings quoted).",
                example: "repr(\"hi\")") { a in
            .string(try a.interpreter.repr(a["x"]))
        },
        Builtin("int", "x=0", help: "An int from a number (truncating toward zero), a string or a one-value tensor.",
                example: "int(\"42\") + int(3.9)") { a in
            try toInt(a)
        },
        Builtin("float", "x=0.0", help: "A float from a number, a string (\"inf\", \"1e-3\") or a one-value tensor.",
                example: "float(\"1e-3\") * 2") { a in
            try toFloat(a)
        },
        Builtin("bool", "x=False", help: "The truth value of x (empty containers, 0 and None are false).",
                example: "bool([])") { a in
            .bool(try a.bool("x"))
        },
        Builtin("list", "items=[]", help: "A new list holding the items of a list, tuple, string, dict (its keys) or tensor (its rows).",
                example: "list(\"abc\")") { a in
            .list(try a.interpreter.iterate(a["items"]))
        },
        Builtin("dict", "items=None, **entries",
                help: "A new dict from another dict or a list of (key, value) pairs, plus keyword entries.",
                example: "dict(lr=0.1, steps=100)") { a in
            let d = DictRef()
            if case .dict(let other) = a["items"] { for (k, v) in other.pairs { d[k] = v } }
            else if a.has("items") {
                for pair in try a.list("items") {
                    guard let kv = pair.sequence, kv.count == 2, case .string(let k) = kv[0] else {
                        throw a.error("items", "dict() needs (key, value) pairs with string keys")
                    }
                    d[k] = kv[1]
                }
            }
            for (k, v) in a.options { d[k] = v }
            return .dict(d)
        },
        Builtin("type", "x", help: "The name of x's type: 'int', 'float', 'str', 'list', 'dict', 'tensor', ...",
                example: "type(1.5) == \"float\"") { a in
            .string(a["x"].typeName)
        },
        Builtin("abs", "x", help: "The absolute value of a number, or elementwise of a tensor.",
                example: "abs(-2.5)") { a in
            switch a["x"] {
            case .int(let i):
                guard i != .min else { throw RuntimeError("integer overflow") }
                return .int(Swift.abs(i))
            case .float(let d): return .float(Swift.abs(d))
            case .bool(let b): return .int(b ? 1 : 0)
            default: return .tensor(try a.tensor("x").abs())
            }
        },
        Builtin("round", "x, digits=None",
                help: "x rounded to digits decimals (an int when digits is omitted); halves round to even, as in Python.",
                example: "round(2.675, 2), round(3.5)") { a in
            let x = try a.double("x")
            guard let digits = try a.optionalInt("digits") else {
                let r = x.rounded(.toNearestOrEven)
                guard r.isFinite, Swift.abs(r) < 9.2e18 else { throw a.error("x", "cannot round \(formatFloat(x)) to an int") }
                return .int(Int(r))
            }
            if case .int = a["x"], digits >= 0 { return a["x"] }
            let scale = Foundation.pow(10.0, Double(Swift.max(-300, Swift.min(300, digits))))
            return .float((x * scale).rounded(.toNearestOrEven) / scale)
        },
        Builtin("sum", "x, axis=None, keepdims=False",
                help: "The sum of a list's items, or of a tensor's values over axis (an int or list of ints; all when None).",
                example: "sum([1, 2, 3])\nsum(ones([2, 3]), axis=1)") { a in
            if case .tensor(let t) = a["x"] {
                return .tensor(try t.sum(axes: try a.axes("axis"), keepDims: try a.bool("keepdims")))
            }
            var total: Value = .int(0)
            for item in try a.list("x") { total = try a.interpreter.binary(.add, total, item) }
            return total
        },
        Builtin("max", "*values, axis=None, keepdims=False",
                help: "The largest of the values or of one list's items; of one tensor, its maximum over axis.",
                example: "max(3, 7, 5)\nmax(tensor([1, 4, 2]))") { a in
            try extremum(a, largest: true)
        },
        Builtin("min", "*values, axis=None, keepdims=False",
                help: "The smallest of the values or of one list's items; of one tensor, its minimum over axis.",
                example: "min([4, 2, 8])") { a in
            try extremum(a, largest: false)
        },
        Builtin("enumerate", "items, start=0", help: "A list of (index, item) pairs.",
                example: "for i, name in enumerate([\"a\", \"b\"]):\n    print(i, name)") { a in
            let start = try a.int("start"), items = try a.interpreter.iterate(a["items"])
            guard items.isEmpty || !start.addingReportingOverflow(items.count - 1).overflow else {
                throw a.error("start", "start \(start) + \(items.count - 1) overflows a 64-bit int")
            }
            return .list(items.enumerated().map { .tuple([.int(start + $0.offset), $0.element]) })
        },
        Builtin("zip", "*lists", help: "A list of tuples pairing up the items of the lists (as long as the shortest).",
                example: "zip([1, 2], [\"a\", \"b\"])") { a in
            let lists = try a.rest.map(a.interpreter.iterate)
            let n = lists.map(\.count).min() ?? 0
            return .list((0..<n).map { i in .tuple(lists.map { $0[i] }) })
        },
        sorted,
        Builtin("reversed", "items", help: "A new list of the items in reverse order.",
                example: "reversed([1, 2, 3])") { a in
            .list(try a.interpreter.iterate(a["items"]).reversed())
        },
        Builtin("any", "items", help: "True if any item is true.", example: "any([0, 1, 0])") { a in
            .bool(try a.interpreter.iterate(a["items"]).contains { try $0.isTruthy() })
        },
        Builtin("all", "items", help: "True if every item is true (also for an empty list).", example: "all([1, 2, 3])") { a in
            .bool(try a.interpreter.iterate(a["items"]).allSatisfy { try $0.isTruthy() })
        },
    ]

    /// `sorted`, which `list.sort` calls too.
    static let sorted = Builtin("sorted", "items, key=None, reverse=False",
                                help: "A new sorted list of the items; key, if given, is a function computing what to compare.",
                                example: "sorted([3, 1, 2], reverse=True)") { a in
        try sortedValues(a)
    }

    private static func toInt(_ a: Arguments) throws -> Value {
        switch a["x"] {
        case .int: return a["x"]
        case .bool(let b): return .int(b ? 1 : 0)
        case .float(let d): return try intFromDouble(d, a)
        case .string(let s):
            guard let i = Int(s.trimmingCharacters(in: .whitespaces)) else {
                throw a.error("x", "invalid literal for int(): \(quote(s))")
            }
            return .int(i)
        case .tensor(let t): return try intFromDouble(Double(try scalarValue(t, a)), a)
        default: throw a.error("x", "int() cannot convert a '\(a["x"].typeName)'")
        }
    }

    private static func intFromDouble(_ d: Double, _ a: Arguments) throws -> Value {
        guard d.isFinite, Swift.abs(d) < 9.2e18 else { throw a.error("x", "cannot convert \(formatFloat(d)) to an int") }
        return .int(Int(d))
    }

    private static func toFloat(_ a: Arguments) throws -> Value {
        switch a["x"] {
        case .int, .float, .bool: return .float(a["x"].number!)
        case .string(let s):
            let t = s.trimmingCharacters(in: .whitespaces).lowercased()
            let special: [String: Double] = ["inf": .infinity, "+inf": .infinity, "-inf": -.infinity,
                                             "infinity": .infinity, "-infinity": -.infinity, "nan": .nan]
            guard let d = special[t] ?? Double(t) else { throw a.error("x", "could not convert string to float: \(quote(s))") }
            return .float(d)
        case .tensor(let t): return .float(Double(try scalarValue(t, a)))
        default: throw a.error("x", "float() cannot convert a '\(a["x"].typeName)'")
        }
    }

    /// `max`/`min` of several values, of one list, or (with one tensor) a reduction.
    private static func extremum(_ a: Arguments, largest: Bool) throws -> Value {
        if a.rest.count == 1, case .tensor(let t) = a.rest[0] {
            let axes = try a.axes("axis"), keep = try a.bool("keepdims")
            return .tensor(largest ? try t.max(axes: axes, keepDims: keep) : try -(try (-t).max(axes: axes, keepDims: keep)))
        }
        let items = a.rest.count == 1 ? try a.interpreter.iterate(a.rest[0]) : a.rest
        guard var best = items.first else {
            throw RuntimeError("\(a.builtin.name)() of an empty sequence")
        }
        for item in items.dropFirst() {
            if item.isTensor || best.isTensor {
                // Tensors among the values: elementwise maximum/minimum.
                let x = try a.interpreter.asTensor(best), y = try a.interpreter.asTensor(item)
                best = .tensor(largest ? try x.maximum(y) : try x.minimum(y))
                continue
            }
            let o = try a.interpreter.ordering(item, best)
            if largest ? o > 0 : o < 0 { best = item }
        }
        return best
    }

    private static func sortedValues(_ a: Arguments) throws -> Value {
        let items = try a.interpreter.iterate(a["items"])
        let keys = try a.has("key")
            ? items.map { try a.interpreter.call(a["key"], CallArguments(positional: [$0], span: a.span)) } : items
        var order = Array(items.indices)
        var failure: Error? = nil
        // A stable merge sort: Swift's sort needs a non-throwing comparator.
        order = mergeSort(order) { i, j in
            if failure != nil { return false }
            do { return try a.interpreter.ordering(keys[i], keys[j]) < 0 } catch { failure = error; return false }
        }
        if let failure { throw failure }
        if try a.bool("reverse") { order.reverse() }
        return .list(order.map { items[$0] })
    }
}

/// The one value of a tensor, realized (int(t), float(t), t.item()).
func scalarValue(_ t: Tensor, _ a: Arguments) throws -> Float {
    guard t.count == 1 else {
        throw RuntimeError("\(a.builtin.qualifiedName): only a one-value tensor converts to a number, got shape \(Shape.describe(t.shape))")
    }
    return try t.realize().values[0]
}

/// Stable sort (equal keys keep their order, as Python's sort promises).
func mergeSort(_ items: [Int], by less: (Int, Int) -> Bool) -> [Int] {
    guard items.count > 1 else { return items }
    let mid = items.count / 2
    let left = mergeSort(Array(items[..<mid]), by: less), right = mergeSort(Array(items[mid...]), by: less)
    var out: [Int] = [], i = 0, j = 0
    out.reserveCapacity(items.count)
    while i < left.count && j < right.count {
        if less(right[j], left[i]) { out.append(right[j]); j += 1 } else { out.append(left[i]); i += 1 }
    }
    return out + left[i...] + right[j...]
}
