import Foundation

/// Updates parameters in place from gradients a plan computed. Updates are plain loops over
/// the parameters' storage and the plan's gradient buffers: nothing is allocated per step.
public protocol Optimizer: AnyObject {
    var parameters: [Storage] { get }
    /// One update; `gradients[i]` belongs to `parameters[i]`. Returns the gradient norm
    /// before clipping. AdamW applies nothing when that norm is not finite.
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
        // A NaN or infinite gradient would poison the weights and both moments for good: such a
        // step changes nothing (not even the step count) and reports its norm to the caller.
        guard norm.isFinite else { return norm }
        steps += 1
        let c1 = 1 - Foundation.pow(beta1, Float(steps)), c2 = 1 - Foundation.pow(beta2, Float(steps))
        let (b1, b2, eps) = (beta1, beta2, self.eps)
        for (j, p) in parameters.enumerated() {
            let w = p.pointer, g = gradients[j], m = self.m[j].pointer, v = self.v[j].pointer
            let decay = p.shape.count >= 2 ? 1 - lr * weightDecay : 1
            let moments = Moments(b1: b1, b2: b2, c1: c1, c2: c2, eps: eps, lr: lr, decay: decay, scale: scale)
            Parallel.chunks(p.count, work: p.count * 16) { range in
                var i = range.lowerBound
                while i + 8 <= range.upperBound {
                    moments.update(w + i, g.baseAddress! + i, m + i, v + i)
                    i += 8
                }
                if i < range.upperBound { moments.updateTail(w + i, g.baseAddress! + i, m + i, v + i, range.upperBound - i) }
            }
        }
        return norm
    }

    /// The AdamW update of eight weights at once.
    struct Moments {
        let b1: Float, b2: Float, c1: Float, c2: Float, eps: Float, lr: Float, decay: Float, scale: Float
        typealias V = SIMD8<Float>

        @inline(__always)
        func update(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                    _ v: UnsafeMutablePointer<Float>) {
            func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
            func store(_ x: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: x, as: V.self) }
            let gi = load(g) * scale
            let mi = b1 * load(m) + (1 - b1) * gi
            let vi = b2 * load(v) + (1 - b2) * gi * gi
            store(mi, m); store(vi, v)
            store(load(w) * decay - lr * (mi / c1) / ((vi / c2).squareRoot() + eps), w)
        }

        /// The last n < 8 weights, through zero-padded lanes: the same operations as `update`.
        func updateTail(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                        _ v: UnsafeMutablePointer<Float>, _ n: Int) {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { lanes in
                let t = lanes.baseAddress!
                t.update(repeating: 0, count: 32)
                t.update(from: w, count: n); (t + 8).update(from: g, count: n)
                (t + 16).update(from: m, count: n); (t + 24).update(from: v, count: n)
                update(t, t + 8, t + 16, t + 24)
                w.update(from: t, count: n); m.update(from: t + 16, count: n); v.update(from: t + 24, count: n)
            }
        }
    }
}
