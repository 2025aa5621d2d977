import Foundation

/// A learning-rate schedule: the rate at each step. `warmup(100) >> cosine(3e-4)` chains a
/// linear warmup into a cosine decay (to 5% of the peak by default).
public indirect enum LRSchedule: Equatable, Sendable, CustomStringConvertible {
    case constant(Double)
    case warmup(steps: Int)                      // 0 → the next schedule's first rate, linearly
    case cosine(peak: Double, floor: Double = 0.05)   // over the remaining steps of the run
    case linear(peak: Double, floor: Double = 0)
    case then(LRSchedule, LRSchedule)            // warmup >> decay

    public static func >> (a: LRSchedule, b: LRSchedule) -> LRSchedule { .then(a, b) }

    public var description: String {
        switch self {
        case .constant(let r): return "constant(\(r))"
        case .warmup(let n): return "warmup(\(n))"
        case .cosine(let p, let f): return "cosine(\(p)\(f == 0.05 ? "" : ", floor=\(f)"))"
        case .linear(let p, let f): return "linear(\(p)\(f == 0 ? "" : ", floor=\(f)"))"
        case .then(let a, let b): return "\(a) >> \(b)"
        }
    }

    /// The rate at `step` (0-based) of a run of `total` steps.
    public func rate(_ step: Int, total: Int) -> Double {
        switch self {
        case .constant(let r): return r
        case .warmup: return 0
        case .cosine(let peak, let floor):
            let u = min(1, Double(step) / Double(max(total - 1, 1)))
            return peak * (floor + (1 - floor) * 0.5 * (1 + cos(.pi * u)))
        case .linear(let peak, let floor):
            let u = min(1, Double(step) / Double(max(total - 1, 1)))
            return peak * (1 - (1 - floor) * u)
        case .then(.warmup(let n), let next):
            if step < n { return next.rate(0, total: max(total - n, 1)) * Double(step + 1) / Double(n) }
            return next.rate(step - n, total: max(total - n, 1))
        case .then(let a, let b):
            // Any other chain: the first until its own end is unknown — use it for half the run.
            let half = total / 2
            return step < half ? a.rate(step, total: half) : b.rate(step - half, total: total - half)
        }
    }
}
