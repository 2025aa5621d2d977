/// Losses, built from existing primitives (log-softmax, one-hot, comparisons, reductions), so
/// their gradients come from those ops' rules.

extension Tensor {
    /// Mean cross-entropy of `logits` [..., V] against integer-valued `targets` [...] (class
    /// indices stored as floats). Positions whose target equals `ignoreIndex` count neither in
    /// the sum nor in the mean; if every position is ignored the loss is 0. Any other target
    /// outside 0..<V, or not a whole number, fails the run naming the first one (PyTorch raises too).
    public static func crossEntropy(_ logits: Tensor, _ targets: Tensor, ignoreIndex: Int? = nil) throws -> Tensor {
        guard logits.rank >= 1, targets.shape == Array(logits.shape.dropLast()) else {
            throw TensorGraphError("cross_entropy: targets \(Shape.describe(targets.shape)) must have the logits' shape without the class axis (logits \(Shape.describe(logits.shape)))",
                                   span: BuildContext.span)
        }
        let classes = logits.shape.last!
        let chosen = try targets.oneHot(classes, ignoring: ignoreIndex, what: "cross_entropy: target")
        let nll = try -(logits.logSoftmax(axis: -1) * chosen).sum(axes: [-1])
        guard let ignoreIndex else { return try nll.mean() }
        let kept = try targets.compare(.notEqual, .scalar(Float(ignoreIndex)))
        let count = try kept.sum().maximum(.scalar(1))
        return try (nll * kept).sum() / count
    }

    /// Mean squared error between two tensors of the same shape.
    public static func mse(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.shape == b.shape else {
            throw TensorGraphError("mse: shapes differ (\(Shape.describe(a.shape)) and \(Shape.describe(b.shape)))",
                                   span: BuildContext.span)
        }
        return try (a - b).square().mean()
    }
}
