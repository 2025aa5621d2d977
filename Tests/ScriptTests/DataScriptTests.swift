import Foundation
import Testing
import TensorGraph
import Transfusion
@testable import Script
@testable import ScriptLibrary

/// Datasets in the language: images(), text(), mixture(), train() on any of them, held-out
/// evaluation, and Ctrl-C during training.
@Suite struct DataScriptTests {
    /// A scratch folder (removed at the end) and a session whose `dir` variable names it.
    final class Scratch {
        let path = NSTemporaryDirectory() + "tfs-script-data-\(getpid())-\(UUID().uuidString)"
        let session = Session(registry: .tfs)
        init() {
            try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            session.interpreter.setGlobal("dir", .string(path))
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        func run(_ source: String) -> CellResult { session.run(source: source, file: "t.tfs") }
        func write(_ name: String, _ bytes: Data) { try! bytes.write(to: URL(fileURLWithPath: path + "/" + name)) }
        /// The training loop of a tiny model on shapes (batch 2), held-out batches drawn when
        /// `heldOut` is given; nil (an issue recorded) if the model cannot be made.
        func loop(steps: Int, evalEvery: Int, heldOut: Int?, series: CheckpointSeries?, flag: InterruptFlag) throws -> (Trainer, TrainingLoop)? {
            _ = run("\(DataScriptTests.tinyModel)")
            guard case .object(let o)? = session.interpreter.global("m"), let model = o as? ModelValue else { Issue.record("no model"); return nil }
            var options = Trainer.Options()
            options.steps = steps; options.batch = 2; options.loss = model.loss
            let trainer = try Trainer(model: model.model, data: Shapes(side: 16), options: options)
            if let heldOut { try trainer.holdOut(batches: heldOut) }
            return (trainer, TrainingLoop(trainer: trainer, steps: steps, evalEvery: evalEvery, series: series, interrupt: flag,
                                          progress: Progress(total: steps, every: 100, tokensPerStep: 1)))
        }
        func dataset(_ name: String) -> any Dataset {
            guard case .object(let o)? = session.interpreter.global(name), let d = o as? TrainingData else { fatalError("\(name) is no dataset") }
            return d.dataset
        }
    }

    static let tinyModel = "m = transfusion(dim=32, layers=1, heads=2, time_features=16)"

    @Test func imagesLoadAFolderOfPNGsAndShowLikeShapes() throws {
        let s = Scratch()
        let r = s.run("""
            shapes(size=16, seed=3).take(6).save(dir + "/folder")
            data = images(dir + "/folder", size=16)
            print(data.count, data.size, type(data))
            show(data.take(3))
            """)
        #expect(r.failure == nil, "\(errorText(r))")
        #expect(r.outputs.first == .text("6 16 dataset"))
        guard case .png(_, let caption)? = r.outputs.last else { Issue.record("no image grid: \(r.outputs)"); return }
        #expect(caption?.contains(" · ") == true)
        // The PNG files hold exactly the shapes drawn with that seed (their values are 0 or 1).
        var rng = RNG(seed: 3)
        let expected = (0..<6).map { _ in Shapes(side: 16).sample(&rng) }
        let loaded = try #require(s.dataset("data") as? ImageTextDataset)
        #expect(loaded.pairs.map(\.caption) == expected.map(\.caption))
        #expect(loaded.pairs.map(\.pixels) == expected.map(\.pixels))
    }

    /// A 32×32 folder read at size 16: each pixel is the mean of a 2×2 block of the original.
    @Test func largerImagesAreAveragedDownByWholeFactors() throws {
        let s = Scratch()
        let r = s.run("""
            shapes(size=32, seed=1).take(3).save(dir + "/big")
            full = images(dir + "/big", size=32)
            small = images(dir + "/big", size=16)
            """)
        #expect(r.failure == nil, "\(errorText(r))")
        let full = try #require(s.dataset("full") as? ImageTextDataset), small = try #require(s.dataset("small") as? ImageTextDataset)
        for (big, little) in zip(full.pairs, small.pairs) {
            for y in 0..<16 { for x in 0..<16 { for c in 0..<3 {
                let block = [(0, 0), (0, 1), (1, 0), (1, 1)].map { dy, dx in big.pixels[((2 * y + dy) * 32 + 2 * x + dx) * 3 + c] }
                #expect(abs(little.pixels[(y * 16 + x) * 3 + c] - block.reduce(0, +) / 4) < 1e-6)
            } } }
        }
    }

    @Test func imageFolderErrorsNameTheFileAndLine() {
        let s = Scratch()
        _ = s.run("shapes(size=16).take(1).save(dir)")
        let odd = ImageSaving.png([Float](repeating: 0.5, count: 20 * 20 * 3), side: 20)
        s.write("odd.png", odd)
        s.write("bad.png", Data("GIF89a, not a png".utf8))
        let meta = s.path + "/metadata.jsonl"
        let cases = [
            ("{\"file_name\": \"0000.png\", \"text\": \"ok\"}\n{\"file_name\": \"odd.png\", \"text\": \"x\"}",
             "\(meta):2: odd.png is 20×20; images must be 16×16 or a multiple of it (averaged down)"),
            ("{\"file_name\": \"bad.png\", \"text\": \"x\"}", "\(meta):1: bad.png: not a PNG file (it does not start with the PNG signature)"),
            ("{\"file_name\": \"0000.png\", \"text\": \"ok\"}\n{\"file_name\": \"0000.png\", \"text\": 3}", "\(meta):2: \"text\" must be a string"),
        ]
        for (metadata, message) in cases {
            s.write("metadata.jsonl", Data(metadata.utf8))
            let r = s.run("data = images(dir)")
            #expect(r.failure == .runtime)
            #expect(firstError(r) == "1:8: \(message)")
        }
        #expect(firstError(s.run("data = images(dir + \"/nowhere\")")).hasSuffix("nowhere has no metadata.jsonl (one line per image: {\"file_name\": \"cat.png\", \"text\": \"a cat\"})"))
    }

    @Test func textLoadsCorporaAndReportsBadLines() {
        let s = Scratch()
        s.write("notes.txt", Data("one document\nstill one\n\nanother\n".utf8))
        s.write("notes.jsonl", Data("{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"txt\": \"c\"}\n".utf8))
        #expect(printedText("notes = text(dir + \"/notes.txt\")\nprint(notes.count, notes.size, notes.take(2).count)", in: s.session) == "2 None 2")
        let r = s.run("lines = text(dir + \"/notes.jsonl\")")
        #expect(firstError(r) == "1:9: \(s.path)/notes.jsonl:3: no \"text\" field")
    }

    @Test func mixturesCombineDatasetsByWeight() {
        let s = Scratch()
        s.write("notes.txt", Data("words\n".utf8))
        #expect(printedText("mix = mixture(shapes(size=16), text(dir + \"/notes.txt\"), weights=[3, 1])\nprint(mix)", in: s.session)
                == "mixture of shapes(size=16) (75%); notes.txt: 1 documents, 5 bytes (25%)")
        #expect(firstError(s.run("mixture(shapes(), 3)")) == "1:1: mixture: argument 2 must be a dataset, not 'int'")
        #expect(firstError(s.run("mixture(shapes(), shapes(), weights=[1])")) == "1:1: a mixture of 2 datasets needs 2 weights, got 1")
        #expect(firstError(s.run("mixture(shapes(size=16), shapes(size=32))")) == "1:1: a mixture's images must share one size; these are 16×16, 32×32")
    }

    @Test func trainTakesAnyDatasetAndEvaluatesOnHeldOutData() throws {
        let s = Scratch()
        s.write("notes.txt", Data("the cat sat\n\na dog ran\n\nbirds sing\n".utf8))
        let r = s.run("""
            \(Self.tinyModel)
            shapes(size=16, seed=2).take(12).save(dir + "/folder")
            train_part, held = images(dir + "/folder").split(0.25)
            data = mixture(train_part, text(dir + "/notes.txt"), weights=[3, 1])
            run = train(m, data, steps=5, batch=2, eval_every=2, eval_batches=2, eval_data=held)
            print(run.steps, run.eval_steps, len(run.eval_lm), len(run.eval_diffusion), run.stopped_early)
            show(run)
            """)
        #expect(r.failure == nil, "\(errorText(r))")
        #expect(r.outputs.first == .text("5 [0, 2, 4, 5] 4 4 False"))
        guard case .svg(let svg, let caption)? = r.outputs.last else { Issue.record("no plot"); return }
        #expect(svg.contains("held-out LM") && svg.contains("held-out diffusion") && svg.contains(">LM<"))
        #expect(caption?.contains("held-out LM") == true)
        #expect(s.session.metrics.filter { $0.name == "eval_lm" }.map(\.step) == [0, 2, 4, 5])
        let text = s.run("run2 = train(m, text(dir + \"/notes.txt\"), steps=2, batch=2, eval_every=1)\nprint(run2.eval_diffusion)")
        #expect(text.outputs == [.text("[0.0, 0.0, 0.0]")])
    }

    @Test func trainRefusesWhatItCannotUse() {
        let s = Scratch()
        #expect(firstError(s.run("\(Self.tinyModel)\ntrain(m, 3)")) == "2:10: train: must be a dataset: shapes(...), images(...), text(...) or mixture(...)")
        #expect(firstError(s.run("\(Self.tinyModel)\ntrain(m, shapes(size=32))")).hasSuffix("the images of shapes(size=32) are 32×32; the model draws 16×16 images (transfusion(image=16))"))
        #expect(firstError(s.run("\(Self.tinyModel)\ntrain(m, shapes(), eval_every=1, eval_data=shapes(size=32))"))
            .hasSuffix("the images of shapes(size=32) are 32×32; the model draws 16×16 images (transfusion(image=16))"))
    }

    /// A number for lr is a constant rate (the same run as constant(rate), bit for bit); rates
    /// and the other training arguments are checked where they are written.
    @Test func aNumberForLRIsAConstantRateAndTrainingArgumentsAreChecked() {
        let s = Scratch()
        let r = s.run("""
            \(Self.tinyModel)
            a = train(m, shapes(size=16), steps=3, batch=2, lr=1e-3).loss
            \(Self.tinyModel)
            b = train(m, shapes(size=16), steps=3, batch=2, lr=constant(1e-3)).loss
            \(Self.tinyModel)
            c = train(m, shapes(size=16), steps=3, batch=2, lr=0).loss
            print(a == b, a[1:] != c[1:], len(a), a[0] == c[0])
            """)
        #expect(r.failure == nil, "\(errorText(r))")
        #expect(r.outputs == [.text("True True 3 True")])
        let train = "train(m, shapes(size=16), batch=2"   // every case fails before the first step
        for (arguments, message) in [
            ("lr=-1", "train: must be a finite learning rate ≥ 0, got -1.0"),
            ("lr=\"fast\"", "train: must be a number (a constant rate) or a schedule, e.g. 1e-3 or warmup(100) >> cosine(1e-3)"),
            ("lr=constant(-0.5)", "constant: must be a finite learning rate ≥ 0, got -0.5"),
            ("lr=cosine(1e-3, floor=2)", "cosine: must be a fraction of the peak in [0, 1], got 2.0"),
            ("lr=warmup(10) >> cosine(-1)", "cosine: must be a finite learning rate ≥ 0, got -1.0"),
            ("save_every=5", "train: periodic saves need checkpoint=\"runs/NAME.safetensors\" (they are written next to it)"),
            ("save_minutes=10", "train: periodic saves need checkpoint=\"runs/NAME.safetensors\" (they are written next to it)"),
            ("save_minutes=-1", "train: must be a number of minutes ≥ 0, got -1.0"),
            ("save_every=-1", "train: must be from 0 to 1000000000, got -1"),
            ("keep=0", "train: 'keep' must be positive, got 0"),
            ("on_nonfinite=\"ignore\"", "train: must be 'stop' or 'skip', not 'ignore'"),
            ("clip=0", "train: must be a positive gradient norm (or None for no clipping), got 0.0"),
            ("steps=2000000000", "train: 'steps' must be at most 1000000000, got 2000000000"),
            ("eval_every=-2", "train: must be from 0 to 1000000000, got -2"),
            ("resume=\"latest\"", "train: resume=\"latest\" continues the run of checkpoint=...: give checkpoint= too"),
            ("resume=dir", "train: the folder \(s.path) holds no tfs training checkpoint"),
        ] {
            let error = firstError(s.run("\(Self.tinyModel)\n\(train), \(arguments))"))
            #expect(error.hasPrefix("2:") && error.hasSuffix(": " + message), "\(arguments): \(error)")
        }
    }

    /// save_minutes: an interval shorter than a step saves after every step but the last (whose
    /// state is the final file's); keep=2 leaves the newest two step-numbered files.
    @Test func timedSavesKeepTheNewestAndTheFinalFileHoldsTheLastStep() throws {
        let s = Scratch()
        let r = s.run("\(Self.tinyModel)\nrun = train(m, shapes(size=16), steps=5, batch=2, checkpoint=dir + \"/t/x.safetensors\", save_minutes=1e-9, keep=2)")
        #expect(r.failure == nil, "\(errorText(r))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.path + "/t").sorted()
                == ["x.safetensors", "x.step-00000003.safetensors", "x.step-00000004.safetensors"])
        #expect(try Safetensors.readMetadata(path: s.path + "/t/x.safetensors")["step"] == "5")
        #expect(try Safetensors.readMetadata(path: s.path + "/t/x.step-00000004.safetensors")["step"] == "4")
    }

    /// Ctrl-C during a held-out evaluation inside the run stops it like Ctrl-C between steps:
    /// the checkpoint of the steps done is written.
    @Test func ctrlCDuringAnEvaluationStopsTheRunAndSaves() throws {
        let s = Scratch(), path = s.path + "/eval.safetensors", flag = InterruptFlag()
        guard let made = try s.loop(steps: 8, evalEvery: 1, heldOut: 2, series: CheckpointSeries(path: path), flag: flag) else { return }
        let trainer = made.0; var loop = made.1
        trainer.cancellation = flag.cancellation
        loop.afterStep = { if $0.step == 2 { flag.raise() } }   // the evaluation after step 2 sees it
        let run = try loop.run(record: { _ in })
        #expect(run.stoppedEarly && trainer.step == 2 && trainer.evaluations.map(\.step) == [0, 1])
        #expect(try Safetensors.readMetadata(path: path)["step"] == "2")
    }

    /// minutes= ends the run when the clock runs out, before its steps: no step starts after
    /// the budget, the held-out losses of the final weights are measured, and the run says
    /// where it stopped and at what point of its schedule (which stays laid over `steps`).
    @Test func aTimeBudgetEndsTheRunBeforeItsSteps() throws {
        let s = Scratch()
        guard let made = try s.loop(steps: 50, evalEvery: 20, heldOut: 1, series: nil, flag: InterruptFlag()) else { return }
        let trainer = made.0; var loop = made.1
        loop.budgetSeconds = 0.2
        loop.afterStep = { _ in Thread.sleep(forTimeInterval: 0.05) }   // at most 4 or 5 steps fit
        let run = try loop.run(record: { _ in })
        #expect(run.outOfTime && !run.stoppedEarly && (1...5).contains(trainer.step), "\(trainer.step) steps")
        #expect(run.seconds >= 0.2 && run.seconds < 5, "\(run.seconds) s")   // the steps' sleeps fill the budget
        #expect(trainer.evaluations.map(\.step) == [0, trainer.step])
        let lr = String(format: "%.3g", trainer.options.lr.rate(trainer.step, total: 50))
        #expect(run.description.hasPrefix("run(\(trainer.step) of 50 steps in the 0.00333333-minute budget (the lr schedule spans 50 steps; it stopped at lr \(lr)), loss "), "\(run.description)")

        let roomy = s.run("\(Self.tinyModel)\nrun = train(m, shapes(size=16), steps=3, batch=2, minutes=10)\nprint(run.steps, run.out_of_time)")
        #expect(roomy.failure == nil && roomy.outputs.first == .text("3 False"), "\(errorText(roomy))")
        let vae = s.run("""
            v = vae(width=4)
            short = train_vae(v, shapes(size=8), steps=100000, batch=2, minutes=0.002)
            full = train_vae(v, shapes(size=8), steps=2, batch=2, minutes=5)
            print(short.out_of_time, 0 < short.steps and short.steps < 100000, short.seconds >= 0.12, full.out_of_time, full.steps, full.seconds > 0)
            print(str(short).startswith("vae_run(" + str(short.steps) + " of 100000 steps in its time budget"))
            """)
        #expect(vae.failure == nil && vae.outputs == [.text("True True True False 2 True\nTrue")], "\(errorText(vae)) \(vae.outputs)")
        let bad = s.run("\(Self.tinyModel)\ntrain(m, shapes(size=16), steps=3, batch=2, minutes=0)")
        #expect(errorText(bad).contains("error: train: must be a number of minutes > 0 (or None for no limit), got 0.0"), "\(errorText(bad))")
    }

    /// Ctrl-C mid-run: the loop stops at a step boundary, writes the checkpoint and says it
    /// stopped early; `train(..., resume=)` then finishes the run step for step as if it had
    /// never stopped.
    @Test func ctrlCWritesTheCheckpointAndTheRunResumes() throws {
        let s = Scratch(), path = s.path + "/ckpt.safetensors"
        let straight = s.run("\(Self.tinyModel)\nstraight = train(m, shapes(size=16), steps=8, batch=2)")
        #expect(straight.failure == nil, "\(errorText(straight))")

        _ = s.run("\(Self.tinyModel)")   // a fresh model with the same seed
        guard case .object(let o)? = s.session.interpreter.global("m"), let model = o as? ModelValue else { Issue.record("no model"); return }
        var options = Trainer.Options()
        options.steps = 8; options.batch = 2; options.loss = model.loss   // train()'s defaults otherwise
        let trainer = try Trainer(model: model.model, data: Shapes(side: 16), options: options)
        let flag = InterruptFlag()
        var loop = TrainingLoop(trainer: trainer, steps: 8, evalEvery: 0, series: CheckpointSeries(path: path), interrupt: flag,
                                progress: Progress(total: 8, every: 100, tokensPerStep: 1))
        loop.afterStep = { if $0.step == 3 { flag.raise() } }
        let run = try loop.run(record: { _ in })
        #expect(run.stoppedEarly && trainer.step == 3)
        #expect(run.description.hasPrefix("run(stopped early at step 3 of 8, loss "))
        #expect(run.description.hasSuffix("checkpoint \(path))"))
        #expect(FileManager.default.fileExists(atPath: path))

        let resumed = s.run("""
            \(Self.tinyModel)
            rest = train(m, shapes(size=16), steps=8, batch=2, resume="\(path)")
            """)
        #expect(resumed.failure == nil, "\(errorText(resumed))")
        func history(_ name: String) -> [Trainer.Record] {
            guard case .object(let o)? = s.session.interpreter.global(name), let run = o as? RunValue else { return [] }
            return run.trainer.history
        }
        #expect(history("straight").count == 8)
        #expect(trainer.history + history("rest") == history("straight"))
    }
}
