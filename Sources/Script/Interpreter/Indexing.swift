import TensorGraph

/// `x[i]`, `x[a:b:c]`, `x[:, 1:3]`, `d["key"]` and their assignments.
extension Interpreter {
    func index(_ object: Value, _ keys: [Value]) throws -> Value {
        if case .tensor(let t) = object { return .tensor(try tensorSubscript(t, keys)) }
        if case .object(let o) = object {
            if let sequence = o as? ScriptSequence, keys.count == 1 {
                if case .object(let k) = keys[0], let slice = k as? SliceObject {
                    return try sequence.items(try sliceIndices(slice, count: try sequence.length()))
                }
                if keys[0].integer != nil { return try sequence.item(try position(keys[0], count: try sequence.length(), o.typeName)) }
            }
            if let item = try o.index(keys) { return item }
            throw RuntimeError("'\(o.typeName)' object is not subscriptable")
        }
        guard keys.count == 1 else {
            throw RuntimeError("'\(object.typeName)' indices must be a single index or slice, got \(keys.count)")
        }
        let key = keys[0]
        switch object {
        case .list(let l): return try element(l.items, key, "list") { .list($0) }
        case .tuple(let t): return try element(t, key, "tuple") { .tuple($0) }
        case .string(let s):
            return try element(s.map { .string(String($0)) }, key, "string") { parts in
                .string(parts.map { if case .string(let c) = $0 { return c } else { return "" } }.joined())
            }
        case .dict(let d):
            guard case .string(let k) = key else { throw RuntimeError("dict keys are strings, got '\(key.typeName)'") }
            guard let v = d[k] else {
                let hint = closestName(to: k, among: d.keys).map { "did you mean '\($0)'?" }
                throw RuntimeError("key '\(k)' not found in dict", note: hint)
            }
            return v
        default:
            throw RuntimeError("'\(object.typeName)' object is not subscriptable")
        }
    }

    /// An element or a slice of a list, tuple or string.
    private func element(_ items: [Value], _ key: Value, _ kind: String, _ rebuild: ([Value]) -> Value) throws -> Value {
        if case .object(let o) = key, let slice = o as? SliceObject {
            return rebuild(try sliceIndices(slice, count: items.count).map { items[$0] })
        }
        return items[try position(key, count: items.count, kind)]
    }

    /// A subscript as a position in `0..<count`, negative ones counting from the end.
    func position(_ key: Value, count: Int, _ kind: String) throws -> Int {
        guard let i = key.integer else {
            throw RuntimeError("\(kind) indices must be integers or slices, not '\(key.typeName)'")
        }
        let p = i < 0 ? i + count : i
        guard p >= 0 && p < count else {
            throw RuntimeError("\(kind) index \(i) out of range (length \(count))")
        }
        return p
    }

    /// Python's slice semantics: bounds clamp, negative ones count from the end, any step but 0.
    func sliceIndices(_ s: SliceObject, count: Int) throws -> [Int] {
        let step = try s.step.isNone ? 1 : integerBound(s.step)
        guard step != 0 else { throw RuntimeError("slice step cannot be zero") }
        func clamp(_ v: Value, _ fallback: Int) throws -> Int {
            if v.isNone { return fallback }
            var i = try integerBound(v)
            if i < 0 { i += count }
            return step > 0 ? min(max(i, 0), count) : min(max(i, -1), count - 1)
        }
        let start = try clamp(s.lower, step > 0 ? 0 : count - 1)
        let end = try clamp(s.upper, step > 0 ? count : -1)
        return Array(stride(from: start, to: end, by: step))
    }

    /// The range of a slice with step 1 (or none), clamped as Python does; nil for other steps.
    func contiguousRange(_ s: SliceObject, count: Int) throws -> Range<Int>? {
        guard s.step.isNone || s.step.integer == 1 else { return nil }
        func clamp(_ v: Value, _ fallback: Int) throws -> Int {
            if v.isNone { return fallback }
            let i = try integerBound(v)
            return min(max(i < 0 ? i + count : i, 0), count)
        }
        let start = try clamp(s.lower, 0)
        return start..<max(start, try clamp(s.upper, count))
    }

    private func integerBound(_ v: Value) throws -> Int {
        guard let i = v.integer else { throw RuntimeError("slice indices must be integers or None, not '\(v.typeName)'") }
        return i
    }

    // MARK: tensors

    /// The i-th slice along the first axis, without that axis.
    func tensorIndex(_ t: Tensor, _ i: Int) throws -> Tensor {
        try tensorSubscript(t, [.int(i)])
    }

    /// NumPy basic indexing: an int picks one position and drops the axis, a slice keeps a
    /// range, `...` stands for the axes not mentioned, `None` inserts an axis of size 1.
    /// Built from `slice` and `reshape` nodes, so indexing is differentiable.
    func tensorSubscript(_ t: Tensor, _ keys: [Value]) throws -> Tensor {
        let named = keys.filter { !$0.isNone && !$0.isEllipsis }.count
        guard named <= t.rank else {
            throw RuntimeError("too many indices for a tensor of shape \(Shape.describe(t.shape)): \(named)")
        }
        guard keys.filter(\.isEllipsis).count <= 1 else { throw RuntimeError("an index can only have a single '...'") }
        var result = t, axis = 0
        var finalShape: [Int] = []
        for key in keys {
            if key.isEllipsis {
                let skip = t.rank - named
                finalShape += t.shape[axis..<(axis + skip)]
                axis += skip
            } else if key.isNone {
                finalShape.append(1)
            } else if case .object(let o) = key, let s = o as? SliceObject {
                guard let r = try contiguousRange(s, count: t.shape[axis]) else {
                    throw RuntimeError("tensor slices with a step are not supported", note: "use a step of 1")
                }
                result = try result.slice(axis: axis, r.lowerBound, r.upperBound)
                finalShape.append(r.count)
                axis += 1
            } else if let i = key.integer {
                let p = try position(.int(i), count: t.shape[axis], "tensor")
                result = try result.slice(axis: axis, p, p + 1)
                axis += 1
            } else {
                throw RuntimeError("tensor indices must be integers, slices, '...' or None, not '\(key.typeName)'")
            }
        }
        finalShape += t.shape[axis...]
        return result.shape == finalShape ? result : try result.reshape(finalShape)
    }

    // MARK: assignment

    func setIndex(_ object: Value, _ keys: [Value], _ value: Value) throws {
        guard keys.count == 1 else {
            if case .tensor = object { throw tensorImmutable() }
            throw RuntimeError("'\(object.typeName)' indices must be a single index")
        }
        switch object {
        case .list(let l):
            if case .object(let o) = keys[0], let s = o as? SliceObject {
                guard let r = try contiguousRange(s, count: l.items.count), let items = value.sequence else {
                    throw RuntimeError("can only assign a list to a slice with step 1")
                }
                l.items.replaceSubrange(r, with: items)
                return
            }
            l.items[try position(keys[0], count: l.items.count, "list")] = value
        case .dict(let d):
            guard case .string(let k) = keys[0] else {
                throw RuntimeError("dict keys must be strings, got '\(keys[0].typeName)'")
            }
            d[k] = value
        case .tensor: throw tensorImmutable()
        case .tuple: throw RuntimeError("'tuple' object does not support item assignment")
        case .string: throw RuntimeError("'str' object does not support item assignment")
        default: throw RuntimeError("'\(object.typeName)' object does not support item assignment")
        }
    }

    private func tensorImmutable() -> RuntimeError {
        RuntimeError("tensors are immutable graph values; index assignment is not supported",
                     note: "build a new tensor, e.g. with where(mask, value, x) or concat([...])")
    }

    var dummySpan: SourceSpan { SourceSpan(file: "<builtin>", line: 0, column: 0) }
}

extension Value {
    var isTensor: Bool { if case .tensor = self { return true } else { return false } }
    var isNone: Bool { if case .none = self { return true } else { return false } }
    var isEllipsis: Bool { if case .object(let o) = self { return o is EllipsisObject } else { return false } }
}
