import Foundation
import Testing
import TensorGraph
@testable import Transfusion

@Suite struct UNetTests {
    static func config(dim: Int, layers: Int = 1, side: Int, patch: Int, timeFeatures: Int = 4) -> ModelConfig {
        ModelConfig(dim: dim, layers: layers, heads: 2, patchSize: patch * patch * 3, timeFeatures: timeFeatures,
                    imageSide: side, encoder: .unet)
    }

    /// For every patch size, the down path gives one model-dim vector per patch, the up path a
    /// prediction per patch value, and the loss graph runs to finite values.
    @Test(arguments: [1, 2, 4, 8]) func shapesAndLossGraph(patch: Int) throws {
        let c = Self.config(dim: 16, side: 8, patch: patch), k = c.patchesPerImage!
        let model = TransfusionModel(c, seed: 1)
        let (rows, images) = try ModelTests.batch(c, length: k + 8)
        // By default as many slots as images could fit in the rows; here one per row.
        #expect(try BatchInputs(batch: 2, length: k + 8, config: c).imageSlots == 2 * max(1, (k + 8) / (k + 2)))
        let x = try BatchInputs(batch: 2, length: k + 8, imageSlots: 2, config: c)
        let f = try model.forward(x)
        #expect(f.encoding!.embeddings.shape == [2 * k, 16])
        #expect(f.encoding!.skips.count == patch.trailingZeroBitCount + 1)
        #expect(try model.patchPrediction(f, x).shape == [2, k + 8, c.patchSize])
        var rng = RNG(seed: 2)
        let feeds = try BatchFeeder(model: model).values(rows, images: images, inputs: x, rng: &rng)
        let losses = try model.losses(x)
        let out = try Plan([losses.lm.node, losses.diffusion.node]).run(feeds)
        #expect(out.allSatisfy { $0.values[0].isFinite && $0.values[0] > 0 })
    }

    /// Two rows: a caption then an image, and an image then a caption.
    @Test func configsWithoutAnEncoderReadAsLinear() throws {
        let json = #"{"dim": 8, "layers": 1, "heads": 2, "patchSize": 12}"#
        #expect(try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)).encoder == .linear)
        let unet = Self.config(dim: 8, side: 4, patch: 2)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: JSONEncoder().encode(unet)) == unet)
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let c = Self.config(dim: 8, side: 4, patch: 2)
        let model = TransfusionModel(c, seed: 1)
        let (rows, images) = try ModelTests.batch(c, length: 12)
        let x = try BatchInputs(batch: 2, length: 12, config: c)
        var rng = RNG(seed: 2)
        let feeds = try BatchFeeder(model: model).values(rows, images: images, inputs: x, rng: &rng)
        // Token embeddings scaled up (as in ModelTests) so the loss is near-linear over a step.
        let tokens = model.parameters["embed.tokens"].node.storage!
        for j in 0..<tokens.count { tokens.pointer[j] *= 30 }
        let loss = try model.losses(x).total
        let params = model.parameters.all.filter { $0.node.name != "embed.tokens" }
        let grads = try loss.gradients(wrt: params)
        let plan = try Plan([loss.node] + grads.map(\.node))
        _ = try plan.run(feeds)
        let analytic = (0..<grads.count).map { plan.output($0 + 1).values }
        var worst: Float = 0, scale: Float = 1, worstName = ""
        let h: Float = 3e-3
        for (i, p) in params.enumerated() {
            let s = p.node.storage!
            for j in stride(from: 0, to: s.count, by: max(1, s.count / 24)) {
                let keep = s.pointer[j]
                s.pointer[j] = keep + h; try plan.run(); let up = plan.scalar(0)
                s.pointer[j] = keep - h; try plan.run(); let down = plan.scalar(0)
                s.pointer[j] = keep
                let numeric = (up - down) / (2 * h)
                if abs(numeric - analytic[i][j]) > worst { worst = abs(numeric - analytic[i][j]); worstName = p.node.name ?? "" }
                scale = max(scale, abs(numeric))
            }
        }
        #expect(worst / scale < 1e-2, "worst difference \(worst) (scale \(scale)) at \(worstName)")
        print("unet gradient check: worst \(worst) at \(worstName), scale \(scale)")
    }

    /// Every residual block hears the timestep, even where each GroupNorm group is a single
    /// channel (dim 32, patch 4: 8 channels at the first level). A shift added before that
    /// norm would be removed by it — a zero gradient for its projection.
    @Test func everyResidualBlockHearsTheTimestep() throws {
        let c = Self.config(dim: 32, side: 8, patch: 4, timeFeatures: 8)
        let model = TransfusionModel(c, seed: 1)
        let (rows, images) = try ModelTests.batch(c, length: c.patchesPerImage! + 8)
        let x = try BatchInputs(batch: 2, length: c.patchesPerImage! + 8, config: c)
        var rng = RNG(seed: 2)
        let feeds = try BatchFeeder(model: model).values(rows, images: images, inputs: x, rng: &rng)
        let time = model.parameters.all.filter { ($0.node.name ?? "").contains(".time_") }
        #expect(time.count == 12)   // 3 blocks down, 3 up: a scale and a shift each
        let grads = try model.losses(x).total.gradients(wrt: time)
        let plan = try Plan(grads.map(\.node))
        _ = try plan.run(feeds)
        for (i, p) in time.enumerated() {
            let largest = plan.output(i).values.map(abs).max() ?? 0
            #expect(largest > 1e-6, "\(p.node.name ?? "") has no gradient: the timestep does not reach its block")
        }
    }

    @Test func aTinyUNetModelOverfitsATinyBatch() throws {
        let (lm, diffusion) = try ModelTests.overfit(TransfusionModel(Self.config(dim: 32, layers: 2, side: 4, patch: 2, timeFeatures: 8), seed: 3))
        #expect(lm.after < lm.before / 10, "LM loss \(lm.before) → \(lm.after)")
        #expect(diffusion.after < diffusion.before / 10, "diffusion loss \(diffusion.before) → \(diffusion.after)")
    }

    /// A U-Net run gets as many image slots per row as its data has images per item: one for
    /// pairs, two for edits; held-out data with more images per item is refused up front.
    @Test func imageSlotsFollowTheData() throws {
        let model = TransfusionModel(Self.config(dim: 32, side: 16, patch: 4), seed: 1)
        var o = Trainer.Options(); o.batch = 3; o.length = 96
        let pairs = try Trainer(model: model, data: Shapes(side: 16), options: o)
        #expect(pairs.inputs.imageSlots == 3)
        try pairs.trainStep()
        #expect(throws: TensorGraphError.self) { try pairs.holdOut(ShapesEdits(Shapes(side: 16), count: 4, seed: 0), batches: 1) }
        let edits = try Trainer(model: model, data: ShapesEdits(Shapes(side: 16), count: 8, seed: 0), options: o)
        #expect(edits.inputs.imageSlots == 6)
        try edits.trainStep()
        #expect(try Mixture([Shapes(side: 16), ShapesEdits(Shapes(side: 16))], weights: [1, 1]).imagesPerItem == 2)
    }

    /// The KV cache and the U-Net agree: a prompt, a token, a whole image block (run twice
    /// uncommitted as a sampler would, then committed clean), then text again.
    @Test func cachedAndUncachedStepsAgree() throws {
        let m = TransfusionModel(Self.config(dim: 32, layers: 2, side: 4, patch: 2, timeFeatures: 8), seed: 3)
        let s = m.parameters["embed.tokens"].node.storage!
        for j in 0..<s.count { s.pointer[j] *= 40 }
        var rng = RNG(seed: 8)
        let cached = try SequenceDecoder(model: m, batch: 2, capacity: 40, cached: true)
        let full = try SequenceDecoder(model: m, batch: 2, capacity: 40, cached: false)
        let b = Tokenizer.bos, boi = Tokenizer.boi, eoi = Tokenizer.eoi
        let image = { (step: Double, id: Int) -> [SequenceDecoder.Position] in (0..<4).map { _ in .patch(rng.normal(12), step: step, image: id) } }
        let steps: [[[SequenceDecoder.Position]]] = [
            [[.token(b), .token(104), .token(105)], [.token(b)]],
            [[.token(33)], [.token(120), .token(121), .token(boi, image: 0)]],
            [[.token(boi, image: 0)], []],
            [image(400, 0), image(0, 0)],
            [[.token(eoi, image: 0), .token(boi, image: 1)], [.token(eoi, image: 0), .token(50)]],
            [image(700, 1), []],
        ]
        var worst: Float = 0
        for (i, pending) in steps.enumerated() {
            for commit in i == 3 || i == 5 ? [false, false, true] : [true] {
                let a = try cached.step(pending, commit: commit), u = try full.step(pending, commit: commit)
                for r in 0..<2 {
                    #expect((a[r].logits == nil) == (u[r].logits == nil))
                    #expect(a[r].predictions.count == u[r].predictions.count)
                    for (p, q) in zip(a[r].logits ?? [], u[r].logits ?? []) { worst = max(worst, abs(p - q)) }
                    for (p, q) in zip(a[r].predictions.flatMap { $0 }, u[r].predictions.flatMap { $0 }) { worst = max(worst, abs(p - q)) }
                }
            }
        }
        #expect(worst < 1e-4, "largest difference between cached and uncached outputs: \(worst)")
    }

    /// The decoder computes what training computes: the training graph's forward pass over a
    /// packed row gives the decoder's predictions at the image's patches.
    @Test func decoderMatchesTheTrainingForwardPass() throws {
        let c = Self.config(dim: 16, side: 4, patch: 2, timeFeatures: 8)
        let m = TransfusionModel(c, seed: 5)
        let rows = try Packer(length: 12).pack([[.text("hi"), .image(patches: 4)]])
        let row = rows[0], n = row.count
        var rng = RNG(seed: 21)
        let image = rng.normal(4 * c.patchSize)
        let x = try BatchInputs(batch: 1, length: n, config: c)
        // BatchFeeder at a fixed step: the clean image and zero noise make x_t = signal · image.
        let step = 321
        let feeds = try BatchFeeder(model: m).values(rows, images: [[image]], inputs: x, stepLimits: [[step]], rng: &rng)
        let f = try m.forward(x)
        let reference = try Plan([try m.patchPrediction(f, x).node]).run(feeds)[0].values
        let patchValues = feeds[x.patches.node]!.values, steps = feeds[x.time.node]!.values
        let boi = row.tokens.firstIndex(of: Tokenizer.boi)!
        // The step BatchFeeder drew, recovered from its timestep features.
        let drawn = (0...step).first { timestepFeatures(Double($0), dim: c.timeFeatures) == Array(steps[((boi + 1) * c.timeFeatures)..<((boi + 2) * c.timeFeatures)]) }!
        for cached in [true, false] {
            let d = try SequenceDecoder(model: m, batch: 1, capacity: n, cached: cached)
            _ = try d.step([row.tokens[0...boi].map { .token($0, image: $0 == Tokenizer.boi ? 0 : nil) }], commit: true)
            let block = (0..<4).map { j in
                SequenceDecoder.Position.patch(Array(patchValues[((boi + 1 + j) * c.patchSize)..<((boi + 2 + j) * c.patchSize)]), step: Double(drawn), image: 0)
            }
            let out = try d.step([block], commit: false)
            var worst: Float = 0
            for (j, p) in out[0].predictions.enumerated() {
                for v in 0..<c.patchSize { worst = max(worst, abs(p[v] - reference[(boi + 1 + j) * c.patchSize + v])) }
            }
            #expect(worst < 1e-4, "cached=\(cached): largest difference from the training forward pass \(worst)")
        }
    }

    /// The U-Net's size for dim 128 on 16×16 images (pins its structure: see UNet).
    @Test func parameterCounts() {
        for p in [2, 4] {
            let m = TransfusionModel(Self.config(dim: 128, layers: 4, side: 16, patch: p, timeFeatures: 64).withHeads(4))
            let unet = m.parameters.names.filter { $0.hasPrefix("unet.") }.reduce(0) { $0 + m.parameters[$1].count }
            #expect(unet == [2: 1_213_824, 4: 1_313_728][p], "patch \(p): \(unet) U-Net parameters of \(m.parameters.count)")
        }
    }
}

private extension ModelConfig {
    func withHeads(_ h: Int) -> ModelConfig { var c = self; c.heads = h; return c }
}
