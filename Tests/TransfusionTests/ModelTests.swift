import Foundation
import Testing
import TensorGraph
@testable import Transfusion

@Suite struct ModelTests {
    /// Two rows: a caption then an image, and an image then a caption.
    /// Images have the config's patch count when its patches cut its images, 4 otherwise.
    static func batch(_ config: ModelConfig, length: Int) throws -> ([PackedSequence], [[[Float]]]) {
        let k = config.patchesPerImage ?? 4
        let rows = try Packer(length: length).pack([[.text("red"), .image(patches: k)]]) +
                   Packer(length: length).pack([[.image(patches: k), .text("blue")]])
        var rng = RNG(seed: 4)
        let images = rows.map { _ in [rng.normal(k * config.patchSize).map { $0 * 0.5 }] }
        return (rows, images)
    }

    @Test func noiseSchedulesFollowTheirDefinitions() {
        let cosine = NoiseSchedule.cosine(steps: 1000), linear = NoiseSchedule.linear(steps: 1000)
        #expect(cosine.alphaBar(0) == 1 && linear.alphaBar(0) == 1)
        // Cosine: ᾱ(T/2) = cos²((0.5 + s)/(1 + s)·π/2) / cos²(s/(1 + s)·π/2).
        let s = 0.008, f = { (u: Double) in pow(cos((u + s) / (1 + s) * .pi / 2), 2) }
        #expect(abs(cosine.alphaBar(500) - f(0.5) / f(0)) < 1e-12)
        #expect(cosine.alphaBar(1000) < 1e-4 && linear.alphaBar(1000) < 1e-4)
        // Linear: ᾱ(2) = (1 − β₁)(1 − β₂).
        let b2 = 1e-4 + (0.02 - 1e-4) / 999
        #expect(abs(linear.alphaBar(2) - (1 - 1e-4) * (1 - b2)) < 1e-12)
        for t in stride(from: 1, through: 900, by: 37) { #expect(cosine.alphaBar(t) < cosine.alphaBar(t - 1)) }
    }

    @Test func wholeModelGradientMatchesFiniteDifferences() throws {
        let config = ModelConfig(dim: 8, layers: 1, heads: 2, patchSize: 2, timeFeatures: 4)
        let model = TransfusionModel(config, seed: 1)
        let (rows, images) = try Self.batch(config, length: 14)
        let x = try BatchInputs(batch: 2, length: 14, config: config)
        var rng = RNG(seed: 2)
        let feeds = try BatchFeeder(model: model).values(rows, images: images, inputs: x, rng: &rng)
        // Small initial weights (embeddings at std 0.02, then RMSNorm) make the loss far from
        // linear over a step h = 1e-2; scaled up, the check measures the gradient, not curvature.
        for name in ["embed.tokens", "embed.time2"] {
            let s = model.parameters[name].node.storage!
            for j in 0..<s.count { s.pointer[j] *= 30 }
        }
        let loss = try model.losses(x).total
        let params = model.parameters.all.filter { $0.node.name != "embed.tokens" }  // checked below, sparsely
        let grads = try loss.gradients(wrt: params + [model.parameters["embed.tokens"]])
        let plan = try Plan([loss.node] + grads.map(\.node))
        _ = try plan.run(feeds)
        let analytic = (0..<grads.count).map { plan.output($0 + 1).values }
        var worst: Float = 0, scale: Float = 1
        let h: Float = 3e-3
        for (i, p) in (params + [model.parameters["embed.tokens"]]).enumerated() {
            let s = p.node.storage!
            // Embedding rows that appear in the batch (the rest have zero gradient).
            let indices = p.node.name == "embed.tokens" ? Array(Set(rows.flatMap(\.tokens))).flatMap { r in (0..<8).map { r * 8 + $0 } } : Array(0..<s.count)
            for j in indices {
                let keep = s.pointer[j]
                s.pointer[j] = keep + h; try plan.run(); let up = plan.scalar(0)
                s.pointer[j] = keep - h; try plan.run(); let down = plan.scalar(0)
                s.pointer[j] = keep
                let numeric = (up - down) / (2 * h)
                worst = max(worst, abs(numeric - analytic[i][j])); scale = max(scale, abs(numeric))
            }
        }
        #expect(worst / scale < 1e-2)
    }

    @Test func aTinyModelOverfitsATinyBatch() throws {
        let config = ModelConfig(dim: 32, layers: 2, heads: 2, patchSize: 4, timeFeatures: 8)
        let (lm, diffusion) = try Self.overfit(TransfusionModel(config, seed: 3))
        #expect(lm.after < lm.before / 10, "LM loss \(lm.before) → \(lm.after)")
        #expect(diffusion.after < diffusion.before / 3, "diffusion loss \(diffusion.before) → \(diffusion.after)")
    }

    /// Both losses before and after 150 AdamW steps on one fixed batch of two rows (the same
    /// noise and timesteps every step, so the batch can be memorised).
    static func overfit(_ model: TransfusionModel) throws -> (lm: (before: Float, after: Float), diffusion: (before: Float, after: Float)) {
        let (rows, images) = try batch(model.config, length: 16)
        let x = try BatchInputs(batch: 2, length: 16, config: model.config)
        let losses = try model.losses(x)
        let params = model.parameters.all
        let plan = try Plan([losses.total.node, losses.lm.node, losses.diffusion.node] + (try losses.total.gradients(wrt: params)).map(\.node))
        let optimizer = AdamW(params.map { $0.node.storage! }, weightDecay: 0)
        let grads = (0..<params.count).map { plan.outputBuffer($0 + 3) }
        var rng = RNG(seed: 5)
        for (node, value) in try BatchFeeder(model: model).values(rows, images: images, inputs: x, rng: &rng) where plan.buffer(node) != nil { try plan.set(node, value) }
        try plan.run()
        let (lm0, diff0) = (plan.scalar(1), plan.scalar(2))
        for _ in 0..<150 { try plan.run(); optimizer.step(grads, lr: 3e-3) }
        try plan.run()
        return ((lm0, plan.scalar(1)), (diff0, plan.scalar(2)))
    }
}
