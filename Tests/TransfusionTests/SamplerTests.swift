import Foundation
import Testing
import TensorGraph
@testable import Transfusion

/// Samplers checked on data whose ideal denoiser is known in closed form: x₀ ~ N(μ, σ²) per
/// value. On the path x_t = a·x₀ + b·ε, E[x₀ | x_t] = μ + a·σ²·(x_t − a·μ) / (a²σ² + b²) and
/// E[ε | x_t] = b·(x_t − a·μ) / (a²σ² + b²); the ideal prediction of each objective follows.
@Suite struct SamplerTests {
    static let mu: Float = 0.3, sigma: Float = 0.5

    static func idealDenoiser(_ process: DiffusionProcess) -> DiffusionSampler.Denoiser {
        { x, t in
            let (a, b) = process.level(t), (fa, fb) = (Float(a), Float(b))
            let variance = fa * fa * sigma * sigma + fb * fb
            return x.map { xt in
                let centred = xt - fa * mu
                let x0 = mu + fa * sigma * sigma * centred / variance, eps = fb * centred / variance
                switch process.objective {
                case .epsilon: return eps
                case .velocity: return fa * eps - fb * x0
                case .flow: return eps - x0
                }
            }
        }
    }

    static func moments(_ x: [Float]) -> (mean: Double, std: Double) {
        let m = x.reduce(0.0) { $0 + Double($1) } / Double(x.count)
        let v = x.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(x.count)
        return (m, v.squareRoot())
    }

    /// Draws `count` samples and returns their mean and standard deviation.
    static func sample(_ sampler: DiffusionSampler, _ process: DiffusionProcess, count: Int = 20_000) throws -> (mean: Double, std: Double) {
        var rng = RNG(seed: 11)
        var x = rng.normal(count)
        try sampler.run(&x, process: process, clip: false, rng: &rng, denoise: idealDenoiser(process))
        return moments(x)
    }

    @Test(arguments: [
        (DiffusionSampler.ddpm(steps: 1000), DiffusionObjective.epsilon),
        (.ddpm(steps: 1000), .velocity),
        (.ddim(steps: 50, eta: 0), .epsilon),
        (.ddim(steps: 50, eta: 0), .velocity),
        (.euler(steps: 100), .flow),
        (.midpoint(steps: 20), .flow),
    ])
    // Ancestral sampling over few steps shrinks the variance even with the ideal denoiser (its
    // step variance β̃ is the lower bound), so DDPM is checked over all T steps.
    func samplersReachTheDataDistribution(sampler: DiffusionSampler, objective: DiffusionObjective) throws {
        let process = DiffusionProcess(schedule: .cosine(steps: 1000), objective: objective)
        let (mean, std) = try Self.sample(sampler, process)
        // 20,000 draws: the mean's standard error is 0.0035; discretisation adds a little.
        #expect(abs(mean - Double(Self.mu)) < 0.02, "\(sampler) \(objective): mean \(mean)")
        #expect(abs(std - Double(Self.sigma)) < 0.02, "\(sampler) \(objective): std \(std)")
    }

    /// DDPM over all T steps is Ho et al.'s ancestral step, written out from the paper:
    /// x_{t−1} = (x_t − β_t/√(1−ᾱ_t)·ε̂)/√α_t + √β̃_t·z, β̃_t = β_t(1−ᾱ_{t−1})/(1−ᾱ_t).
    @Test func ddpmStepIsHoEtAlsUpdate() throws {
        let process = DiffusionProcess(schedule: .linear(steps: 1000), objective: .epsilon)
        for t in [1000, 500, 17, 2] {
            let a = process.level(Double(t)).signal * process.level(Double(t)).signal
            let ap = process.level(Double(t - 1)).signal * process.level(Double(t - 1)).signal
            let alpha = a / ap, beta = 1 - alpha
            let x: [Float] = [0.7, -1.2, 0.05], eps: [Float] = [0.1, -0.4, 0.9]
            var rng = RNG(seed: 5), mine = x
            try DiffusionSampler.ddpm(steps: 1000).ancestral(&mine, Double(t), Double(t - 1), eta: 1, process, false, &rng) { _, _ in eps }
            var again = RNG(seed: 5)
            let z = again.normal(3)
            for j in 0..<3 {
                let mean = (Double(x[j]) - beta / (1 - a).squareRoot() * Double(eps[j])) / alpha.squareRoot()
                let expected = mean + (beta * (1 - ap) / (1 - a)).squareRoot() * Double(z[j])
                #expect(abs(Double(mine[j]) - expected) < 1e-4, "t=\(t) j=\(j): \(mine[j]) vs \(expected)")
            }
        }
    }

    /// DDIM with η = 0 is deterministic: the same noise gives the same sample whatever the RNG.
    @Test func ddimWithoutNoiseIsDeterministic() throws {
        let process = DiffusionProcess(schedule: .cosine(steps: 1000), objective: .epsilon)
        var a: [Float] = [0.5, -0.5, 1.5], b = a
        var r1 = RNG(seed: 1), r2 = RNG(seed: 99)
        try DiffusionSampler.ddim(steps: 10, eta: 0).run(&a, process: process, rng: &r1, denoise: Self.idealDenoiser(process))
        try DiffusionSampler.ddim(steps: 10, eta: 0).run(&b, process: process, rng: &r2, denoise: Self.idealDenoiser(process))
        #expect(a == b)
    }

    @Test func samplersRefuseTheWrongKindOfModel() {
        let flow = DiffusionProcess(schedule: .cosine(steps: 1000), objective: .flow)
        let eps = DiffusionProcess(schedule: .cosine(steps: 1000), objective: .epsilon)
        #expect(throws: TensorGraphError.self) { try DiffusionSampler.ddpm(steps: 10).validate(for: flow) }
        #expect(throws: TensorGraphError.self) { try DiffusionSampler.midpoint(steps: 10).validate(for: eps) }
        #expect(throws: TensorGraphError.self) { try DiffusionSampler.ddim(steps: 2000, eta: 0).validate(for: eps) }
    }

    @Test func objectivesDecodeWhatTheyTrainOn() {
        for objective in DiffusionObjective.allCases {
            let process = DiffusionProcess(schedule: .cosine(steps: 1000), objective: objective)
            for t in [1.0, 250, 999] {
                let (s, n) = process.level(t)
                let pair = process.training(0.4, -1.1, signal: Float(s), noise: Float(n))
                let back = process.decode(pair.xt, pair.target, signal: Float(s), noise: Float(n))
                #expect(abs(back.x0 - 0.4) < 1e-3 && abs(back.eps + 1.1) < 1e-3, "\(objective) t=\(t): \(back)")
            }
        }
    }

    @Test func topKAndTopPKeepOnlyTheLikelyTokens() {
        let logits: [Float] = [0, 5, 4.9, -3, 1]
        var rng = RNG(seed: 3)
        logits.withUnsafeBufferPointer { l in
            #expect(TokenSampler().pick(l, rng: &rng) == 1)
            #expect(TokenSampler().pick(l, rng: &rng, allowed: { $0 != 1 }) == 2)
            var seen = Set<Int>()
            for _ in 0..<300 { seen.insert(TokenSampler(temperature: 1, topK: 2).pick(l, rng: &rng)) }
            #expect(seen == [1, 2])
            seen = []
            for _ in 0..<300 { seen.insert(TokenSampler(temperature: 1, topP: 0.5).pick(l, rng: &rng)) }
            #expect(seen == [1])
            seen = []
            for _ in 0..<2000 { seen.insert(TokenSampler(temperature: 2).pick(l, rng: &rng)) }
            #expect(seen == [0, 1, 2, 3, 4])
        }
    }
}
