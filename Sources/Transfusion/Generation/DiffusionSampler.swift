import TensorGraph

/// How an image is denoised, from pure noise at step T to a clean sample.
///
/// - `ddpm(k)`: ancestral sampling over k evenly spaced steps of the T trained ones (k = T is
///   Ho et al.'s sampler exactly); it is DDIM with η = 1.
/// - `ddim(k, eta)`: Song et al.'s update over k steps; η = 0 is deterministic.
/// - `euler(k)`, `midpoint(k)`: first- and second-order integration of the flow ODE (for
///   flow-matching models; Euler is DDIM η = 0 on the straight path).
public enum DiffusionSampler: Equatable, Sendable, CustomStringConvertible {
    case ddpm(steps: Int)
    case ddim(steps: Int, eta: Double)
    case euler(steps: Int)
    case midpoint(steps: Int)

    public var steps: Int {
        switch self { case .ddpm(let k), .ddim(let k, _), .euler(let k), .midpoint(let k): return k }
    }

    public var description: String {
        switch self {
        case .ddpm(let k): return "ddpm(\(k))"
        case .ddim(let k, let eta): return "ddim(\(k), eta=\(eta))"
        case .euler(let k): return "euler(\(k))"
        case .midpoint(let k): return "midpoint(\(k))"
        }
    }

    /// The model: its prediction (in the objective's units) for every value of x at step t.
    public typealias Denoiser = (_ x: [Float], _ t: Double) throws -> [Float]

    /// Checks that the sampler fits the process (ancestral steps need the variance-preserving path).
    public func validate(for process: DiffusionProcess) throws {
        guard steps >= 1, steps <= process.steps else {
            throw TensorGraphError("\(self) needs between 1 and \(process.steps) steps (the trained T)")
        }
        if process.objective == .flow, case .ddpm = self {
            throw TensorGraphError("ddpm sampling needs a model trained with eps or v prediction; this one is flow matching (use euler or midpoint)")
        }
        if process.objective == .flow, case .ddim(_, let eta) = self, eta != 0 {
            throw TensorGraphError("ddim with eta > 0 needs a model trained with eps or v prediction; this one is flow matching")
        }
        if process.objective != .flow, case .midpoint = self {
            throw TensorGraphError("midpoint integrates a flow-matching model; this one predicts \(process.objective.rawValue) (use ddpm or ddim)")
        }
    }

    /// The timesteps visited, from T down, ending at 0 (clean): k + 1 values, evenly spaced.
    public func timesteps(_ T: Int) -> [Int] {
        (0...steps).map { i in (T * (steps - i) + steps / 2) / steps }
    }

    /// Denoises `x` (pure noise on entry) in place. `clip` keeps x₀ estimates in [-1, 1], the
    /// range of pixels; latents are not clipped.
    public func run(_ x: inout [Float], process: DiffusionProcess, clip: Bool = true,
                    rng: inout RNG, denoise: Denoiser) throws {
        try validate(for: process)
        let ts = timesteps(process.steps)
        for i in 0..<steps {
            let (t, next) = (Double(ts[i]), Double(ts[i + 1]))
            switch self {
            case .ddpm: try ancestral(&x, t, next, eta: 1, process, clip, &rng, denoise)
            case .ddim(_, let eta): try ancestral(&x, t, next, eta: eta, process, clip, &rng, denoise)
            case .euler: try ancestral(&x, t, next, eta: 0, process, clip, &rng, denoise)
            case .midpoint: try midpoint(&x, t, next, process, denoise)
            }
        }
    }

    /// One DDIM step from t to `next`: x' = signal'·x₀ + √(noise'² − σ²)·ε + σ·z, with
    /// σ = η·√((1−ᾱ')/(1−ᾱ))·√(1 − ᾱ/ᾱ'). With η = 1 this is DDPM's posterior step.
    func ancestral(_ x: inout [Float], _ t: Double, _ next: Double, eta: Double, _ process: DiffusionProcess,
                   _ clip: Bool, _ rng: inout RNG, _ denoise: Denoiser) throws {
        let prediction = try denoise(x, t)
        let (s, n) = process.level(t), (s2, n2) = process.level(next)
        let (a, a2) = (s * s, s2 * s2)
        let sigma = eta == 0 ? 0 : eta * ((1 - a2) / (1 - a)).squareRoot() * max(0, 1 - a / a2).squareRoot()
        let keep = Float(max(0, n2 * n2 - sigma * sigma).squareRoot())
        let z = sigma > 0 ? rng.normal(x.count) : []
        for j in x.indices {
            var (x0, eps) = process.decode(x[j], prediction[j], signal: Float(s), noise: Float(n))
            if clip, x0 < -1 || x0 > 1 {
                x0 = min(1, max(-1, x0))
                if n > 0 { eps = (x[j] - Float(s) * x0) / Float(n) }
            }
            x[j] = Float(s2) * x0 + keep * eps + (sigma > 0 ? Float(sigma) * z[j] : 0)
        }
    }

    /// One midpoint (RK2) step of the flow ODE dx/ds = u(x, s).
    func midpoint(_ x: inout [Float], _ t: Double, _ next: Double, _ process: DiffusionProcess,
                  _ denoise: Denoiser) throws {
        let ds = Float((next - t) / Double(process.steps))
        let u1 = try denoise(x, t)
        let half = zip(x, u1).map { $0 + ds / 2 * $1 }
        let u2 = try denoise(half, (t + next) / 2)
        for j in x.indices { x[j] += ds * u2[j] }
    }
}
