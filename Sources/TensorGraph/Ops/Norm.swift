/// Normalizations. LayerNorm and GroupNorm are built from existing primitives (mean, rsqrt,
/// broadcasting arithmetic): their gradients come from those ops' rules and the planner fuses
/// the elementwise parts. RMSNorm, in every block of the transformer twice, is one op
/// (RMSNorm.swift): one pass forward, one for each gradient.

extension Tensor {
    /// RMSNorm over the last axis: x / √(mean(x²) + eps) · weight (weight [D], optional).
    public func rmsNorm(weight: Tensor?, eps: Float = 1e-6) throws -> Tensor {
        try checkAffine("rms_norm", weight, nil, size: shape.last)
        return try .make(RMSNorm(eps: eps), [self, weight ?? .full([shape.last!], 1)])
    }

    /// RMSNorm from primitives: the reference the op is tested against, and the formula its
    /// gradients are differentiated through (for gradients of gradients).
    func rmsNormComposed(weight: Tensor, eps: Float) throws -> Tensor {
        let inv = try (square().mean(axes: [-1], keepDims: true) + eps).rsqrt()
        return try self * inv * weight
    }

    /// LayerNorm over the last axis: (x − mean) / √(var + eps) · weight + bias (each [D], optional).
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) throws -> Tensor {
        try checkAffine("layer_norm", weight, bias, size: shape.last)
        var y = try normalized(axis: -1, eps: eps)
        if let weight { y = try y * weight }
        if let bias { y = try y + bias }
        return y
    }

    /// GroupNorm on [N, C, ...]: channels split into `groups` groups, each normalized over its
    /// channels and all spatial positions; then weight and bias per channel ([C], optional).
    public func groupNorm(groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) throws -> Tensor {
        guard rank >= 2 else {
            throw TensorGraphError("group_norm: expects [N, C, ...], got \(Shape.describe(shape))", span: BuildContext.span)
        }
        let c = shape[1]
        guard groups >= 1, c % groups == 0 else {
            throw TensorGraphError("group_norm: \(c) channels cannot be split into \(groups) groups", span: BuildContext.span)
        }
        try checkAffine("group_norm", weight, bias, size: c)
        var y = try reshape([shape[0], groups, -1]).normalized(axis: -1, eps: eps).reshape(shape)
        let perChannel = [c] + [Int](repeating: 1, count: rank - 2)
        if let weight { y = try y * weight.reshape(perChannel) }
        if let bias { y = try y + bias.reshape(perChannel) }
        return y
    }

    /// (x − mean) / √(var + eps) along one axis (biased variance, as in PyTorch).
    func normalized(axis: Int, eps: Float) throws -> Tensor {
        let centered = try self - mean(axes: [axis], keepDims: true)
        let inv = try (centered.square().mean(axes: [axis], keepDims: true) + eps).rsqrt()
        return try centered * inv
    }

    func checkAffine(_ op: String, _ weight: Tensor?, _ bias: Tensor?, size: Int?) throws {
        guard let size else {
            throw TensorGraphError("\(op): expects at least one axis, got a scalar", span: BuildContext.span)
        }
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let t, t.shape != [size] {
                throw TensorGraphError("\(op): the \(name) must have shape [\(size)], got \(Shape.describe(t.shape)) (input \(Shape.describe(shape)))",
                                       span: BuildContext.span)
            }
        }
    }
}
