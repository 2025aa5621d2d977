/// What the patch head predicts. Every variant noises the same way, x_t = signal·x₀ + noise·ε;
/// they differ in the path (signal, noise) and in the target.
public enum DiffusionObjective: String, Codable, Sendable, CaseIterable {
    /// DDPM's ε-prediction on the schedule's path (signal √ᾱ, noise √(1−ᾱ)).
    case epsilon = "eps"
    /// v-prediction (Salimans & Ho): v = √ᾱ·ε − √(1−ᾱ)·x₀, same path.
    case velocity = "v"
    /// Flow matching (rectified flow): the straight path x_s = (1−s)·x₀ + s·ε with s = t/T,
    /// target the velocity u = ε − x₀ (data at s = 0, noise at s = 1).
    case flow
}

/// The forward process of one model — its schedule and objective — and the conversions
/// training and sampling need: noising, targets, and reading a prediction back as (x₀, ε).
public struct DiffusionProcess: Sendable {
    public let schedule: NoiseSchedule
    public let objective: DiffusionObjective
    let alphaBars: [Double]

    public init(schedule: NoiseSchedule, objective: DiffusionObjective) {
        self.schedule = schedule; self.objective = objective
        alphaBars = objective == .flow ? [] : schedule.alphaBars
    }

    public var steps: Int { schedule.steps }

    /// (signal, noise) at step t (0 = clean; T = most noise). Flow accepts any real t in [0, T].
    public func level(_ t: Double) -> (signal: Double, noise: Double) {
        if objective == .flow { let s = t / Double(steps); return (1 - s, s) }
        let a = alphaBars[min(max(Int(t.rounded()), 0), steps)]
        return (a.squareRoot(), (1 - a).squareRoot())
    }

    /// x_t and the training target for clean x₀ and noise ε.
    @inline(__always)
    public func training(_ x0: Float, _ eps: Float, signal: Float, noise: Float) -> (xt: Float, target: Float) {
        let xt = signal * x0 + noise * eps
        switch objective {
        case .epsilon: return (xt, eps)
        case .velocity: return (xt, signal * eps - noise * x0)
        case .flow: return (xt, eps - x0)
        }
    }

    /// Reads a prediction at x_t back as the clean estimate x₀ and the noise ε it implies.
    @inline(__always)
    public func decode(_ xt: Float, _ prediction: Float, signal: Float, noise: Float) -> (x0: Float, eps: Float) {
        switch objective {
        case .epsilon: return ((xt - noise * prediction) / max(signal, 1e-6), prediction)
        case .velocity: return (signal * xt - noise * prediction, noise * xt + signal * prediction)
        case .flow: return (xt - noise * prediction, xt + signal * prediction)
        }
    }
}
