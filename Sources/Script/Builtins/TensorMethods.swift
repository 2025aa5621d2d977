import TensorGraph

/// Tensors' fields (`x.shape`, `x.T`) and methods, PyTorch style: `x.sum(axis=0)`,
/// `x.reshape(2, -1)`, `x.item()`.
enum TensorMethods {
    static let type = ValueType("tensor", help: "A lazy tensor: operations build a graph, printing or .item() computes it.",
                                fields: fields, methods: reductions + shaping + elementwise + values + TorchMethods.all)

    private static let members = Members<Tensor>("tensor") { v in if case .tensor(let t) = v { t } else { nil } }

    private static func method(_ name: String, _ spec: String, _ help: String, _ example: String,
                               _ body: @escaping (Tensor, Arguments) throws -> Value) -> Builtin {
        members.method(name, spec, help, example: example, body)
    }

    static let fields: [Field] = [
        members.field("shape", "The size of each axis, a list of ints.") { .list(ListRef($0.shape.map(Value.int))) },
        members.field("ndim", "How many axes.") { .int($0.rank) },
        members.field("T", "The last two axes swapped (the tensor itself below two axes).") { .tensor($0.rank < 2 ? $0 : try $0.transpose()) },
        members.field("name", "The name of a param(..., name=) or a model weight, else None.") { $0.node.name.map(Value.string) ?? Value.none },
    ]

    static let reductions: [Builtin] = [
        method("sum", "axis=None, keepdims=False", "The sum over axis (an int or list of ints; all when None).",
               "ones([2, 3]).sum(axis=1)") { t, a in
            .tensor(try t.sum(axes: try a.axes("axis"), keepDims: try a.bool("keepdims")))
        },
        method("mean", "axis=None, keepdims=False", "The mean over axis (all when None).",
               "tensor([1, 2, 3, 4]).mean()") { t, a in
            .tensor(try t.mean(axes: try a.axes("axis"), keepDims: try a.bool("keepdims")))
        },
        method("max", "axis=None, keepdims=False", "The maximum over axis (all when None).",
               "tensor([[1, 5], [7, 2]]).max(axis=0)") { t, a in
            .tensor(try t.max(axes: try a.axes("axis"), keepDims: try a.bool("keepdims")))
        },
        method("softmax", "axis=-1", "softmax along axis.", "tensor([1.0, 2.0]).softmax()") { t, a in
            .tensor(try t.softmax(axis: try a.int("axis")))
        },
        method("log_softmax", "axis=-1", "log_softmax along axis.", "tensor([1.0, 2.0]).log_softmax()") { t, a in
            .tensor(try t.logSoftmax(axis: try a.int("axis")))
        },
    ]

    static let shaping: [Builtin] = [
        method("reshape", "*shape", "The same values in a new shape, given as ints or one list; one entry may be -1.",
               "arange(6).reshape(2, 3)") { t, a in
            .tensor(try TensorBuiltins.reshape(t, try dims(a), a))
        },
        method("permute", "*order", "The axes reordered, given as ints or one list.",
               "zeros([2, 3, 4]).permute(2, 0, 1).shape") { t, a in
            .tensor(try TensorBuiltins.permute(t, try dims(a), a))
        },
        method("transpose", "a=-2, b=-1", "Axes a and b swapped (the last two by default).",
               "zeros([2, 3]).transpose().shape") { t, a in
            .tensor(try t.transpose(try a.int("a"), try a.int("b")))
        },
        method("flatten", "", "The values as a 1-d tensor.", "zeros([2, 3]).flatten().shape") { t, _ in
            .tensor(try t.reshape([t.count]))
        },
        method("matmul", "other", "The matrix product self @ other.", "ones([2, 3]).matmul(ones([3]))") { t, a in
            .tensor(try Interpreter.matmul(t, try a.tensor("other")))
        },
    ]

    static let elementwise: [Builtin] = [
        unary("exp") { try $0.exp() }, unary("log") { try $0.log() }, unary("sqrt") { try $0.sqrt() },
        unary("tanh") { try $0.tanh() }, unary("sigmoid") { try $0.sigmoid() }, unary("relu") { try $0.relu() },
        unary("silu") { try $0.silu() }, unary("gelu") { try $0.gelu() }, unary("abs") { try $0.abs() },
        unary("square") { try $0.square() }, unary("sin") { try $0.unary(.sin) }, unary("cos") { try $0.unary(.cos) },
        method("pow", "exponent", "Each value raised to exponent (a number or a tensor).", "tensor([2, 3]).pow(2)") { t, a in
            .tensor(try t.pow(try a.tensor("exponent")))
        },
    ]

    static let values: [Builtin] = [
        method("item", "", "The value of a one-value tensor as a float (computes it).", "tensor([[2.5]]).item()") { t, a in
            .float(Double(try scalarValue(t, a)))
        },
        method("tolist", "", "The values as nested lists of floats (computes them).", "tensor([[1, 2], [3, 4]]).tolist()") { t, _ in
            // An empty tensor may still have long axes: count the lists before making them.
            var lists = 0, outer = 1, tooMany = false
            for n in t.shape.dropLast() {
                lists += outer
                let (product, overflow) = outer.multipliedReportingOverflow(by: n)
                guard !overflow, lists <= Arguments.maxSize else { tooMany = true; break }
                outer = product
            }
            if t.rank > 0, !tooMany { lists += outer }
            guard !tooMany, lists <= Arguments.maxSize else {
                throw RuntimeError("tensor.tolist: a tensor of shape \(Shape.describe(t.shape)) makes more than \(Arguments.maxSize) nested lists")
            }
            return nestedList(try t.realize())
        },
        method("numel", "", "The number of values.", "zeros([2, 3]).numel()") { t, _ in .int(t.count) },
        method("eval", "", "Computes the tensor; a constant tensor holding its values.", "(ones([2]) + 1).eval()") { t, _ in
            .tensor(.constant(try t.realize()))
        },
        method("assign", "value",
               "Overwrites a parameter's values in place (later evaluations see them); for hand-written training loops.",
               "w = param(zeros([2]))\nw.assign(w - 0.1 * ones([2]))") { t, a in
            guard let storage = t.node.storage, t.node.isParameter else {
                throw RuntimeError("tensor.assign: only a param(...) can be assigned")
            }
            let data = try a.tensor("value").realize()
            do { try storage.assign(data) } catch let e as TensorGraphError { throw a.error("value", e.message) }
            return .none
        },
    ]

    private static func unary(_ name: String, _ f: @escaping (Tensor) throws -> Tensor) -> Builtin {
        method(name, "", "\(name) of each value.", "tensor([1.0, 4.0]).\(name)()") { t, _ in .tensor(try f(t)) }
    }

    /// `reshape(2, 3)` or `reshape([2, 3])`.
    private static func dims(_ a: Arguments) throws -> [Int] {
        let items = a.rest.count == 1 && a.rest[0].sequence != nil ? a.rest[0].sequence! : a.rest
        return try items.map {
            guard let i = $0.integer else { throw RuntimeError("\(a.name): expected ints, found '\($0.typeName)'") }
            return i
        }
    }

    static func nestedList(_ data: TensorData) -> Value {
        let strides = Shape.strides(data.shape)
        func walk(_ offset: Int, _ dim: Int) -> Value {
            if dim == data.rank { return .float(Double(data.values[offset])) }
            return .list((0..<data.shape[dim]).map { walk(offset + $0 * strides[dim], dim + 1) })
        }
        return walk(0, 0)
    }
}
