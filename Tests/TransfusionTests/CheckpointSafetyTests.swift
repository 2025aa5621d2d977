import Foundation
import Testing
import TensorGraph
@testable import Transfusion

/// Checkpoints are untrusted input (F13), a run never writes or keeps training on NaN (F17), and
/// a run's periodic checkpoints are named, pruned and found as `CheckpointSeries` says.
@Suite final class CheckpointSafetyTests {
    let dir = NSTemporaryDirectory() + "tfs-checkpoint-safety-" + UUID().uuidString

    init() throws { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: dir) }

    static func config() -> ModelConfig { ModelConfig(dim: 16, layers: 1, heads: 2, patchSize: 48, timeFeatures: 16) }
    static func options(steps: Int) -> Trainer.Options {
        var o = Trainer.Options()
        o.batch = 2; o.length = 64; o.steps = steps; o.lr = .constant(1e-3)
        return o
    }
    func trainer(steps: Int = 4, options: Trainer.Options? = nil) throws -> Trainer {
        try Trainer(model: TransfusionModel(Self.config(), seed: 3), data: Shapes(side: 16), options: options ?? Self.options(steps: steps))
    }

    /// A training checkpoint of the tiny model after two steps.
    func checkpoint() throws -> String {
        let path = dir + "/good.safetensors"
        let t = try trainer()
        try t.trainStep(); try t.trainStep()
        try t.save(path)
        return path
    }

    /// A copy of `path` whose metadata `edit` changed (the tensors as they were).
    func crafted(_ path: String, _ name: String, _ edit: (inout [String: String]) throws -> Void) throws -> String {
        var file = try Safetensors.read(path: path)
        try edit(&file.metadata)
        let out = dir + "/" + name + ".safetensors"
        try Safetensors.write(entries: file.entries, metadata: file.metadata, to: out)
        return out
    }

    /// `edit` applied to the JSON config under `config`.
    func craftedConfig(_ path: String, _ name: String, _ edit: @escaping (inout [String: Any]) -> Void) throws -> String {
        try crafted(path, name) { metadata in
            var json = try JSONSerialization.jsonObject(with: Data(metadata["config"]!.utf8)) as! [String: Any]
            edit(&json)
            metadata["config"] = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        }
    }

    static func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch let e as TensorGraphError { return e.message } catch { return "\(error)" }
    }

    /// Every F13 config edit is refused with the field named, before a model is allocated.
    @Test(arguments: [
        ("dim", -32, "the model config's dim must be from 2 to 16384, got -32"),
        ("dim", 1_000_000, "the model config's dim must be from 2 to 16384, got 1000000"),
        ("dim", Int.max, "the model config's dim must be from 2 to 16384, got 9223372036854775807"),
        ("heads", 0, "the model config's heads must be from 1 to 16, got 0"),
        ("heads", 3, "the model config's dim 16 must split into 3 heads of an even size"),
        ("layers", -1, "the model config's layers must be from 1 to 1024, got -1"),
        ("layers", 100_000, "the model config's layers must be from 1 to 1024, got 100000"),
        ("layers", Int.max, "the model config's layers must be from 1 to 1024, got 9223372036854775807"),
        ("imageSide", -16, "the model config's imageSide must be from 1 to 4096, got -16"),
        ("imageSide", 4096, "the model config's imageSide 4096 makes 1048576 patches per image (at most 16384)"),
        ("patchSize", -48, "the model config's patchSize must be from 1 to 65536, got -48"),
        ("timeFeatures", -64, "the model config's timeFeatures must be from 1 to 16384, got -64"),
        ("channels", 0, "the model config's channels must be from 1 to 1024, got 0"),
        ("layers", 1000, "its model config (dim 16, 1000 layers) describes 4138928 weights, but the file holds 45168 values"),
        ("dim", 4096, "its model config (dim 4096, 1 layers) describes 204394496 weights, but the file holds 45168 values"),
        ("timeFeatures", 8, "tensor 'embed.time1' is [16, 16], but the model's config makes it [8, 16]"),
    ])
    func craftedModelConfigsAreRefused(field: String, value: Int, expected: String) throws {
        let bad = try craftedConfig(try checkpoint(), "\(field)_\(value)") { $0[field] = value }
        #expect(Self.message { _ = try TransfusionModel.load(bad) } == "\(bad): \(expected)")
    }

    /// Merges that double their spelling each time would need 2⁶⁰ bytes; a codebook of patch 0
    /// would divide by zero; a noise schedule of −5 steps has no steps.
    @Test func craftedTokenizersCodebooksAndSchedulesAreRefused() throws {
        let good = try checkpoint()
        let doubling = [[97, 97]] + (0..<60).map { [261 + $0, 261 + $0] }
        let merges = try craftedConfig(good, "merges") { $0["tokenizer"] = ["merges": doubling] }
        #expect(Self.message { _ = try TransfusionModel.load(merges) }.contains("merge 16 spells 131072 bytes (at most 65536)"))
        let codebook = try craftedConfig(good, "codebook") { $0["codebook"] = ["side": 16, "patch": 0, "channels": 3, "centroids": [Float]()] }
        #expect(Self.message { _ = try TransfusionModel.load(codebook) }.contains("the codebook: patch must divide the side 16, got 0"))
        let schedule = try craftedConfig(good, "schedule") { $0["schedule"] = ["cosine": ["steps": -5, "offset": 0.008]] }
        #expect(Self.message { _ = try TransfusionModel.load(schedule) }.contains("schedule steps must be from 1 to 100000, got -5"))
    }

    /// F13 for `load_vae`: a negative imageChannels (which corrupted the heap) and its other fields.
    @Test func craftedVAEConfigsAreRefused() throws {
        let path = dir + "/vae.safetensors"
        try VAE(VAEConfig(channels: 4, factor: 2, width: 8)).save(path)
        for (field, value, expected): (String, Any, String) in [
            ("imageChannels", -64, "the VAE's imageChannels must be from 1 to 64, got -64"),
            ("width", 100_000, "the VAE's width must be from 1 to 256, got 100000"),
            ("channels", 0, "the VAE needs at least one latent channel, got 0"),
            ("factor", 3, "the VAE's factor must be 2, 4 or 8, got 3"),
            ("beta", -1, "the VAE's beta must be finite and not negative, got -1.0"),
        ] {
            let bad = try craftedConfig(path, "vae_\(field)") { $0[field] = value }
            #expect(Self.message { _ = try VAE.load(bad) } == "\(bad): \(expected)")
        }
    }

    /// F13 for `resume`: counters, generator state and model are checked before anything is used.
    @Test func craftedResumeStateIsRefused() throws {
        let good = try checkpoint()
        let cases: [(String, (inout [String: String]) -> Void, String)] = [
            ("step_m5", { $0["step"] = "-5" }, "the checkpoint's 'step' must be a whole number from 0 to 1000000000, got '-5'"),
            ("step_text", { $0["step"] = "two" }, "the checkpoint's 'step' must be a whole number from 0 to 1000000000, got 'two'"),
            ("step_huge", { $0["step"] = "9223372036854775807" }, "the checkpoint's 'step' must be a whole number from 0 to 1000000000, got '9223372036854775807'"),
            ("no_step", { $0["step"] = nil }, "the checkpoint has no 'step' metadata"),
            ("adam", { $0["optimizer_steps"] = "9" }, "the checkpoint's optimizer_steps (9) exceeds its step (2)"),
            ("rng_zero", { $0["rng"] = "0,0,0,0" }, "the checkpoint's 'rng' must be four unsigned 64-bit words, not all zero"),
            ("rng_short", { $0["rng"] = "1,2,3" }, "the checkpoint's 'rng' must be four unsigned 64-bit words, not all zero"),
            ("format", { $0["format"] = "tfs-vae-1" }, "not a tfs training checkpoint (its format metadata is 'tfs-vae-1', not 'tfs-checkpoint-1')"),
        ]
        for (name, edit, expected) in cases {
            let bad = try crafted(good, name, edit)
            let t = try trainer()
            #expect(Self.message { try t.resume(from: bad) } == "\(bad): \(expected)")
            #expect(t.step == 0)
        }
        let other = try craftedConfig(good, "other_model") { $0["dim"] = 32 }
        #expect(Self.message { try self.trainer().resume(from: other) } == "\(other) holds another model: its dim is 32, this model's is 16")
    }

    /// The trainer's own copy of every weight and moment, to compare bit for bit.
    static func state(_ t: Trainer) -> [TensorData] {
        t.model.parameters.all.map { $0.node.storage!.data } + t.optimizer.m.map(\.data) + t.optimizer.v.map(\.data)
    }

    /// F17: a step whose loss is NaN throws `Divergence` naming the step and each loss part,
    /// changes no weight and counts no step; such a state is never written as a checkpoint.
    @Test func aNonFiniteStepStopsTheRunWithNothingUpdated() throws {
        let t = try trainer()
        try t.trainStep()
        let norm = t.model.parameters["final_norm"].node.storage!
        norm.pointer[0] = .nan
        let before = Self.state(t), rng = t.rng
        do {
            try t.trainStep()
            Issue.record("expected the step to stop the run")
        } catch let d as Trainer.Divergence {
            #expect(d.step == 1 && !d.record.total.isFinite && d.gradientNorm == nil)
            #expect(d.description.hasPrefix("the run diverged at step 2: loss nan (LM nan, diffusion "), "\(d)")
            #expect(d.description.hasSuffix("the weights after step 1 are unchanged. Try a lower lr, a longer warmup (warmup(N) >> ...), a smaller clip=, or on_nonfinite=\"skip\" to skip such steps"))
        }
        #expect(t.step == 1 && t.history.count == 1 && t.optimizer.steps == 1)
        #expect(Self.state(t).map(\.values.description) == before.map(\.values.description))   // NaN ≠ NaN: compare as text
        #expect(t.rng != rng)   // the batch was drawn: this state is not resumable, and is not saved
        let path = dir + "/nan.safetensors"
        #expect(Self.message { try t.save(path) } == "refusing to write the checkpoint \(path) at step 1: 'final_norm' holds NaN or ±Inf values")
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// on_nonfinite=skip: the step counts, its update does not; too many in a row stop the run.
    @Test func skippedStepsAreCountedAndTooManyInARowStop() throws {
        var options = Self.options(steps: 20)
        options.onNonFinite = .skip; options.maxSkipsInARow = 3
        let t = try trainer(options: options)
        try t.trainStep()
        let saved = t.model.parameters["final_norm"].node.storage!.data
        t.model.parameters["final_norm"].node.storage!.pointer[0] = .infinity
        let before = Self.state(t)
        try t.trainStep(); try t.trainStep()
        #expect(t.step == 3 && t.skippedSteps == 2 && t.skipsInARow == 2 && t.optimizer.steps == 1)
        #expect(Self.state(t) == before)
        let third = #expect(throws: Trainer.Divergence.self) { try t.trainStep() }
        #expect(third?.description.hasPrefix("3 steps in a row up to step 4 had non-finite losses or gradients: ") == true)
        // Repaired, the run goes on and the streak resets.
        try t.model.parameters["final_norm"].node.storage!.assign(saved)
        try t.trainStep()
        #expect(t.skipsInARow == 0 && t.skippedSteps == 2 && t.optimizer.steps == 2)
    }

    /// Periodic checkpoints: step-numbered siblings of the run's path, the newest `keep` kept;
    /// the newest of all (final file included) by the step in its header.
    @Test func aSeriesNamesPrunesAndFindsTheNewest() throws {
        let series = CheckpointSeries(path: dir + "/runs/x.safetensors", keep: 2)
        #expect(series.periodicPath(step: 500) == dir + "/runs/x.step-00000500.safetensors")
        #expect(series.latest() == nil)
        try FileManager.default.createDirectory(atPath: dir + "/runs", withIntermediateDirectories: true)
        let t = try trainer(steps: 10)
        for _ in 0..<3 {
            try t.trainStep()
            _ = try series.savePeriodic(step: t.step) { try t.save($0) }
        }
        #expect(series.periodic().map(\.step) == [2, 3])
        #expect(series.latest()?.path == series.periodicPath(step: 3) && series.latest()?.step == 3)
        // The final file is newer once it holds a later step; other files are passed over.
        try t.trainStep(); try t.save(series.path)
        FileManager.default.createFile(atPath: dir + "/runs/x.step-00000099.safetensors", contents: Data("junk".utf8))
        try Safetensors.write([("w", TensorData(scalar: 1))], metadata: ["format": "tfs-vae-1", "step": "1000"], to: dir + "/runs/vae.safetensors")
        #expect(series.latest()?.path == series.path && series.latest()?.step == 4)
        #expect(CheckpointSeries.newest(inFolder: dir + "/runs")?.step == 4)
        #expect(CheckpointSeries(path: dir + "/runs/y.safetensors").latest() == nil)
    }

    /// A resumed run equals the uninterrupted one bit for bit when it resumes from a periodic
    /// checkpoint written mid-run (weights, moments and the losses of every later step).
    @Test func resumingFromAPeriodicCheckpointIsExact() throws {
        let straight = try trainer(steps: 6)
        for _ in 0..<6 { try straight.trainStep() }
        let series = CheckpointSeries(path: dir + "/exact.safetensors", keep: 3)
        let first = try trainer(steps: 6)
        for _ in 0..<4 { try first.trainStep(); _ = try series.savePeriodic(step: first.step) { try first.save($0) } }
        let resumed = try trainer(steps: 6)
        try resumed.resume(from: series.latest()!.path)
        #expect(resumed.step == 4)
        for _ in 0..<2 { try resumed.trainStep() }
        #expect(resumed.history == Array(straight.history.suffix(2)))
        #expect(Self.state(resumed) == Self.state(straight))
    }
}
