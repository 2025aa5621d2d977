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

/// Every parameter tensor cut into fixed chunks of at most `size` values, listed tensor by
/// tensor: one parallel loop over all chunks covers all tensors (a loop per tensor paid a
/// thread hand-off per tensor, and small tensors ran on one thread). The cut depends only on
/// the tensors' sizes, not on the thread count.
struct ParameterChunks {
    static let size = 1 << 15
    /// (tensor, first value, count) of each chunk.
    let chunks: [(tensor: Int, start: Int, count: Int)]
    /// The index of each tensor's first chunk, and one past the last (`tensors + 1` entries).
    let firsts: [Int]
    let values: Int

    init(counts: [Int]) {
        var chunks: [(tensor: Int, start: Int, count: Int)] = [], firsts = [0]
        for (tensor, count) in counts.enumerated() {
            for start in stride(from: 0, to: count, by: Self.size) { chunks.append((tensor, start, Swift.min(Self.size, count - start))) }
            firsts.append(chunks.count)
        }
        self.chunks = chunks; self.firsts = firsts; values = counts.reduce(0, +)
    }

    /// Calls `body(tensor, start, count)` for every chunk, in parallel.
    @inline(__always)
    func forEach(work perValue: Int, _ body: (Int, Int, Int) -> Void) {
        chunks.withUnsafeBufferPointer { list in
            Parallel.chunks(list.count, work: perValue * values) { range in
                for c in range { body(list[c].tensor, list[c].start, list[c].count) }
            }
        }
    }
}

/// The global L2 norm of all gradients, and the factor that clips it to `maxNorm`. Each
/// gradient is summed in fixed chunks, in parallel; each tensor's chunk sums are added in order,
/// then the tensors' sums in order: the same norm whatever the thread count.
func clipFactor(_ gradients: [UnsafeMutableBufferPointer<Float>], chunks: ParameterChunks, maxNorm: Float?) -> (norm: Float, scale: Float) {
    let total = withUnsafeTemporaryAllocation(of: Double.self, capacity: chunks.chunks.count) { sums in
        chunks.forEach(work: 2) { tensor, start, count in
            sums[chunks.firsts[tensor] + (start / ParameterChunks.size)] = sumOfSquares(gradients[tensor].baseAddress! + start, count)
        }
        var total: Double = 0
        for tensor in gradients.indices where chunks.firsts[tensor] < chunks.firsts[tensor + 1] {
            total += sums[chunks.firsts[tensor]..<chunks.firsts[tensor + 1]].reduce(0, +)
        }
        return total
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
    let chunks: ParameterChunks
    public init(_ parameters: [Storage], clip: Float? = nil) {
        self.parameters = parameters; self.clip = clip; chunks = ParameterChunks(counts: parameters.map(\.count))
    }

    @discardableResult
    public func step(_ gradients: [UnsafeMutableBufferPointer<Float>], lr: Float) -> Float {
        let (norm, scale) = clipFactor(gradients, chunks: chunks, maxNorm: clip)
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
///
/// A step is two passes over memory, each one parallel loop over fixed chunks of all tensors:
/// the gradient norm (reads the gradients, 4 bytes a parameter), then the update (reads
/// weights, gradients and both moments, writes weights and moments: 28 bytes a parameter).
public final class AdamW: Optimizer {
    public let parameters: [Storage]
    public var beta1: Float, beta2: Float, eps: Float, weightDecay: Float, clip: Float?
    /// First and second moments, one storage per parameter (saved in checkpoints).
    public let m: [Storage], v: [Storage]
    public private(set) var steps = 0
    let chunks: ParameterChunks
    /// Bytes a step reads and writes (the norm pass and the update pass).
    public var bytesPerStep: Int { 32 * chunks.values }

    public init(_ parameters: [Storage], beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8,
                weightDecay: Float = 0.1, clip: Float? = 1.0) {
        self.parameters = parameters
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay; self.clip = clip
        m = parameters.map { Storage(shape: $0.shape) }
        v = parameters.map { Storage(shape: $0.shape) }
        chunks = ParameterChunks(counts: parameters.map(\.count))
    }

    /// Restores the step count (with `m` and `v` loaded from a checkpoint).
    public func restore(steps: Int) { self.steps = steps }

    @discardableResult
    public func step(_ gradients: [UnsafeMutableBufferPointer<Float>], lr: Float) -> Float {
        let (norm, scale) = clipFactor(gradients, chunks: chunks, maxNorm: clip)
        // A NaN or infinite gradient would poison the weights and both moments for good: such a
        // step changes nothing (not even the step count) and reports its norm to the caller.
        guard norm.isFinite else { return norm }
        steps += 1
        let c1 = 1 - Foundation.pow(beta1, Float(steps)), c2 = 1 - Foundation.pow(beta2, Float(steps))
        let plain = Moments(b1: beta1, b2: beta2, stepSize: lr / c1, rootC2: 1 / c2.squareRoot(), eps: eps, decay: 1, scale: scale)
        let decayed = Moments(b1: beta1, b2: beta2, stepSize: lr / c1, rootC2: 1 / c2.squareRoot(), eps: eps,
                              decay: 1 - lr * weightDecay, scale: scale)
        let (parameters, m, v) = (parameters, self.m, self.v)
        chunks.forEach(work: 16) { j, start, count in
            let w = parameters[j].pointer + start, g = gradients[j].baseAddress! + start
            let mj = m[j].pointer + start, vj = v[j].pointer + start
            let moments = parameters[j].shape.count >= 2 ? decayed : plain
            var i = 0
            while i + 8 <= count {
                moments.update(w + i, g + i, mj + i, vj + i)
                i += 8
            }
            if i < count { moments.updateTail(w + i, g + i, mj + i, vj + i, count - i) }
        }
        return norm
    }

    /// The AdamW update of eight weights at once, in PyTorch's form: w·decay − stepSize · m /
    /// (√v · rootC2 + ε), with stepSize = lr / (1 − β₁ᵗ) and rootC2 = 1 / √(1 − β₂ᵗ) (one
    /// division and one square root a value).
    struct Moments {
        let b1: Float, b2: Float, stepSize: Float, rootC2: Float, eps: Float, decay: Float, scale: Float
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
            store(load(w) * decay - stepSize * mi / (VectorMath.squareRoot(vi) * rootC2 + eps), w)
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
