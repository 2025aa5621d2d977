import TensorGraph

/// Tensor methods under the names PyTorch users reach for: `argmax`, `clamp`, `std`/`var`,
/// `unsqueeze`, `view`, `size`. Each is built from tfs's own operations (lazy, differentiable),
/// except `argmax`, which computes its tensor (an index has no gradient).
enum TorchMethods {
    private static let members = Members<Tensor>("tensor") { v in if case .tensor(let t) = v { t } else { nil } }

    static let all: [Builtin] = [
        members.method("argmax", "axis=None, keepdims=False",
                       "The index of the largest value along axis (of the flattened values when None), as a tensor; computes the tensor.",
                       example: "tensor([[1, 5], [7, 2]]).argmax(axis=1)") { t, a in
            .tensor(.constant(try argmax(try t.realize(), axis: try a.optionalInt("axis"), keepDims: try a.bool("keepdims"), a)))
        },
        members.method("clamp", "min=None, max=None", "Each value limited to [min, max] (either bound may be None).",
                       example: "tensor([-2, 0.5, 3]).clamp(min=0, max=1)") { t, a in
            var out = t
            if a.has("min") { out = try out.maximum(.full([], Float(try a.double("min")))) }
            if a.has("max") { out = try out.minimum(.full([], Float(try a.double("max")))) }
            return .tensor(out)
        },
        members.method("var", "axis=None, keepdims=False, correction=1",
                       "The variance over axis (all when None), dividing by n - correction (1: unbiased, as PyTorch).",
                       example: "tensor([1, 2, 3, 4]).var()") { t, a in
            .tensor(try variance(t, a))
        },
        members.method("std", "axis=None, keepdims=False, correction=1",
                       "The standard deviation over axis (all when None): the square root of var.",
                       example: "tensor([1, 2, 3, 4]).std()") { t, a in
            .tensor(try variance(t, a).sqrt())
        },
        members.method("unsqueeze", "axis", "The same values with a new axis of size 1 at axis (negative counts from the end).",
                       example: "zeros([2, 3]).unsqueeze(0).shape") { t, a in
            let at = try a.int("axis")
            guard let position = Shape.axis(at, rank: t.rank + 1) else {
                throw a.error("axis", "axis \(at) is out of range for a new axis of a rank-\(t.rank) tensor")
            }
            var shape = t.shape
            shape.insert(1, at: position)
            return .tensor(try t.reshape(shape))
        },
        members.method("view", "*shape", "The same values in a new shape (PyTorch's name for reshape).",
                       example: "arange(6).view(3, 2)") { t, a in
            let items = a.rest.count == 1 && a.rest[0].sequence != nil ? a.rest[0].sequence! : a.rest
            let shape = try items.map {
                guard let i = $0.integer else { throw RuntimeError("tensor.view: expected ints, found '\($0.typeName)'") }
                return i
            }
            return .tensor(try TensorBuiltins.reshape(t, shape, a))
        },
        members.method("size", "axis=None", "The shape as a list of ints, or the size of one axis.",
                       example: "zeros([2, 3]).size()\nzeros([2, 3]).size(-1)") { t, a in
            guard let at = try a.optionalInt("axis") else { return .list(t.shape.map(Value.int)) }
            guard let axis = Shape.axis(at, rank: t.rank) else {
                throw a.error("axis", "axis \(at) is out of range for a rank-\(t.rank) tensor")
            }
            return .int(t.shape[axis])
        },
    ]

    /// mean((x - mean(x))²) · n / (n - correction) over the axes.
    private static func variance(_ t: Tensor, _ a: Arguments) throws -> Tensor {
        let axes = try a.axes("axis"), keepDims = try a.bool("keepdims"), correction = try a.int("correction")
        let counted = try (axes ?? Array(0..<t.rank)).map { at -> Int in
            guard let axis = Shape.axis(at, rank: t.rank) else { throw a.error("axis", "axis \(at) is out of range for a rank-\(t.rank) tensor") }
            return t.shape[axis]
        }.reduce(1, *)
        guard counted - correction > 0 else {
            throw a.error("correction", "\(counted) value\(counted == 1 ? "" : "s") with correction \(correction) leave no degrees of freedom")
        }
        let centered = try t - t.mean(axes: axes, keepDims: true)
        let scale = Float(counted) / Float(counted - correction)
        return try (centered * centered).mean(axes: axes, keepDims: keepDims) * .full([], scale)
    }

    /// The index of the largest value along `axis` (of all values when nil); the first on ties.
    private static func argmax(_ data: TensorData, axis: Int?, keepDims: Bool, _ a: Arguments) throws -> TensorData {
        guard data.count > 0 else { throw RuntimeError("tensor.argmax: the tensor is empty") }
        guard let at = axis else {
            let best = data.values.indices.max { data.values[$0] < data.values[$1] }!   // the first on ties
            return TensorData(shape: keepDims ? Array(repeating: 1, count: data.rank) : [], values: [Float(best)])
        }
        guard let axis = Shape.axis(at, rank: data.rank) else {
            throw a.error("axis", "axis \(at) is out of range for a rank-\(data.rank) tensor")
        }
        let n = data.shape[axis], inner = data.shape[(axis + 1)...].reduce(1, *), outer = data.count / (n * inner)
        var out = [Float](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                for k in 1..<max(n, 1) where data.values[(o * n + k) * inner + i] > data.values[(o * n + best) * inner + i] { best = k }
                out[o * inner + i] = Float(best)
            }
        }
        var shape = data.shape
        if keepDims { shape[axis] = 1 } else { shape.remove(at: axis) }
        return TensorData(shape: shape, values: out)
    }
}
