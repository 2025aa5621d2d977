import Foundation
import Testing
import TensorGraph
@testable import Transfusion

@Suite struct TrainerTests {
    static func options(steps: Int) -> Trainer.Options {
        var o = Trainer.Options()
        o.batch = 4; o.length = 64; o.steps = steps; o.patch = 4; o.lr = .warmup(steps: 5) >> .cosine(peak: 3e-3)
        return o
    }
    static func model() -> TransfusionModel {
        TransfusionModel(ModelConfig(dim: 32, layers: 2, heads: 2, patchSize: 48, timeFeatures: 16), seed: 7)
    }

    @Test func patchesRoundTrip() {
        let p = Patchifier(side: 8, patch: 4)
        var rng = RNG(seed: 1)
        let image = rng.uniform(8 * 8 * 3)
        let back = p.image(p.patches(image))
        #expect(zip(back, image).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(p.patches(image).count == 4 * 48)
    }

    @Test func learningRateSchedules() {
        let s: LRSchedule = .warmup(steps: 10) >> .cosine(peak: 1e-3)
        #expect(abs(s.rate(0, total: 110) - 1e-4) < 1e-12)          // 1/10 of the first decay rate
        #expect(abs(s.rate(9, total: 110) - 1e-3) < 1e-12)
        #expect(abs(s.rate(109, total: 110) - 5e-5) < 1e-12)        // 5% floor at the end
        #expect(s.description == "warmup(10) >> cosine(0.001)")
    }

    @Test func bothLossesFallOnShapes() throws {
        let trainer = try Trainer(model: Self.model(), shapes: Shapes(side: 16), options: Self.options(steps: 120))
        for _ in 0..<120 { try trainer.trainStep() }
        let first = trainer.history.prefix(10), last = trainer.history.suffix(10)
        for r in trainer.history { #expect(abs(r.total - (r.lm + 5 * r.diffusion)) <= 1e-4 * r.total) }  // lm + 5 · diffusion
        func mean(_ r: ArraySlice<Trainer.Record>, _ k: KeyPath<Trainer.Record, Float>) -> Float { r.map { $0[keyPath: k] }.reduce(0, +) / Float(r.count) }
        #expect(mean(last, \.lm) < mean(first, \.lm) / 2, "LM \(mean(first, \.lm)) → \(mean(last, \.lm))")
        #expect(mean(last, \.diffusion) < mean(first, \.diffusion) * 0.8, "diffusion \(mean(first, \.diffusion)) → \(mean(last, \.diffusion))")
    }

    @Test func aResumedRunMatchesAnUninterruptedOneStepForStep() throws {
        let path = NSTemporaryDirectory() + "tfs-resume-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let straight = try Trainer(model: Self.model(), shapes: Shapes(side: 16), options: Self.options(steps: 10))
        for _ in 0..<10 { try straight.trainStep() }

        let first = try Trainer(model: Self.model(), shapes: Shapes(side: 16), options: Self.options(steps: 10))
        for _ in 0..<5 { try first.trainStep() }
        try first.save(path)
        let resumed = try Trainer(model: Self.model(), shapes: Shapes(side: 16), options: Self.options(steps: 10))
        try resumed.resume(from: path)
        for _ in 0..<5 { try resumed.trainStep() }
        #expect(resumed.history == Array(straight.history.suffix(5)))
        // The checkpoint round-trips bit-exactly.
        let reread = try Safetensors.readTensors(path: path)
        #expect(reread["block0.attn.wq"] == first.model.parameters["block0.attn.wq"].node.storage!.data)
    }
}
