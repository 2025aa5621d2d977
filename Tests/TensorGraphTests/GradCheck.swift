import Testing
import TensorGraph

/// Central finite differences against the lazy gradient graph.
///
/// The checked function is reduced to a scalar with fixed random weights (so every output
/// position matters). Tolerance, for float32: central differences with step h have truncation
/// error O(h²) and rounding error about ε·|L|/h (ε = 6e-8). With h = 1e-2 and |L| ≲ 100 both
/// are ≲ 1e-3 of a gradient of order 1, so we demand max|analytic − numeric| ≤ 1e-2·max(1, max|numeric|).
struct GradCheck {
    static let h: Float = 1e-2
    static let tolerance: Float = 1e-2

    /// Returns the worst error relative to the gradient scale, over every input element.
    static func error(inputs: [TensorData], seed: UInt64 = 7,
                      _ f: ([Tensor]) throws -> Tensor) throws -> Float {
        let params = inputs.map { Tensor.parameter($0) }
        let y = try f(params)
        var rng = RNG(seed: seed)
        let weights = Tensor.constant(TensorData(shape: y.shape, values: rng.normal(y.count)))
        let loss = try (y * weights).sum()
        let grads = try loss.gradients(wrt: params)
        let plan = try Plan([loss.node] + grads.map(\.node))
        try plan.run()
        var worst: Float = 0, scale: Float = 1
        for (i, p) in params.enumerated() {
            let analytic = plan.output(i + 1).values
            let storage = p.node.storage!
            for j in 0..<storage.count {
                let keep = storage.pointer[j]
                storage.pointer[j] = keep + h; try plan.run(); let up = plan.scalar(0)
                storage.pointer[j] = keep - h; try plan.run(); let down = plan.scalar(0)
                storage.pointer[j] = keep
                let numeric = (up - down) / (2 * h)
                worst = max(worst, abs(analytic[j] - numeric))
                scale = max(scale, abs(numeric))
            }
        }
        return worst / scale
    }

    static func random(_ shape: [Int], seed: UInt64, scale: Float = 1, offset: Float = 0) -> TensorData {
        var rng = RNG(seed: seed)
        return TensorData(shape: shape, values: rng.normal(Shape.count(shape)).map { $0 * scale + offset })
    }
}
