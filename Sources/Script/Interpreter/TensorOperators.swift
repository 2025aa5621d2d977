import TensorGraph

/// Operators on tensors build graph nodes (the caller has set `BuildContext` to the
/// expression's span). Numbers take part as scalars and broadcast.
extension Interpreter {
    func isTensorLike(_ v: Value) -> Bool {
        switch v {
        case .tensor, .int, .float, .bool: return true
        default: return false
        }
    }

    func tensorBinary(_ op: BinaryOperator, _ a: Value, _ b: Value) throws -> Value {
        let x = try asTensor(a), y = try asTensor(b)
        let kind: Binary.Kind
        switch op {
        case .add: kind = .add
        case .subtract: kind = .sub
        case .multiply: kind = .mul
        case .divide: kind = .div
        case .power: kind = .pow
        case .equal: kind = .equal
        case .notEqual: kind = .notEqual
        case .less: kind = .less
        case .lessEqual: kind = .lessEqual
        case .greater: kind = .greater
        case .greaterEqual: kind = .greaterEqual
        case .matmul:
            return .tensor(try Interpreter.matmul(x, y))
        // Logic on truth values (nonzero is true), as masks are written: 0 or 1 out.
        case .bitAnd: return .tensor(try x.binary(.notEqual, .scalar(0)) * y.binary(.notEqual, .scalar(0)))
        case .bitOr: return .tensor(try x.binary(.notEqual, .scalar(0)).maximum(y.binary(.notEqual, .scalar(0))))
        default:
            throw unsupported(op, a, b)
        }
        return .tensor(try x.binary(kind, y))
    }

    /// `a @ b` with NumPy's rules for vectors: a 1-d left operand is a row, a 1-d right
    /// operand a column, and the added axis is removed again.
    static func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.rank >= 1, b.rank >= 1 else {
            throw RuntimeError("matmul: both operands need at least one dimension (shapes \(Shape.describe(a.shape)) and \(Shape.describe(b.shape)))")
        }
        let left = a.rank == 1 ? try a.reshape([1, a.shape[0]]) : a
        let right = b.rank == 1 ? try b.reshape([b.shape[0], 1]) : b
        var out = try left.matmul(right)
        if a.rank == 1 { out = try out.reshape(Array(out.shape.dropLast(2)) + [out.shape.last!]) }
        if b.rank == 1 { out = try out.reshape(Array(out.shape.dropLast())) }
        return out
    }

    /// A tensor, or a number as a scalar tensor, or nested lists of numbers as a constant.
    func asTensor(_ v: Value) throws -> Tensor {
        switch v {
        case .tensor(let t): return t
        case .int, .float, .bool: return .scalar(Float(v.number!))
        case .list, .tuple: return .constant(try tensorData(v))
        default: throw RuntimeError("expected a tensor, got '\(v.typeName)'")
        }
    }

    /// The values of nested lists of numbers (every row the same length). A list of equally
    /// shaped tensors stacks them.
    func tensorData(_ v: Value) throws -> TensorData {
        // The shape is read along the first elements, then every element is checked against it.
        var outer: [Int] = [], first = v
        while let items = first.sequence {
            guard outer.count < 32 else { throw RuntimeError("tensor: lists nested more than 32 deep") }
            outer.append(items.count)
            guard let f = items.first else { break }
            first = f
        }
        var leafShape: [Int] = []
        if case .tensor(let t) = first { leafShape = t.shape }
        var values: [Float] = []
        func walk(_ v: Value, _ depth: Int) throws {
            if depth < outer.count {
                guard let items = v.sequence, items.count == outer[depth] else {
                    throw RuntimeError("tensor: nested lists must be rectangular (expected \(outer[depth]) elements at depth \(depth))")
                }
                for item in items { try walk(item, depth + 1) }
            } else if case .tensor(let t) = v, t.shape == leafShape {
                values += try t.realize().values
            } else if let n = v.number, leafShape.isEmpty, v.sequence == nil {
                values.append(Float(n))
            } else {
                throw RuntimeError("tensor: expected \(leafShape.isEmpty ? "a number" : "a tensor of shape \(Shape.describe(leafShape))"), got '\(v.typeName)'")
            }
        }
        try walk(v, 0)
        return TensorData(shape: outer + leafShape, values: values)
    }
}
