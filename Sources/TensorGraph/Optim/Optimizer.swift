import Foundation

/// Updates parameters in place from gradients a plan computed. Updates are plain loops over
/// the parameters' storage and the plan's gradient buffers: nothing is allocated per step.
public protocol Optimizer: AnyObject {
    var parameters: [Storage] { get }
    /// One update; `gradients[i]` belongs to `parameters[i]`. Returns the gradient norm
    /// before clipping.
    @discardableResult
    func step(_ gradients: [UnsafeMutableBufferPointer<Float>], lr: Float) -> Float
}

/// The global L2 norm of all gradients, and the factor that clips it to `maxNorm`. Each
/// gradient is summed in fixed chunks, in parallel, and the chunks' sums added in order: the
/// same norm whatever the thread count.
func clipFactor(_ gradients: [UnsafeMutableBufferPointer<Float>], maxNorm: Float?) -> (norm: Float, scale: Float) {
    let chunk = 1 << 15
    var total: Double = 0
    for g in gradients where g.count > 0 {
        let pieces = (g.count + chunk - 1) / chunk
        total += withUnsafeTemporaryAllocation(of: Double.self, capacity: pieces) { sums in
            Parallel.chunks(pieces, work: 2 * g.count) { range in
                for p in range { sums[p] = sumOfSquares(g.baseAddress! + p * chunk, min(chunk, g.count - p * chunk)) }
            }
            return sums.reduce(0, +)
        }
    }
    let norm = Float(total.squareRoot())
    guard let maxNorm, norm > maxNorm, norm.isFinite else { return (norm, 1) }
    return (norm, maxNorm / norm)
}

/// Σ x², eight lanes at a time, each lane accumulated in Double.
@inline(__always)
func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
    var lanes = SIMD8<Double>()
    var i = 0
    while i + 8 <= n {
        let v = SIMD8<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
        lanes += v * v
        i += 8
    }
    var total = lanes.sum()
    while i < n { total += Double(x[i]) * Double(x[i]); i += 1 }
    return total
}

public final class SGD: Optimizer {
    public let parameters: [Storage]
    public var clip: Float?
    public init(_ parameters: [Storage], clip: Float? = nil) { self.parameters = parameters; self.clip = clip }

    @discardableResult
    public func step(_ gradients: [UnsafeMutableBufferPointer<Float>], lr: Float) -> Float {
        let (norm, scale) = clipFactor(gradients, maxNorm: clip)
        for (p, g) in zip(parameters, gradients) {
            let w = p.pointer, rate = lr * scale
            for i in 0..<p.count { w[i] -= rate * g[i] }
        }
        return norm
    }
}

/// AdamW (Loshchilov & Hutter): Adam moments with bias correction, and weight decay applied
/// to the weights directly. Defaults follow the Transfusion recipe: β = (0.9, 0.95), ε = 1e-8,
/// decay 0.1, clip 1.0. Parameters of rank < 2 (norm gains, biases) are not decayed.
public final class AdamW: Optimizer {
    public let parameters: [Storage]
    public var beta1: Float, beta2: Float, eps: Float, weightDecay: Float, clip: Float?
    /// First and second moments, one storage per parameter (saved in checkpoints).
    public let m: [Storage], v: [Storage]
    public private(set) var steps = 0

    public init(_ parameters: [Storage], beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8,
                weightDecay: Float = 0.1, clip: Float? = 1.0) {
        self.parameters = parameters
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay; self.clip = clip
        m = parameters.map { Storage(shape: $0.shape) }
        v = parameters.map { Storage(shape: $0.shape) }
    }

    /// Restores the step count (with `m` and `v` loaded from a checkpoint).
    public func restore(steps: Int) { self.steps = steps }

    @discardableResult
    public func step(_ gradients: [UnsafeMutableBufferPointer<Float>], lr: Float) -> Float {
        let (norm, scale) = clipFactor(gradients, maxNorm: clip)
        steps += 1
        let c1 = 1 - Foundation.pow(beta1, Float(steps)), c2 = 1 - Foundation.pow(beta2, Float(steps))
        let (b1, b2, eps) = (beta1, beta2, self.eps)
        for (j, p) in parameters.enumerated() {
            let w = p.pointer, g = gradients[j], m = self.m[j].pointer, v = self.v[j].pointer
            let decay = p.shape.count >= 2 ? 1 - lr * weightDecay : 1
            Parallel.chunks(p.count, work: p.count * 16) { range in
                for i in range {
                    let gi = g[i] * scale
                    m[i] = b1 * m[i] + (1 - b1) * gi
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi
                    w[i] = w[i] * decay - lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
                }
            }
        }
        return norm
    }
}
