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
        let trainer = try Trainer(model: Self.model(), data: Shapes(side: 16), options: Self.options(steps: 120))
        for _ in 0..<120 { try trainer.trainStep() }
        let first = trainer.history.prefix(10), last = trainer.history.suffix(10)
        for r in trainer.history { #expect(abs(r.total - (r.lm + 5 * r.diffusion)) <= 1e-4 * r.total) }  // lm + 5 · diffusion
        func mean(_ r: ArraySlice<Trainer.Record>, _ k: KeyPath<Trainer.Record, Float>) -> Float { r.map { $0[keyPath: k] }.reduce(0, +) / Float(r.count) }
        #expect(mean(last, \.lm) < mean(first, \.lm) / 2, "LM \(mean(first, \.lm)) → \(mean(last, \.lm))")
        #expect(mean(last, \.diffusion) < mean(first, \.diffusion) * 0.8, "diffusion \(mean(first, \.diffusion)) → \(mean(last, \.diffusion))")
    }

    /// A stop request (Ctrl-C) ends a held-out evaluation between batches (F19), recording nothing.
    @Test func aStopRequestEndsAnEvaluationBetweenBatches() throws {
        let trainer = try Trainer(model: Self.model(), data: Shapes(side: 16), options: Self.options(steps: 2))
        try trainer.holdOut(batches: 3)
        trainer.cancellation = Cancellation { true }
        let error = #expect(throws: Cancelled.self) { try trainer.evaluate() }
        #expect(error?.description == "evaluation stopped after 0 of 3 held-out batches")
        #expect(trainer.evaluations.isEmpty)
    }

    @Test func aResumedRunMatchesAnUninterruptedOneStepForStep() throws {
        let path = NSTemporaryDirectory() + "tfs-resume-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let straight = try Trainer(model: Self.model(), data: Shapes(side: 16), options: Self.options(steps: 10))
        for _ in 0..<10 { try straight.trainStep() }

        let first = try Trainer(model: Self.model(), data: Shapes(side: 16), options: Self.options(steps: 10))
        for _ in 0..<5 { try first.trainStep() }
        try first.save(path)
        let resumed = try Trainer(model: Self.model(), data: Shapes(side: 16), options: Self.options(steps: 10))
        try resumed.resume(from: path)
        for _ in 0..<5 { try resumed.trainStep() }
        #expect(resumed.history == Array(straight.history.suffix(5)))
        // The checkpoint round-trips bit-exactly.
        let reread = try Safetensors.readTensors(path: path)
        #expect(reread["block0.attn.wq"] == first.model.parameters["block0.attn.wq"].node.storage!.data)
    }

    // MARK: any dataset

    static func corpus(_ texts: [String]) throws -> TextCorpus {
        try TextCorpus(documents: texts.enumerated().map { .init(text: $1, source: "doc \($0)") })
    }

    @Test func theLMLossFallsOnTextAlone() throws {
        let trainer = try Trainer(model: Self.model(), data: Self.corpus(["the cat sat on the mat", "a dog ran in the park"]),
                                  options: Self.options(steps: 60))
        for _ in 0..<60 { try trainer.trainStep() }
        #expect(trainer.history.allSatisfy { $0.diffusion == 0 })    // no image, no diffusion loss
        #expect(trainer.history.suffix(5).map(\.lm).max()! < trainer.history[0].lm / 3, "\(trainer.history.map(\.lm))")
    }

    @Test func imagesMustMatchThePatches() throws {
        func message(_ data: any Dataset, patch: Int = 4) -> String {
            var o = Self.options(steps: 1); o.patch = patch
            do { _ = try Trainer(model: Self.model(), data: data, options: o); return "(no error)" } catch { return "\(error)" }
        }
        #expect(message(Shapes(side: 32)) == "the images of shapes(size=32) are 32×32; the model draws 16×16 images (transfusion(image=16))")
        #expect(message(Shapes(side: 16), patch: 3) == "the images of shapes(size=16) are 16×16: patch 3 must divide their side")
        #expect(message(Shapes(side: 16), patch: 2) == "the model takes patches of 48 values; 2×2 RGB patches have 12")
        #expect(message(try Self.corpus(["text needs no patches"]), patch: 3) == "(no error)")
        #expect(message(try Mixture([Self.corpus(["words"]), Shapes(side: 16)])) == "(no error)")
    }

    /// One held-out batch drawn with the training seed is the batch of the first step: its
    /// evaluation equals the loss the training plan measured (before its update) on it.
    @Test func evaluationMatchesTheTrainingPlanOnTheSameBatch() throws {
        let trainer = try Trainer(model: Self.model(), data: Shapes(side: 16), options: Self.options(steps: 10))
        try trainer.holdOut(batches: 1, seed: trainer.options.seed)
        let e = try trainer.evaluate(), r = try trainer.trainStep()
        #expect(abs(e.lm - r.lm) <= 1e-5 * r.lm && abs(e.diffusion - r.diffusion) <= 1e-5 * r.diffusion, "\(e) vs \(r)")
        #expect(e.step == 0 && trainer.evaluations == [e])
    }

    /// Several batches: each loss is averaged over all its targets, so with equal-length texts
    /// (the same number of LM targets per batch) it is the mean of the batches' losses.
    @Test func evaluationAveragesOverEveryBatch() throws {
        var o = Self.options(steps: 10); o.lr = .constant(0)          // steps then change nothing
        let data = try Self.corpus(["abcdefgh", "ijklmnop", "qrstuvwx"])
        let trainer = try Trainer(model: Self.model(), data: data, options: o)
        try trainer.holdOut(batches: 3, seed: o.seed)
        let e = try trainer.evaluate()
        let steps = try (0..<3).map { _ in try trainer.trainStep().lm }
        #expect(abs(e.lm - steps.reduce(0, +) / 3) <= 1e-5 * e.lm, "\(e.lm) vs \(steps)")
        #expect(e.diffusion == 0)
    }

    /// Evaluating is deterministic, changes no weight and draws nothing from the run's generator.
    @Test func evaluationLeavesTheRunUntouched() throws {
        let plain = try Trainer(model: Self.model(), data: Shapes(side: 16), options: Self.options(steps: 6))
        for _ in 0..<6 { try plain.trainStep() }
        let evaluated = try Trainer(model: Self.model(), data: Shapes(side: 16), options: Self.options(steps: 6))
        try evaluated.holdOut(Shapes(side: 16, two: false), batches: 2)
        for _ in 0..<6 {
            let before = try evaluated.evaluate()
            let weights = evaluated.model.parameters["block0.attn.wq"].node.storage!.data
            #expect(try evaluated.evaluate().lm == before.lm)
            #expect(evaluated.model.parameters["block0.attn.wq"].node.storage!.data == weights)
            try evaluated.trainStep()
        }
        #expect(evaluated.history == plain.history)
        #expect(evaluated.evaluations.map(\.step) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    }

    @Test func heldOutImagesMustBeTheModels() throws {
        let trainer = try Trainer(model: Self.model(), data: Shapes(side: 16), options: Self.options(steps: 1))
        #expect(throws: TensorGraphError("the images of shapes(size=32) are 32×32; the model draws 16×16 images (transfusion(image=16))")) {
            try trainer.holdOut(Shapes(side: 32), batches: 1)
        }
        #expect(throws: TensorGraphError("no held-out set: call holdOut(...) first")) { try trainer.evaluate() }
    }
}
