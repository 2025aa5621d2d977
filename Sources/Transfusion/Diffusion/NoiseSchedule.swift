import Foundation

/// DDPM noise schedules over T steps, as ᾱ(t): the share of signal left at step t
/// (x_t = √ᾱ·x₀ + √(1−ᾱ)·ε, t = 1…T).
public enum NoiseSchedule: Equatable, Sendable, Codable, CustomStringConvertible {
    /// Nichol & Dhariwal's cosine schedule: ᾱ(t) = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s)·π/2).
    case cosine(steps: Int, offset: Double = 0.008)
    /// Ho et al.'s linear β from 1e-4 to 0.02 (scaled to T steps).
    case linear(steps: Int)
    /// ᾱ(t) for t = 1…T as given (a script function's values, computed once), non-increasing in
    /// (0, 1]; `name` is the function's, for printing.
    case table(name: String, alphaBars: [Double])

    public var steps: Int {
        switch self {
        case .cosine(let n, _), .linear(let n): return n
        case .table(_, let values): return values.count
        }
    }

    public var description: String {
        switch self {
        case .cosine(let n, _): return "cosine(\(n))"
        case .linear(let n): return "linear(\(n))"
        case .table(let name, let values): return "\(name)(\(values.count))"
        }
    }

    /// Why a table cannot be a schedule (nil when it can): its values must be finite,
    /// non-increasing and in (0, 1].
    public var problem: String? {
        guard case .table(_, let values) = self else { return nil }
        if let i = values.firstIndex(where: { !($0.isFinite && $0 > 0 && $0 <= 1) }) {
            return "ᾱ at step \(i + 1) is \(values[i]); every value must be in (0, 1]"
        }
        if let i = values.indices.dropFirst().first(where: { values[$0] > values[$0 - 1] }) {
            return "ᾱ rises at step \(i + 1) (\(values[i - 1]) → \(values[i])); the signal left must not grow with t"
        }
        return nil
    }

    /// ᾱ(t) for t in 0…T (ᾱ(0) = 1), clipped so that every step keeps a little noise and signal.
    public func alphaBar(_ t: Int) -> Double {
        switch self {
        case .cosine(let n, let s):
            func f(_ u: Double) -> Double { let c = cos((u / Double(n) + s) / (1 + s) * .pi / 2); return c * c }
            return min(max(f(Double(t)) / f(0), 1e-5), 1)
        case .linear:
            return (0..<t).reduce(1.0) { $0 * (1 - linearBeta($1 + 1)) }
        case .table(_, let values):
            return t <= 0 ? 1 : min(max(values[min(t, values.count) - 1], 1e-5), 1)
        }
    }

    /// β of step i (1…T) of the linear schedule: 1e-4 to 0.02, scaled to T steps.
    private func linearBeta(_ i: Int) -> Double {
        let n = Double(steps)
        return min(1000 / n * (1e-4 + (0.02 - 1e-4) * Double(i - 1) / max(n - 1, 1)), 0.999)
    }

    /// x_t for a clean value and its noise.
    public func noisy(_ x0: Float, _ eps: Float, t: Int) -> Float {
        let a = alphaBar(t)
        return Float(a.squareRoot()) * x0 + Float((1 - a).squareRoot()) * eps
    }

    /// ᾱ(t) for every t in 0…T, computed once (the linear schedule's product is O(t) per call).
    public var alphaBars: [Double] {
        switch self {
        case .cosine, .table: return (0...steps).map(alphaBar)
        case .linear:
            var out = [1.0]
            for i in stride(from: 1, through: steps, by: 1) { out.append(out[i - 1] * (1 - linearBeta(i))) }
            return out
        }
    }
}

/// Sinusoidal features of a timestep (as in the Transformer and DDPM): `dim` values.
public func timestepFeatures(_ t: Int, dim: Int, maxPeriod: Double = 10_000) -> [Float] {
    timestepFeatures(Double(t), dim: dim, maxPeriod: maxPeriod)
}

public func timestepFeatures(_ t: Double, dim: Int, maxPeriod: Double = 10_000) -> [Float] {
    let half = dim / 2
    var out = [Float](repeating: 0, count: dim)
    for i in 0..<half {
        let freq = exp(-log(maxPeriod) * Double(i) / Double(max(half, 1)))
        out[i] = Float(cos(t * freq)); out[half + i] = Float(sin(t * freq))
    }
    return out
}
