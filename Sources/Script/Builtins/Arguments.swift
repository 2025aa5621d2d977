import Foundation
import TensorGraph

/// What a builtin's body receives: its arguments matched to its spec (defaults filled in),
/// typed accessors whose errors point at the offending argument, and the interpreter (for
/// outputs, the random generator and calling back into script functions).
public struct Arguments {
    public let builtin: Builtin
    let bound: BoundArguments
    /// The whole call expression.
    public let span: SourceSpan
    public let interpreter: Interpreter

    var name: String { builtin.qualifiedName }
    /// The bound receiver of a method (`x` in `x.sum()`).
    public var receiver: Value { builtin.receiver ?? Value.none }

    public subscript(_ parameter: String) -> Value { bound.values[parameter] ?? Value.none }
    /// Extra positional arguments (`*values`).
    public var rest: [Value] { bound.rest }
    /// Extra keyword arguments (`**options`), in call order.
    public var options: [(String, Value)] { bound.options }

    /// Whether an optional parameter was given something other than None.
    public func has(_ parameter: String) -> Bool { !self[parameter].isNone }
    /// Whether the call passed the parameter itself (not its default).
    public func passed(_ parameter: String) -> Bool { bound.spans[parameter] != nil }

    /// A type error about one argument, located at that argument when it was passed.
    public func error(_ parameter: String, _ message: String, note: String? = nil) -> RuntimeError {
        RuntimeError("\(name): \(message)", span: bound.spans[parameter], note: note)
    }

    private func typeError(_ parameter: String, _ expected: String) -> RuntimeError {
        error(parameter, "argument '\(parameter)' must be \(expected), not '\(self[parameter].typeName)'")
    }

    public func int(_ p: String) throws -> Int {
        guard let i = self[p].integer else { throw typeError(p, "an int") }
        return i
    }

    public func optionalInt(_ p: String) throws -> Int? { has(p) ? try int(p) : nil }

    /// A string or a non-empty list of strings; `single` when one string was given.
    public func strings(_ p: String) throws -> (values: [String], single: Bool) {
        if case .string(let s) = self[p] { return ([s], true) }
        guard case .list(let items) = self[p] else { throw error(p, "must be a string or a list of strings, not '\(self[p].typeName)'") }
        let list = try items.items.map { v -> String in
            guard case .string(let s) = v else { throw error(p, "must be a string or a list of strings") }
            return s
        }
        guard !list.isEmpty else { throw error(p, "is an empty list") }
        return (list, false)
    }

    /// The default ceiling of `size`: 2²⁴, far above any size tfs can use, far enough below
    /// `Int.max` that sums and products of a few sizes cannot overflow.
    public static let maxSize = 1 << 24

    /// Refuses, blaming `p`, a buffer of `values` floats that would not fit in memory (nil:
    /// more than an Int counts); `what` names it.
    public func fits(values: Int?, _ p: String, _ what: @autoclosure () -> String) throws {
        do { try MemoryLimit.check(values: values, what()) } catch let e as TensorGraphError { throw error(p, e.message) }
    }

    /// A finite number argument that `valid` accepts (`allowed` says which ones do, for the
    /// error): sampler settings, rates, weights.
    public func number(_ p: String, _ allowed: String, _ valid: (Double) -> Bool) throws -> Double {
        let d = try double(p)
        guard d.isFinite, valid(d) else { throw error(p, "'\(p)' must be \(allowed), got \(d)") }
        return d
    }

    /// How many steps of `step` fit from `start` up to (excluding) `stop` — `range`'s and
    /// `arange`'s length — refused if it is not finite or above `limit` (blamed on `p`).
    public func count(from start: Double, to stop: Double, by step: Double, atMost limit: Int, _ p: String) throws -> Int {
        let n = ((stop - start) / step).rounded(.up)
        guard start.isFinite, stop.isFinite, step.isFinite, n.isFinite else { throw error(p, "needs finite start, stop and step, got \(start), \(stop), \(step)") }
        guard n <= Double(limit) else {
            throw error(p, "\(String(format: "%.3g", n)) values are too many (at most \(limit))")
        }
        return n <= 0 ? 0 : Int(n)   // a negative count may lie below Int.min: no conversion
    }

    /// A positive size argument (a count, width, length, number of steps…) up to `limit`:
    /// sizes from scripts are bounded where they enter.
    public func size(_ p: String, atLeast least: Int = 1, atMost limit: Int = Arguments.maxSize) throws -> Int {
        let n = try int(p)
        guard n >= least else { throw error(p, "'\(p)' must be \(least == 1 ? "positive" : "at least \(least)"), got \(n)") }
        guard n <= limit else { throw error(p, "'\(p)' must be at most \(limit), got \(n)") }
        return n
    }

    public func double(_ p: String) throws -> Double {
        guard let d = self[p].number else { throw typeError(p, "a number") }
        return d
    }

    public func optionalDouble(_ p: String) throws -> Double? { has(p) ? try double(p) : nil }

    public func string(_ p: String) throws -> String {
        guard case .string(let s) = self[p] else { throw typeError(p, "a string") }
        return s
    }

    public func optionalString(_ p: String) throws -> String? { has(p) ? try string(p) : nil }

    /// A file or folder path. A NUL byte is refused: the system would cut the path there and
    /// read or write another file.
    public func path(_ p: String) throws -> String {
        let s = try string(p)
        if let nul = s.utf8.firstIndex(of: 0) {
            throw error(p, "path contains a NUL byte (at byte \(s.utf8.distance(from: s.utf8.startIndex, to: nul) + 1)): \(s.debugDescription)")
        }
        return s
    }

    public func optionalPath(_ p: String) throws -> String? { has(p) ? try path(p) : nil }

    public func bool(_ p: String) throws -> Bool { try interpreter.located(span) { try self[p].isTruthy() } }

    /// A list or tuple's elements.
    public func list(_ p: String) throws -> [Value] {
        guard let items = self[p].sequence else { throw typeError(p, "a list") }
        return items
    }

    public func dict(_ p: String) throws -> DictRef {
        guard case .dict(let d) = self[p] else { throw typeError(p, "a dict") }
        return d
    }

    /// A tensor; numbers and nested lists of numbers are converted (to a scalar, a constant).
    public func tensor(_ p: String) throws -> Tensor {
        switch self[p] {
        case .tensor(let t): return t
        case .int, .float, .bool, .list, .tuple:
            do { return try interpreter.asTensor(self[p]) } catch let e as RuntimeError {
                throw error(p, e.message)
            }
        default: throw typeError(p, "a tensor")
        }
    }

    public func optionalTensor(_ p: String) throws -> Tensor? { has(p) ? try tensor(p) : nil }

    /// A list of tensors (`concat([a, b])`, `grad(y, [w1, w2])`).
    public func tensors(_ p: String) throws -> [Tensor] {
        guard let items = self[p].sequence else { throw typeError(p, "a list of tensors") }
        return try items.map {
            guard case .tensor(let t) = $0 else {
                throw error(p, "argument '\(p)' must hold tensors, found '\($0.typeName)'")
            }
            return t
        }
    }

    /// A shape: a list of non-negative ints (`[2, 8]`), or a single int for one axis.
    public func shape(_ p: String) throws -> [Int] {
        if let n = self[p].integer { return try checkedShape(p, [n]) }
        guard let items = self[p].sequence else { throw typeError(p, "a shape (a list of ints)") }
        return try checkedShape(p, items.map {
            guard let i = $0.integer else { throw error(p, "shape entries must be ints, found '\($0.typeName)'") }
            return i
        })
    }

    /// A shape given PyTorch's ways: one list (`[2, 3]`), or sizes as separate ints
    /// (`2, 3`: the first in `p`, the others in `*sizes`, which the spec declares after it).
    public func sizes(_ p: String) throws -> [Int] {
        guard !rest.isEmpty else { return try shape(p) }
        guard let first = self[p].integer else {
            throw error(p, "give the shape as one list or as separate ints, not a '\(self[p].typeName)' followed by more sizes")
        }
        return try checkedShape(p, [first] + rest.enumerated().map { i, v in
            guard let n = v.integer else {
                throw RuntimeError("\(name): sizes must be ints, found '\(v.typeName)'", span: bound.restSpans[i])
            }
            return n
        })
    }

    /// A list of ints that may be negative (axes, permutations).
    public func ints(_ p: String) throws -> [Int] {
        if let n = self[p].integer { return [n] }
        guard let items = self[p].sequence else { throw typeError(p, "a list of ints") }
        return try items.map {
            guard let i = $0.integer else { throw error(p, "expected ints, found '\($0.typeName)'") }
            return i
        }
    }

    /// Axes for a reduction: None (all), one int, or a list of ints.
    public func axes(_ p: String) throws -> [Int]? { has(p) ? try ints(p) : nil }

    private func checkedShape(_ p: String, _ dims: [Int]) throws -> [Int] {
        if let bad = dims.first(where: { $0 < 0 }) { throw error(p, "negative dimension \(bad) in shape") }
        // A fuzzed `zeros([100000, 100000])` must fail, not exhaust memory: at most 2²⁷ values (512 MB).
        if dims.reduce(1.0, { $0 * Double($1) }) > Double(1 << 27) { throw error(p, "shape \(Shape.describe(dims)) is too large") }
        return dims
    }
}
