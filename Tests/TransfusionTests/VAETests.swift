import Foundation
import Testing
import TensorGraph
@testable import Transfusion

@Suite struct VAETests {
    /// Encoder means/log-variances and decoder outputs have the shapes the factor gives.
    @Test(arguments: [2, 4, 8]) func encoderAndDecoderShapes(factor: Int) throws {
        let vae = VAE(VAEConfig(channels: 4, factor: factor, width: 4), seed: 1)
        let (mean, logVariance) = try vae.encoder(.input("x", [2, 3, 8, 8]))
        #expect(mean.shape == [2, 4, 8 / factor, 8 / factor])
        #expect(logVariance.shape == mean.shape)
        #expect(try vae.decoder(mean).shape == [2, 3, 8, 8])
        var rng = RNG(seed: 3)
        let images = TensorData(shape: [2, 8, 8, 3], values: rng.uniform(2 * 8 * 8 * 3, low: -1, high: 1))
        let encoded = try vae.encode(images)
        #expect(encoded.mean.shape == [2, 8 / factor, 8 / factor, 4])
        #expect(try vae.decode(encoded.mean).shape == [2, 8, 8, 3])
        #expect(vae.parameters.names.allSatisfy { $0.hasPrefix("vae.encoder.") || $0.hasPrefix("vae.decoder.") })
        #expect(throws: TensorGraphError.self) { try vae.encode(TensorData(shape: [1, 7, 7, 3], repeating: 0)) }
    }

    /// KL = mean of ½(μ² + σ² − 1 − log σ²), checked on hand-set values.
    @Test func klMatchesItsClosedForm() throws {
        let mu: [Float] = [0, 1, -2, 0.5], logVar: [Float] = [0, 0, log(4), -1]
        let kl = try VAE.kl(mean: .constant(TensorData(shape: [4], values: mu)),
                            logVariance: .constant(TensorData(shape: [4], values: logVar))).realize().scalar
        // Per value: 0, ½, ½(4 + 4 − 1 − ln 4), ½(¼ + e⁻¹ − 1 + 1).
        let expected = (0 + 0.5 + 0.5 * (7 - log(4.0)) + 0.5 * (0.25 + exp(-1.0))) / 4
        #expect(abs(Double(kl) - expected) < 1e-6, "kl \(kl), expected \(expected)")
        #expect(try VAE.kl(mean: .constant(TensorData(shape: [3], repeating: 0)),
                           logVariance: .constant(TensorData(shape: [3], repeating: 0))).realize().scalar == 0)
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let vae = VAE(VAEConfig(channels: 2, factor: 2, width: 4, beta: 0.5), seed: 1)
        var rng = RNG(seed: 2)
        let images = Tensor.input("images", [2, 8, 8, 3]), noise = Tensor.input("noise", [2, 2, 4, 4])
        let loss = try vae.losses(images: images, noise: noise).total
        let params = vae.parameters.all
        let grads = try loss.gradients(wrt: params)
        let plan = try Plan([loss.node] + grads.map(\.node))
        _ = try plan.run([images.node: TensorData(shape: images.shape, values: rng.uniform(images.count, low: -1, high: 1)),
                          noise.node: TensorData(shape: noise.shape, values: rng.normal(noise.count))])
        // For each parameter, the derivative along a random direction d: the central difference
        // of the loss at θ ± h·d against the analytic gradient's dot product with d. (GroupNorm
        // over few values curves the loss sharply along the stem: h = 1e-3 is 13% off there on
        // 4×4 images, and the difference converges to the analytic value as h shrinks.)
        let gradients = (0..<grads.count).map { plan.output($0 + 1).values }
        var worst: Float = 0, worstName = ""
        let h: Float = 3e-4
        for (i, p) in params.enumerated() {
            let storage = p.node.storage!, keep = storage.data.values
            let d = rng.normal(storage.count)
            let analytic = zip(gradients[i], d).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            func lossAlong(_ sign: Float) throws -> Float {
                for j in 0..<storage.count { storage.pointer[j] = keep[j] + sign * h * d[j] }
                try plan.run(); return plan.scalar(0)
            }
            let numeric = (try lossAlong(1) - lossAlong(-1)) / (2 * h)
            for j in 0..<storage.count { storage.pointer[j] = keep[j] }
            let error = abs(numeric - analytic) / max(abs(analytic), 1e-2)
            if error > worst { worst = error; worstName = p.node.name ?? "" }
        }
        #expect(worst < 2e-2, "worst relative difference \(worst) at \(worstName)")
        print("vae gradient check: worst relative difference \(worst) at \(worstName)")
    }

    /// A tiny VAE trained on shapes reconstructs a fixed batch at least 4× better than at start.
    @Test func aTinyVAELearnsToReconstructShapes() throws {
        let vae = VAE(VAEConfig(channels: 4, factor: 2, width: 8), seed: 1)
        let data = Shapes(side: 8)
        var rng = RNG(seed: 9)
        let fixed = try VAETrainer.images(data, count: 16, rng: &rng)
        let before = try VAETrainer.reconstructionError(vae, fixed)
        let trainer = try VAETrainer(vae: vae, data: data, batch: 16, lr: 3e-3, seed: 4)
        for _ in 0..<150 { try trainer.trainStep() }
        let after = try VAETrainer.reconstructionError(vae, fixed)
        print("vae reconstruction MSE on 16 shapes: \(before) → \(after) (\(before / after)×)")
        #expect(after < before / 4, "reconstruction MSE \(before) → \(after)")
        #expect(trainer.history.count == 150 && trainer.history.allSatisfy { $0.total.isFinite })
        // Calibration gives latents of unit variance; Latents round-trips through it.
        try vae.calibrate(fixed)
        let pixels = (0..<4).map { _ in data.draw(&rng).pixels! }
        let latents = Latents(vae)
        let z = try latents.encode(pixels, side: 8)
        #expect(z.count == 4 && z[0].count == 4 * 4 * 4)
        let back = try latents.decode(z, latentSide: 4)
        #expect(back.count == 4 && back[0].count == 8 * 8 * 3 && back.allSatisfy { $0.allSatisfy { (0...1).contains($0) } })
    }

    @Test func saveAndLoadRoundTripBitExactly() throws {
        let vae = VAE(VAEConfig(channels: 3, factor: 4, width: 4, beta: 2e-4), seed: 5)
        vae.scale = 0.731
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tfs-vae-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try vae.save(path)
        let loaded = try VAE.load(path)
        #expect(loaded.config == vae.config)
        #expect(loaded.scale.bitPattern == vae.scale.bitPattern)
        #expect(loaded.parameters.names == vae.parameters.names)
        for name in vae.parameters.names {
            #expect(loaded.parameters[name].node.storage!.data.values.map(\.bitPattern) ==
                    vae.parameters[name].node.storage!.data.values.map(\.bitPattern))
        }
        let x = TensorData(shape: [1, 8, 8, 3], repeating: 0.25)
        #expect(try loaded.encode(x).mean.values.map(\.bitPattern) == vae.encode(x).mean.values.map(\.bitPattern))
    }

    // MARK: Latents in place of pixels

    /// With scaled: false, patches carry latent values as they are (no [0,1]→[-1,1], no clipping).
    @Test func latentPatchesAreNeitherRescaledNorClipped() {
        let p = Patchifier(side: 4, patch: 2, channels: 4, scaled: false)
        var rng = RNG(seed: 1)
        let grid = rng.normal(4 * 4 * 4).map { $0 * 3 }
        #expect(p.patchValues == 16)
        #expect(p.image(p.patches(grid)) == grid)
        #expect(Set(p.patches(grid)) == Set(grid))
        let rgb = Patchifier(side: 4, patch: 2)   // pixels: unchanged behaviour
        #expect(rgb.patches([Float](repeating: 1, count: 48)).allSatisfy { $0 == 1 } && rgb.patches([Float](repeating: 0, count: 48)).allSatisfy { $0 == -1 })
    }

    /// A latent dataset encodes each image once: an image met again gets the latents a fresh
    /// encoding gives, bit for bit, from the cache; a cache too small to hold them (or a
    /// generated data set that never repeats) encodes afresh, with the same result.
    @Test func latentsOfImagesSeenBeforeComeFromTheCache() throws {
        let vae = VAE(VAEConfig(channels: 4, factor: 2, width: 4), seed: 1)
        var rng = RNG(seed: 5)
        let shapes = Shapes(side: 8)
        let pairs = (0..<3).map { i in ImageTextDataset.Pair(pixels: shapes.draw(&rng).pixels!, caption: "image \(i)", source: "\(i)") }
        let folder = try ImageTextDataset(side: 8, pairs: pairs)
        let fresh = Latents(vae)
        for bytes in [LatentCache.defaultBytes, 0] {
            let data = try LatentDataset(folder, vae: vae, cacheBytes: bytes)
            var draws = RNG(seed: 9)
            for _ in 0..<12 {
                guard case .pair(let z, let caption) = data.draw(&draws), let i = Int(caption.split(separator: " ")[1]) else { Issue.record("expected a pair"); return }
                #expect(z == (try fresh.encode([pairs[i].pixels], side: 8))[0])
            }
            #expect(bytes == 0 ? data.cache.hits == 0 && data.cache.bytes == 0 : data.cache.hits == 9 && data.cache.bytes == 3 * (8 * 8 * 3 + 4 * 4 * 4) * 4,
                    "\(data.cache.hits) hits, \(data.cache.bytes) bytes")
        }
    }

    /// A latent Transfusion model trains on a VAE's latents of shapes, draws latents that the
    /// VAE decodes to pixels, and captions pixels it encodes first; pixels and latents do not mix.
    @Test func aLatentModelTrainsDrawsAndCaptions() throws {
        let vae = VAE(VAEConfig(channels: 4, factor: 2, width: 4), seed: 1)
        let data = try LatentDataset(Shapes(side: 8), vae: vae)
        #expect(data.imageSide == 4)
        var rng = RNG(seed: 2)
        guard case .pair(let z, _) = data.draw(&rng) else { Issue.record("expected a pair"); return }
        #expect(z.count == 4 * 4 * 4)

        var c = ModelConfig(dim: 16, layers: 1, heads: 2, patchSize: 2 * 2 * 4, timeFeatures: 8, imageSide: 4)
        c.channels = 4; c.latent = true
        #expect(c.patchSide == 2 && c.patchesPerImage == 4)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: JSONEncoder().encode(c)) == c)
        let model = TransfusionModel(c, seed: 3)
        var options = Trainer.Options()
        options.batch = 2; options.length = 48; options.steps = 3; options.patch = 2
        let trainer = try Trainer(model: model, data: data, options: options)
        for _ in 0..<3 { let r = try trainer.trainStep(); #expect(r.lm.isFinite && r.diffusion.isFinite) }
        #expect(throws: TensorGraphError.self) { try Trainer(model: model, data: Shapes(side: 4), options: options) }
        #expect(throws: TensorGraphError.self) {
            try Trainer(model: TransfusionModel(ModelConfig(dim: 16, layers: 1, heads: 2, patchSize: 12, timeFeatures: 8, imageSide: 4)),
                        data: data, options: options)
        }

        var g = GenerationOptions(); g.sampler = .ddim(steps: 3, eta: 0); g.maxTokens = 4
        let generator = try Generator(model: model, options: g)
        let raw = try generator.images(for: ["a red square"])
        #expect(raw[0].count == 4 * 4 * 4)   // without a VAE: the latent grid
        generator.latents = Latents(vae)
        let drawn = try generator.images(for: ["a red square"])
        #expect(drawn[0].count == 8 * 8 * 3 && drawn[0].allSatisfy { (0...1).contains($0) })
        let pixels = Shapes(side: 8).draw(&rng).pixels!
        #expect(try generator.captions(for: [pixels]).count == 1)
    }
}
