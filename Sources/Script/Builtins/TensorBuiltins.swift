import Foundation
import TensorGraph

/// Creating and combining lazy tensors. Every function here builds graph nodes and
/// computes nothing (except `eval`, and `param`, which fixes its initial value); the nodes
/// record the script expression of the call, so shape errors and drawings point back to it.
enum TensorBuiltins {
    static let all: [Builtin] = creation + elementwise + shapes + layers + [gradient, seed]

    // MARK: creation

    static let creation: [Builtin] = [
        Builtin("tensor", "data",
                help: "A constant tensor from a number or nested lists of numbers (or a list of equally shaped tensors, stacked).",
                example: "tensor([[1, 2], [3, 4]])") { a in
            do { return .tensor(.constant(try a.interpreter.tensorData(a["data"]))) } catch let e as RuntimeError {
                throw a.error("data", String(e.message.dropFirst("tensor: ".count)))
            }
        },
        Builtin("zeros", "shape, *sizes", help: "A tensor of zeros; the shape as a list or as separate sizes (zeros(2, 3)).",
                example: "zeros([2, 3])\nzeros(2, 3).shape") { a in
            .tensor(.full(try a.sizes("shape"), 0))
        },
        Builtin("ones", "shape, *sizes", help: "A tensor of ones; the shape as a list or as separate sizes (ones(2, 3)).",
                example: "ones([2, 3])\nones(2, 3).shape") { a in
            .tensor(.full(try a.sizes("shape"), 1))
        },
        Builtin("full", "shape, value", help: "A tensor with every value set to value.",
                example: "full([2, 2], -inf)") { a in
            .tensor(.full(try a.shape("shape"), Float(try a.double("value"))))
        },
        Builtin("randn", "shape, *sizes, seed=None",
                help: "Standard normal random values of a shape (a list or separate sizes: randn(2, 8)), from the session's generator (see seed) or from the keyword seed if given.",
                example: "randn([2, 8])\nrandn(2, 8, seed=1).shape") { a in
            let shape = try a.sizes("shape")
            return .tensor(.constant(TensorData(shape: shape, values: try draw(a) { $0.normal(Shape.count(shape)) })))
        },
        Builtin("rand", "shape, *sizes, low=0.0, high=1.0, seed=None",
                help: "Uniform random values in [low, high) of a shape (a list or separate sizes: rand(2, 3)), from the session's generator or from the keyword seed if given.",
                example: "rand([3], low=-1, high=1)\nrand(2, 3).shape") { a in
            let shape = try a.sizes("shape")
            let low = Float(try a.double("low")), high = Float(try a.double("high"))
            return .tensor(.constant(TensorData(shape: shape, values: try draw(a) { $0.uniform(Shape.count(shape), low: low, high: high) })))
        },
        Builtin("arange", "start, stop=None, step=1",
                help: "A 1-d tensor of evenly spaced values from start (or 0) up to but excluding stop.",
                example: "arange(5)\narange(0, 1, 0.25)") { a in
            var start = try a.double("start"), stop = try a.optionalDouble("stop")
            if stop == nil { stop = start; start = 0 }
            let step = try a.double("step"), blamed = a.has("stop") ? "stop" : "start"
            guard step != 0 else { throw a.error("step", "arange step must not be zero") }
            let n = try a.count(from: start, to: stop!, by: step, atMost: 100_000_000, blamed)
            return .tensor(.constant(TensorData(shape: [n], values: (0..<n).map { Float(start + Double($0) * step) })))
        },
        Builtin("param", "value=None, name=None, shape=None, std=0.02, fill=None",
                help: "A trainable parameter: initialised with value's current values, or of the given shape (a list of ints) drawn from N(0, std²) or filled with fill. Inside a model piece (a function given to transfusion(encoder=...)) it is a weight of the model named under the piece (encoder.NAME; unnamed ones are numbered in call order), drawn from the model's seed once and found again whenever the piece runs.",
                example: "w = param(randn([8, 4]) * 0.1, name=\"w\")\nb = param(shape=[4], fill=0)") { a in
            let name = try a.optionalString("name")
            let shape: [Int], initial: ParameterInit
            switch (a.has("value"), a.has("shape")) {
            case (true, true): throw a.error("shape", "give value or shape=, not both")
            case (false, false): throw a.error("value", "give the initial values, or shape= (with std= or fill=)")
            case (true, false):
                let data = try a.tensor("value").realize()
                shape = data.shape; initial = .values(data)
            case (false, true):
                shape = try a.shape("shape")
                try a.fits(values: MemoryLimit.count(shape), "shape", "a parameter of shape \(Shape.describe(shape))")
                initial = try a.has("fill") ? .fill(Float(try a.number("fill", "a finite number") { _ in true }))
                    : .normal(std: Float(try a.number("std", "a finite number ≥ 0") { $0 >= 0 }))
            }
            if let scope = a.interpreter.parameterScope { return .tensor(try scope.parameter(name: name, shape: shape, initial: initial)) }
            let n = Shape.count(shape)
            switch initial {
            case .values(let data): return .tensor(.parameter(data, name: name))
            case .fill(let v): return .tensor(.parameter(TensorData(shape: shape, values: [Float](repeating: v, count: n)), name: name))
            case .normal(let std): return .tensor(.parameter(TensorData(shape: shape, values: a.interpreter.rng.normal(n).map { $0 * std }), name: name))
            }
        },
        Builtin("input", "name, shape",
                help: "A placeholder fed a value at evaluation time: eval(y, feeds={name: value}).",
                example: "x = input(\"x\", [2])\neval(x * 2, feeds={\"x\": tensor([1, 2])})") { a in
            .tensor(.input(try a.string("name"), try a.shape("shape")))
        },
        Builtin("eval", "x, feeds=None",
                help: "Computes a tensor (or a list of tensors, in one plan) and returns constant tensors holding the values; feeds gives inputs by name.",
                example: "y = eval(ones([2]) * 3)") { a in
            try evaluate(a)
        },
        Builtin("shape", "x", help: "A tensor's shape as a list of ints.", example: "shape(zeros([2, 3]))") { a in
            .list(try a.tensor("x").shape.map(Value.int))
        },
    ]

    /// Draws from the session's generator, or from a fresh one for an explicit seed.
    private static func draw(_ a: Arguments, _ body: (inout RNG) -> [Float]) throws -> [Float] {
        if let seed = try a.optionalInt("seed") {
            var rng = RNG(seed: UInt64(bitPattern: Int64(seed)))
            return body(&rng)
        }
        return body(&a.interpreter.rng)
    }

    private static func evaluate(_ a: Arguments) throws -> Value {
        let single: Bool
        let tensors: [Tensor]
        if a["x"].sequence != nil { tensors = try a.tensors("x"); single = false } else { tensors = [try a.tensor("x")]; single = true }
        let plan = try Plan(tensors.map(\.node))
        var feeds: [Node: TensorData] = [:]
        if a.has("feeds") {
            for (name, value) in try a.dict("feeds").pairs {
                let matching = plan.inputs.filter { $0.name == name }
                guard !matching.isEmpty else {
                    throw a.error("feeds", "no input named '\(name)' in this graph",
                                  note: plan.inputs.isEmpty ? "the graph has no inputs"
                                      : "its inputs: " + plan.inputs.compactMap(\.name).joined(separator: ", "))
                }
                let data = try a.interpreter.asTensor(value).realize()
                for input in matching { feeds[input] = data }
            }
        }
        let values = try plan.run(feeds).map { Value.tensor(.constant($0)) }
        return single ? values[0] : .list(values)
    }

    // MARK: elementwise

    static let elementwise: [Builtin] = [
        unary("sigmoid", "1 / (1 + exp(-x)), elementwise.") { try $0.sigmoid() },
        unary("relu", "max(x, 0), elementwise.") { try $0.relu() },
        unary("silu", "x * sigmoid(x), elementwise.") { try $0.silu() },
        unary("gelu", "The Gaussian error linear unit in its exact form, x·Φ(x) with the normal CDF (erf), elementwise; gelu_tanh is the tanh approximation.") { try $0.gelu() },
        unary("gelu_tanh", "GELU's tanh approximation, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), elementwise (PyTorch's approximate='tanh').") { try $0.unary(.geluTanh) },
        unary("square", "x², elementwise.") { try $0.square() },
        unary("rsqrt", "1 / sqrt(x), elementwise.") { try $0.unary(.rsqrt) },
        binary("maximum", "The larger of a and b, elementwise (with broadcasting).") { try $0.maximum($1) },
        binary("minimum", "The smaller of a and b, elementwise (with broadcasting).") { try $0.minimum($1) },
        binary("matmul", "The matrix product a @ b (batched over leading axes).") { a, b in
            try Interpreter.matmul(a, b)
        },
        Builtin("where", "cond, a, b", help: "a where cond is nonzero, else b, elementwise (with broadcasting).",
                example: "where(tensor([1, 0]), tensor([5, 5]), -inf)") { a in
            .tensor(try Tensor.select(try a.tensor("cond"), try a.tensor("a"), try a.tensor("b")))
        },
    ]

    private static func unary(_ name: String, _ help: String, _ f: @escaping (Tensor) throws -> Tensor) -> Builtin {
        Builtin(name, "x", help: help, example: "\(name)(tensor([-1.0, 0.0, 2.0]))") { a in
            .tensor(try f(try a.tensor("x")))
        }
    }

    private static func binary(_ name: String, _ help: String, _ f: @escaping (Tensor, Tensor) throws -> Tensor) -> Builtin {
        Builtin(name, "a, b", help: help, example: "\(name)(tensor([[1, 2]]), tensor([[3], [0]]))") { a in
            .tensor(try f(try a.tensor("a"), try a.tensor("b")))
        }
    }

    // MARK: shapes and reductions

    static let shapes: [Builtin] = [
        Builtin("mean", "x, axis=None, keepdims=False",
                help: "The mean of a tensor's values over axis (all when None), or of a list of numbers.",
                example: "mean(tensor([[1, 2], [3, 4]]), axis=0)") { a in
            if let items = a["x"].sequence, !items.contains(where: \.isTensor) {
                guard !items.isEmpty else { throw a.error("x", "mean of an empty list") }
                return .float(try items.map { guard let n = $0.number else { throw a.error("x", "mean of a non-number '\($0.typeName)'") }; return n }.reduce(0, +) / Double(items.count))
            }
            return .tensor(try a.tensor("x").mean(axes: try a.axes("axis"), keepDims: try a.bool("keepdims")))
        },
        Builtin("softmax", "x, axis=-1", help: "exp(x) normalized to sum to 1 along axis.",
                example: "softmax(tensor([1.0, 2.0, 3.0]))") { a in
            .tensor(try a.tensor("x").softmax(axis: try a.int("axis")))
        },
        Builtin("log_softmax", "x, axis=-1", help: "log(softmax(x)) along axis, computed stably.",
                example: "log_softmax(tensor([1.0, 2.0, 3.0]))") { a in
            .tensor(try a.tensor("x").logSoftmax(axis: try a.int("axis")))
        },
        Builtin("reshape", "x, shape", help: "The same values in a new shape; one entry may be -1 (inferred).",
                example: "reshape(arange(6), [2, -1])") { a in
            .tensor(try reshape(try a.tensor("x"), try a.ints("shape"), a))
        },
        Builtin("permute", "x, order", help: "The axes reordered: result axis i is x's axis order[i].",
                example: "permute(zeros([2, 3, 4]), [2, 0, 1]).shape") { a in
            .tensor(try permute(try a.tensor("x"), try a.ints("order"), a))
        },
        Builtin("transpose", "x, a=-2, b=-1", help: "x with axes a and b swapped (the last two by default).",
                example: "transpose(zeros([2, 3])).shape") { a in
            .tensor(try a.tensor("x").transpose(try a.int("a"), try a.int("b")))
        },
        Builtin("concat", "tensors, axis=0", help: "The tensors joined along axis (other axes must match).",
                example: "concat([ones([1, 2]), zeros([2, 2])], axis=0)") { a in
            .tensor(try Tensor.concat(try a.tensors("tensors"), axis: try a.int("axis")))
        },
        Builtin("gather", "table, indices",
                help: "Rows of table picked by integer-valued indices: an embedding lookup, shape indices.shape + [table's row size]. An index outside the table or not a whole number is an error naming the first one.",
                example: "gather(tensor([[0, 0], [1, 1], [2, 2]]), tensor([2, 0]))") { a in
            .tensor(try a.tensor("table").gather(try a.tensor("indices")))
        },
        Builtin("one_hot", "indices, depth", help: "Integer-valued indices as one-hot rows of length depth; an index outside 0…depth−1 or not a whole number is an error naming the first one.",
                example: "one_hot(tensor([0, 2]), 3)") { a in
            let depth = try a.size("depth", atMost: 1_000_000)
            return .tensor(try a.tensor("indices").oneHot(depth))
        },
    ]

    static func reshape(_ t: Tensor, _ shape: [Int], _ a: Arguments) throws -> Tensor {
        guard shape.filter({ $0 == -1 }).count <= 1, shape.allSatisfy({ $0 >= -1 }) else {
            throw RuntimeError("reshape: bad shape \(Shape.describe(shape)) (at most one -1, no other negative sizes)")
        }
        // Overflow-checked: a fuzzed [2**32, 2**32, 0] must not trap (nil fits nothing).
        let known = MemoryLimit.count(shape.filter { $0 != -1 })
        let fits = shape.contains(-1) ? (known.map { $0 > 0 && t.count % $0 == 0 } ?? false) : known == t.count
        guard fits else {
            throw RuntimeError("reshape: cannot reshape a tensor of shape \(Shape.describe(t.shape)) (\(t.count) values) into \(Shape.describe(shape))")
        }
        return try t.reshape(shape)
    }

    static func permute(_ t: Tensor, _ order: [Int], _ a: Arguments) throws -> Tensor {
        let normalized = order.map { $0 < 0 ? $0 + t.rank : $0 }
        guard normalized.sorted() == Array(0..<t.rank) else {
            throw RuntimeError("permute: \(Shape.describe(order)) is not an ordering of the \(t.rank) axes of a tensor of shape \(Shape.describe(t.shape))")
        }
        return try t.permute(normalized)
    }

    // MARK: layers and losses

    static let layers: [Builtin] = [
        Builtin("conv2d", "x, w, stride=1, padding=0",
                help: "2-d convolution of images x [N, C, H, W] with filters w [O, C, kh, kw].",
                example: "conv2d(ones([1, 1, 4, 4]), ones([2, 1, 3, 3]), padding=1).shape") { a in
            .tensor(try a.tensor("x").conv2d(try a.tensor("w"), stride: try a.int("stride"), padding: try a.int("padding")))
        },
        Builtin("conv_transpose2d", "x, w, stride=1, padding=0, output_padding=0",
                help: "Transposed 2-d convolution (the gradient of conv2d with respect to its input) of x [N, C, H, W] with filters w [C, O, kh, kw]: [N, O, (H − 1)·stride − 2·padding + kh + output_padding, …].",
                example: "conv_transpose2d(ones([1, 2, 4, 4]), ones([2, 3, 2, 2]), stride=2).shape") { a in
            .tensor(try a.tensor("x").convTranspose2d(try a.tensor("w"), stride: try a.size("stride"), padding: try a.size("padding", atLeast: 0),
                                                      outputPadding: try a.size("output_padding", atLeast: 0)))
        },
        Builtin("group_norm", "x, groups, weight=None, bias=None, eps=1e-5",
                help: "GroupNorm of x [N, C, ...]: the channels split into `groups` groups, each normalised over its channels and every spatial position; then weight and bias per channel ([C]) if given.",
                example: "group_norm(randn([2, 4, 3, 3]), 2).shape") { a in
            .tensor(try a.tensor("x").groupNorm(groups: try a.size("groups"), weight: try a.optionalTensor("weight"),
                                                bias: try a.optionalTensor("bias"), eps: Float(try a.double("eps"))))
        },
        Builtin("avg_pool", "x, size",
                help: "Average pooling of the last two axes over non-overlapping size×size blocks (each axis divisible by size).",
                example: "avg_pool(arange(16).reshape(1, 1, 4, 4), 2)") { a in
            .tensor(try a.tensor("x").avgPool(try a.size("size")))
        },
        Builtin("upsample", "x, factor",
                help: "Nearest-neighbour upsampling of the last two axes by an integer factor.",
                example: "upsample(tensor([[1.0, 2.0], [3.0, 4.0]]), 2)") { a in
            .tensor(try a.tensor("x").upsample(try a.size("factor")))
        },
        Builtin("swiglu", "gate, up",
                help: "SwiGLU's gate in one pass: silu(gate) * up, elementwise (the MLP of a Llama block is swiglu(x @ w_gate, x @ w_up) @ w_down).",
                example: "swiglu(tensor([1.0, -1.0]), tensor([2.0, 2.0]))") { a in
            .tensor(try a.tensor("gate").swiglu(try a.tensor("up")))
        },
        Builtin("split_heads", "x, heads, cos=None, sin=None",
                help: "[B, T, H·D] → [B, H, T, D] for attention, rotating each head's pairs by RoPE tables cos and sin [B, 1, T, D] when given (one pass, as the model's attention does).",
                example: "split_heads(ones([1, 3, 8]), 2).shape") { a in
            let rope: (cos: Tensor, sin: Tensor)?
            switch (a.has("cos"), a.has("sin")) {
            case (true, true): rope = (try a.tensor("cos"), try a.tensor("sin"))
            case (false, false): rope = nil
            default: throw a.error(a.has("cos") ? "sin" : "cos", "give both cos and sin, or neither")
            }
            return .tensor(try a.tensor("x").splitHeads(try a.size("heads"), rope: rope))
        },
        Builtin("merge_heads", "x",
                help: "[B, H, T, D] → [B, T, H·D]: attention's heads side by side again.",
                example: "merge_heads(ones([1, 2, 3, 4])).shape") { a in
            .tensor(try a.tensor("x").mergeHeads())
        },
        Builtin("broadcast_to", "x, shape",
                help: "x repeated along new or size-1 axes to shape (NumPy's broadcasting rules).",
                example: "broadcast_to(tensor([1, 2]), [3, 2])") { a in
            .tensor(try a.tensor("x").broadcast(to: try a.shape("shape")))
        },
        Builtin("attention", "q, k, v, mask=None, scale=None",
                help: "Scaled dot-product attention: q [B, H, T, D], k and v [B, H, S, D], mask [T, S] of 1 (may attend) and 0; no mask means full attention.",
                example: "q = randn([1, 2, 4, 8])\nattention(q, q, q).shape") { a in
            let q = try a.tensor("q"), k = try a.tensor("k"), v = try a.tensor("v")
            let mask = try a.optionalTensor("mask")
                ?? .full([q.shape.dropLast().last ?? 1, k.shape.dropLast().last ?? 1], 1)
            return .tensor(try Tensor.attention(q, k, v, mask: mask, scale: try a.optionalDouble("scale").map(Float.init)))
        },
        Builtin("rms_norm", "x, weight=None, eps=1e-6",
                help: "x / sqrt(mean(x²) + eps) over the last axis, times weight if given.",
                example: "rms_norm(tensor([[1.0, 2.0, 3.0]]))") { a in
            .tensor(try a.tensor("x").rmsNorm(weight: try a.optionalTensor("weight"), eps: Float(try a.double("eps"))))
        },
        Builtin("layer_norm", "x, weight=None, bias=None, eps=1e-5",
                help: "(x − mean) / sqrt(var + eps) over the last axis, times weight plus bias if given.",
                example: "layer_norm(tensor([[1.0, 2.0, 3.0]]))") { a in
            .tensor(try a.tensor("x").layerNorm(weight: try a.optionalTensor("weight"), bias: try a.optionalTensor("bias"),
                                                eps: Float(try a.double("eps"))))
        },
        Builtin("cross_entropy", "logits, targets, ignore_index=-100",
                help: "Mean cross-entropy of logits [..., V] against integer-valued targets [...]. Targets equal to ignore_index (-100 by default, as in PyTorch; None for none) count neither in the sum nor in the mean; any other target outside 0…V−1, or not a whole number, is an error naming the first one.",
                example: "cross_entropy(tensor([[2.0, 0.5, -1.0]]), tensor([0]))") { a in
            .tensor(try Tensor.crossEntropy(try a.tensor("logits"), try a.tensor("targets"), ignoreIndex: try a.optionalInt("ignore_index")))
        },
        Builtin("mse", "a, b", help: "The mean squared error between two tensors of the same shape.",
                example: "mse(tensor([1.0, 2.0]), tensor([1.0, 4.0]))") { a in
            .tensor(try Tensor.mse(try a.tensor("a"), try a.tensor("b")))
        },
    ]

    // MARK: autodiff and randomness

    static let gradient = Builtin("grad", "y, wrt",
            help: "The gradients of scalar y with respect to a tensor or a list of tensors, as lazy tensors (a list for a list).",
            example: "w = param(tensor([1.0, 2.0]))\ngrad(sum(w * w), [w])[0]") { a in
        let y = try a.tensor("y")
        if case .tensor(let w) = a["wrt"] { return .tensor(try y.gradients(wrt: [w])[0]) }
        return .list(try y.gradients(wrt: try a.tensors("wrt")).map(Value.tensor))
    }

    static let seed = Builtin("seed", "n", help: "Restarts the session's random generator from seed n (randn and rand draw from it).",
                              example: "seed(0)\nrandn([2])") { a in
        a.interpreter.rng = RNG(seed: UInt64(bitPattern: Int64(try a.int("n"))))
        return .none
    }
}

