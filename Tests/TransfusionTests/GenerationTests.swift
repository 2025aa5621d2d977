import Foundation
import Testing
import TensorGraph
@testable import Transfusion

@Suite struct GenerationTests {
    /// An untrained model with weights scaled up so its outputs vary strongly with the input.
    static func model(objective: DiffusionObjective = .epsilon) -> TransfusionModel {
        let config = ModelConfig(dim: 32, layers: 2, heads: 2, patchSize: 12, timeFeatures: 8, imageSide: 4, objective: objective)
        let m = TransfusionModel(config, seed: 3)
        let s = m.parameters["embed.tokens"].node.storage!
        for j in 0..<s.count { s.pointer[j] *= 40 }
        return m
    }

    /// A stop request (Ctrl-C) ends drawing between denoising steps and says how far it got (F19).
    @Test func aStopRequestEndsDrawingBetweenDenoisingSteps() throws {
        final class Asked: @unchecked Sendable { var count = 0 }
        let asked = Asked()
        var options = GenerationOptions()
        options.sampler = .ddim(steps: 50, eta: 0)
        let generator = try Generator(model: Self.model(), options: options)
        generator.cancellation = Cancellation { asked.count += 1; return asked.count > 5 }
        let error = #expect(throws: Cancelled.self) { try generator.images(for: ["a"]) }
        #expect(error?.description == "drawing stopped after 4 of 50 denoising steps")
        generator.cancellation = Cancellation { true }
        let text = #expect(throws: Cancelled.self) { try generator.generate(["a"]) }
        #expect(text?.description == "generation stopped after 0 tokens")
    }

    /// The cache must not change what the model computes: a prompt, a token at a time, then an
    /// image block, run with and without the cache, gives the same logits and predictions.
    @Test func cachedAndUncachedStepsAgree() throws {
        let m = Self.model()
        var rng = RNG(seed: 8)
        let cached = try SequenceDecoder(model: m, batch: 2, capacity: 40, cached: true)
        let full = try SequenceDecoder(model: m, batch: 2, capacity: 40, cached: false)
        let b = Tokenizer.bos, boi = Tokenizer.boi
        let steps: [[[SequenceDecoder.Position]]] = [
            [[.token(b), .token(104), .token(105)], [.token(b)]],
            [[.token(33)], [.token(120), .token(121), .token(boi, image: 0)]],
            [[.token(boi, image: 0)], []],
            [(0..<4).map { _ in .patch(rng.normal(12), step: 400, image: 0) }, (0..<4).map { _ in .patch(rng.normal(12), step: 0, image: 0) }],
            [[.token(Tokenizer.eoi, image: 0)], [.token(Tokenizer.eoi, image: 0), .token(50)]],
        ]
        var worst: Float = 0
        for (i, pending) in steps.enumerated() {
            // Diffusion-like steps run twice uncommitted first, as a sampler would.
            for commit in i == 3 ? [false, false, true] : [true] {
                let a = try cached.step(pending, commit: commit), c = try full.step(pending, commit: commit)
                for r in 0..<2 {
                    #expect((a[r].logits == nil) == (c[r].logits == nil))
                    for (x, y) in zip(a[r].logits ?? [], c[r].logits ?? []) { worst = max(worst, abs(x - y)) }
                    for (x, y) in zip(a[r].predictions.flatMap { $0 }, c[r].predictions.flatMap { $0 }) { worst = max(worst, abs(x - y)) }
                }
            }
        }
        #expect(worst < 1e-4, "largest difference between cached and uncached outputs: \(worst)")
    }

    @Test func generationIsReproducibleAndTheCacheChangesNothing() throws {
        let m = Self.model()
        var options = GenerationOptions()
        options.maxTokens = 12; options.text = TokenSampler(temperature: 1, topK: 20)
        options.sampler = .ddim(steps: 5, eta: 0.5); options.cfg = 3; options.seed = 4
        let prompts = ["ab", "hello"]
        let first = try Generator(model: m, options: options).generate(prompts)
        let again = try Generator(model: m, options: options).generate(prompts)
        #expect(first == again)
        options.cached = false
        let uncached = try Generator(model: m, options: options).generate(prompts)
        #expect(first.count == uncached.count)
        for (a, b) in zip(first, uncached) {
            #expect(a.count == b.count)
            for (x, y) in zip(a, b) {
                switch (x, y) {
                case (.text(let s), .text(let t)): #expect(s == t)
                case (.image(let p), .image(let q)): #expect(zip(p, q).allSatisfy { abs($0 - $1) < 1e-3 })
                default: Issue.record("pieces differ: \(x) vs \(y)")
                }
            }
        }
    }

    @Test func imagesAndCaptionsHaveTheirShapes() throws {
        let m = Self.model(objective: .flow)
        var options = GenerationOptions()
        options.sampler = .midpoint(steps: 3); options.maxTokens = 6
        let g = try Generator(model: m, options: options)
        let images = try g.images(for: ["a red square", "x"])
        #expect(images.count == 2 && images.allSatisfy { $0.count == 4 * 4 * 3 })
        #expect(images.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 <= 1 } })
        let captions = try g.captions(for: images)
        #expect(captions.count == 2 && captions.allSatisfy { $0.unicodeScalars.count <= 6 })
    }

    /// Guided captions: the companion row (BOS and the text so far) runs beside each image row,
    /// with and without the cache alike, and guidance changes what an untrained model writes.
    @Test func guidedCaptionsAgreeWithAndWithoutTheCache() throws {
        let m = Self.model()
        var options = GenerationOptions()
        options.maxTokens = 10; options.cfg = 4
        var rng = RNG(seed: 2)
        let images = (0..<3).map { _ in rng.uniform(4 * 4 * 3) }
        let cached = try Generator(model: m, options: options).captions(for: images)
        options.cached = false
        #expect(try Generator(model: m, options: options).captions(for: images) == cached)
        options.cfg = 1; options.cached = true
        #expect(try Generator(model: m, options: options).captions(for: images) != cached)
    }

    @Test func generationRefusesModelsWithoutImageGeometry() {
        let m = TransfusionModel(ModelConfig(dim: 16, layers: 1, heads: 2, patchSize: 5, timeFeatures: 4))
        #expect(throws: TensorGraphError.self) { try Generator(model: m, options: GenerationOptions()) }
    }

    /// The decoder computes what training computes: a packed row (caption, BOI, noisy patches)
    /// through the training graph's forward pass gives the decoder's logits and predictions.
    @Test func decoderMatchesTheTrainingForwardPass() throws {
        let m = Self.model(), c = m.config
        let rows = try Packer(length: 12).pack([[.text("hi"), .image(patches: 4)]])
        let row = rows[0], n = row.count
        var rng = RNG(seed: 21)
        let patches = (0..<4).map { _ in rng.normal(c.patchSize) }
        let step = 321.0
        // Training-side inputs, built from the packed row as BatchFeeder builds them.
        let x = try BatchInputs(batch: 1, length: n, config: c)
        var patchValues = [Float](repeating: 0, count: n * c.patchSize), isPatch = [Float](repeating: 0, count: n)
        var time = [Float](repeating: 0, count: n * c.timeFeatures)
        var k = 0
        for i in 0..<n where row.layout[i].kind == .patch {
            isPatch[i] = 1
            for v in 0..<c.patchSize { patchValues[i * c.patchSize + v] = patches[k][v] }
            for (v, f) in timestepFeatures(step, dim: c.timeFeatures).enumerated() { time[i * c.timeFeatures + v] = f }
            k += 1
        }
        let rope = m.ropeTables(row.positions), evaluated = try LayoutMasks(m.mask & .sameDocument).entry(row.layout)
        let feeds: [Node: TensorData] = [
            x.tokens.node: TensorData(shape: x.tokens.shape, values: row.tokens.map(Float.init)),
            x.patches.node: TensorData(shape: x.patches.shape, values: patchValues),
            x.isPatch.node: TensorData(shape: x.isPatch.shape, values: isPatch),
            x.time.node: TensorData(shape: x.time.shape, values: time),
            x.cos.node: TensorData(shape: x.cos.shape, values: rope.cos),
            x.sin.node: TensorData(shape: x.sin.shape, values: rope.sin),
            x.mask.node: TensorData(shape: x.mask.shape, values: evaluated.dense),
            x.blocks.node: TensorData(shape: x.blocks.shape, values: evaluated.blocks),
        ]
        let f = try m.forward(x)
        let reference = try Plan([try m.tokenLogits(f.hidden).node, try m.patchPrediction(f.hidden).node]).run(feeds)
        // The decoder: the prompt, then the patches as one pending block.
        let boi = row.tokens.firstIndex(of: Tokenizer.boi)!
        for cached in [true, false] {
            let d = try SequenceDecoder(model: m, batch: 1, capacity: n, cached: cached)
            let prompt = try d.step([row.tokens[0...boi].map { .token($0, image: $0 == Tokenizer.boi ? 0 : nil) }], commit: true)
            let block = try d.step([patches.map { .patch($0, step: step, image: 0) }], commit: false)
            var worst: Float = 0
            for (v, value) in prompt[0].logits!.enumerated() {
                worst = max(worst, abs(value - reference[0].values[boi * c.vocabulary + v]))
            }
            for (j, p) in block[0].predictions.enumerated() {
                for v in 0..<c.patchSize { worst = max(worst, abs(p[v] - reference[1].values[(boi + 1 + j) * c.patchSize + v])) }
            }
            #expect(worst < 1e-4, "cached=\(cached): largest difference from the training forward pass \(worst)")
        }
    }
}
