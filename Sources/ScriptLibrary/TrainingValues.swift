import Script
import Foundation
import TensorGraph
import Transfusion
import Visual

/// Learning-rate schedules in the language: `warmup(100) >> cosine(3e-4)`.
final class ScheduleValue: ScriptObject {
    let schedule: LRSchedule
    init(_ schedule: LRSchedule) { self.schedule = schedule }
    static let type = ValueType("schedule", help: "A learning-rate schedule (constant, warmup, cosine, linear), chained with >>.")
    var description: String { schedule.description }
    func binary(_ op: BinaryOperator, _ other: Value, reversed: Bool) throws -> Value? {
        guard op == .shiftRight, case .object(let o) = other, let rhs = o as? ScheduleValue else { return nil }
        return .object(ScheduleValue(reversed ? rhs.schedule >> schedule : schedule >> rhs.schedule))
    }
}

/// The loss terms of a script, `lm` and `diffusion`, and what `+` and `*` make of them.
final class LossValue: ScriptObject {
    let weights: LossWeights
    init(_ weights: LossWeights) { self.weights = weights }
    static let type = ValueType("loss", help: "A weighted sum of the loss terms lm and diffusion, written lm + 5 * diffusion.")
    var description: String { weights.description }

    func binary(_ op: BinaryOperator, _ other: Value, reversed: Bool) throws -> Value? {
        switch (op, other) {
        case (.add, .object(let o)):
            guard let rhs = o as? LossValue else { return nil }
            let (a, b) = reversed ? (rhs.weights, weights) : (weights, rhs.weights)
            var terms = a.terms
            for t in b.terms {
                if let i = terms.firstIndex(where: { $0.name == t.name }) { terms[i].weight += t.weight } else { terms.append(t) }
            }
            return .object(LossValue(LossWeights(lm: a.lm + b.lm, diffusion: a.diffusion + b.diffusion, terms: terms)))
        case (.multiply, .int(let k)): return scaled(Float(k))
        case (.multiply, .float(let k)): return scaled(Float(k))
        default: return nil
        }
    }
    private func scaled(_ k: Float) -> Value {
        .object(LossValue(LossWeights(lm: weights.lm * k, diffusion: weights.diffusion * k,
                                      terms: weights.terms.map { var t = $0; t.weight *= k; return t })))
    }
}

/// The result of `train(...)`: loss curves (plot them), held-out evaluations, and the
/// trainer to go on with.
final class RunValue: ScriptObject {
    let trainer: Trainer
    /// The step count asked for, and whether Ctrl-C stopped the run before it.
    let target: Int
    let stoppedEarly: Bool
    let checkpoint: String?
    /// The wall-clock budget in minutes (`minutes=`), and whether it ended the run before `target`.
    let minutes: Double?
    let outOfTime: Bool
    /// The run's wall-clock seconds (its steps, evaluations and saves).
    let seconds: Double

    init(_ trainer: Trainer, target: Int? = nil, stoppedEarly: Bool = false, checkpoint: String? = nil,
         minutes: Double? = nil, outOfTime: Bool = false, seconds: Double = 0) {
        self.trainer = trainer; self.target = target ?? trainer.step
        self.stoppedEarly = stoppedEarly; self.checkpoint = checkpoint
        self.minutes = minutes; self.outOfTime = outOfTime; self.seconds = seconds
    }

    static let type: ValueType = {
        let m = Members<RunValue>("run")
        func curve(_ k: KeyPath<Trainer.Record, Float>) -> (RunValue) -> Value {
            { run in .list(ListRef(run.trainer.history.map { .float(Double($0[keyPath: k])) })) }
        }
        return ValueType("run", help: "What train(...) returns: the loss curves, held-out evaluations and the trainer; shows as a plot.", fields: [
            m.field("loss", "The total loss at each step.", curve(\.total)),
            m.field("lm", "The LM loss at each step.", curve(\.lm)),
            m.field("diffusion", "The diffusion loss at each step.", curve(\.diffusion)),
            m.field("steps", "How many steps the model has been trained.") { .int($0.trainer.step) },
            m.field("eval_lm", "The held-out LM loss at each evaluation.") { .list(ListRef($0.trainer.evaluations.map { .float(Double($0.lm)) })) },
            m.field("eval_diffusion", "The held-out diffusion loss at each evaluation.") { .list(ListRef($0.trainer.evaluations.map { .float(Double($0.diffusion)) })) },
            m.field("eval_steps", "The step of each evaluation.") { .list(ListRef($0.trainer.evaluations.map { .int($0.step) })) },
            m.field("stopped_early", "Whether Ctrl-C, SIGTERM or the divergence guard stopped it before its last step.") { .bool($0.stoppedEarly) },
            m.field("skipped", "How many steps on_nonfinite=\"skip\" skipped.") { .int($0.trainer.skippedSteps) },
            m.field("out_of_time", "Whether the minutes= budget ended the run before its steps (its lr schedule, laid over the steps, was cut there).") { .bool($0.outOfTime) },
            m.field("seconds", "The run's wall-clock time in seconds (steps, held-out evaluations and saves).") { .float($0.seconds) },
            m.field("terms", "Each script loss term's value at each step (unweighted), a dict by name.") { run in
                .dict(DictRef(run.trainer.options.loss.terms.enumerated().map { i, term in
                    (term.name, .list(ListRef(run.trainer.history.map { .float(Double($0.extra[i])) })))
                }))
            },
        ])
    }()

    var description: String {
        var parts = [stoppedEarly ? "stopped early at step \(trainer.step) of \(target)" : "\(trainer.step) steps"]
        if outOfTime, let minutes {
            parts[0] = "\(trainer.step) of \(target) steps in the \(Self.format(minutes))-minute budget (the lr schedule spans \(target) steps; it stopped at lr \(String(format: "%.3g", trainer.options.lr.rate(trainer.step, total: target))))"
        }
        if let last = trainer.history.last {
            parts.append(String(format: "loss %.4f: LM %.4f, diffusion %.4f", last.total, last.lm, last.diffusion))
        }
        if let e = trainer.evaluations.last {
            parts.append(String(format: "held-out LM %.4f, diffusion %.4f", e.lm, e.diffusion))
        }
        if trainer.skippedSteps > 0 { parts.append("\(trainer.skippedSteps) non-finite steps skipped") }
        if let checkpoint, stoppedEarly { parts.append("checkpoint \(checkpoint)") }
        return "run(" + parts.joined(separator: ", ") + ")"
    }
    static func format(_ minutes: Double) -> String { minutes == minutes.rounded() ? String(Int(minutes)) : String(format: "%g", minutes) }

    /// Training curves against the step, and the held-out losses at the steps they were
    /// measured (x = steps done, so an evaluation sits on the training loss of the same weights).
    func output() throws -> Output? {
        let first = trainer.history.first?.step ?? trainer.evaluations.first?.step ?? 0
        let width = max(trainer.history.count, (trainer.evaluations.map(\.step).max() ?? 0) - first + 1)
        func series(_ points: [(step: Int, value: Float)]) -> [Double] {
            var values = [Double](repeating: .nan, count: width)
            for p in points where (0..<width).contains(p.step - first) { values[p.step - first] = Double(p.value) }
            return values
        }
        var lines = [("LM", series(trainer.history.map { ($0.step, $0.lm) })),
                     ("diffusion", series(trainer.history.map { ($0.step, $0.diffusion) }))]
        if !trainer.evaluations.isEmpty {
            lines += [("held-out LM", series(trainer.evaluations.map { ($0.step, $0.lm) })),
                      ("held-out diffusion", series(trainer.evaluations.map { ($0.step, $0.diffusion) }))]
        }
        return .svg(LinePlot.svg(lines, title: "training losses", yLabel: "loss", firstStep: first), caption: description)
    }
}

/// The result of `profile(...)`: milliseconds per kind of kernel in one training step.
final class ProfileValue: ScriptObject {
    let kernels: [(name: String, ms: Double, calls: Int)]
    let tokens: Int
    init(_ kernels: [(name: String, ms: Double, calls: Int)], tokens: Int) { self.kernels = kernels; self.tokens = tokens }

    var total: Double { kernels.reduce(0) { $0 + $1.ms } }
    static let type: ValueType = {
        let m = Members<ProfileValue>("profile")
        return ValueType("profile", help: "What profile(...) returns: milliseconds per kind of kernel in one training step.", fields: [
            m.field("total", "Milliseconds of one step, forward and backward.") { .float($0.total) },
            m.field("kernels", "(name, ms, calls) for each kind of kernel, the costliest first.") { p in
                .list(ListRef(p.kernels.map { .tuple([.string($0.name), .float($0.ms), .int($0.calls)]) }))
            },
        ])
    }()
    var description: String {
        var lines = [String(format: "profile: %.1f ms a step forward and backward (%.0f tokens/s without the update)",
                            total, Double(tokens) / total * 1e3)]
        let width = max(6, kernels.map(\.name.count).max() ?? 0)
        lines.append("  " + "kernel".padding(toLength: width, withPad: " ", startingAt: 0) + "        ms  share  calls")
        for k in kernels {
            lines.append("  " + k.name.padding(toLength: width, withPad: " ", startingAt: 0)
                         + String(format: " %9.2f  %4.0f%%  %5d", k.ms, 100 * k.ms / max(total, 1e-9), k.calls))
        }
        return lines.joined(separator: "\n")
    }
}

/// The loop of `train`: steps until the run is done or Ctrl-C/SIGTERM raises the interrupt flag
/// (checked at each step boundary, so a step is never cut in half), held-out evaluations on
/// schedule, periodic checkpoints, and the checkpoint — written however the loop ended, unless
/// the run diverged (then the last good checkpoint stays as it is).
struct TrainingLoop {
    let trainer: Trainer
    let steps: Int
    /// Evaluate before the first step, every `evalEvery` steps and after the last; 0: never.
    let evalEvery: Int
    /// The run's checkpoints (nil: none are written).
    let series: CheckpointSeries?
    /// Periodic checkpoints every `saveEvery` steps and every `saveSeconds` seconds (0: never).
    var saveEvery = 0, saveSeconds = 0.0
    /// The wall-clock budget in seconds (nil: none): no step starts once it is spent, so a run
    /// ends at most one step (and its evaluation) after it. The learning-rate schedule stays
    /// laid over `steps`.
    var budgetSeconds: Double?
    let interrupt: InterruptFlag
    let progress: Progress
    /// Called after each step (tests raise the interrupt flag here).
    var afterStep: (Trainer) -> Void = { _ in }

    var checkpoint: String? { series?.path }

    func run(record: (Metric) -> Void) throws -> RunValue {
        func evaluate() throws {
            let e = try trainer.evaluate()
            record(Metric(name: "eval_lm", value: Double(e.lm), step: e.step))
            record(Metric(name: "eval_diffusion", value: Double(e.diffusion), step: e.step))
        }
        var stoppedEarly = false, outOfTime = false, lastSave = Date(), evaluatedAt = -1
        let start = Date()
        do {
            if evalEvery > 0 { try evaluate(); evaluatedAt = trainer.step }
            while trainer.step < steps {
                if interrupt.isRaised { stoppedEarly = true; break }
                if let budgetSeconds, Date().timeIntervalSince(start) >= budgetSeconds {
                    outOfTime = true
                    // The held-out losses of the weights the run ends with.
                    if evalEvery > 0 && evaluatedAt != trainer.step { try evaluate() }
                    break
                }
                let skipped = trainer.skippedSteps
                let r = try trainer.trainStep()
                progress.update(step: r.step, lm: r.lm, diffusion: r.diffusion,
                                extra: zip(trainer.options.loss.terms.map(\.name), r.extra).map { ($0, $1) })
                if trainer.skippedSteps > skipped {
                    progress.note("train: step \(r.step + 1) had a non-finite loss or gradient (\(r.summary)); its update was skipped (\(trainer.skippedSteps) skipped so far)")
                }
                afterStep(trainer)
                if evalEvery > 0 && (trainer.step % evalEvery == 0 || trainer.step == steps) { try evaluate(); evaluatedAt = trainer.step }
                // The last step's state is the final checkpoint's.
                if let series, trainer.step < steps,
                   (saveEvery > 0 && trainer.step % saveEvery == 0) || (saveSeconds > 0 && Date().timeIntervalSince(lastSave) >= saveSeconds) {
                    try save { _ = try series.savePeriodic(step: trainer.step) { try trainer.save($0) } }
                    lastSave = Date()
                }
            }
        } catch is Cancelled {
            stoppedEarly = true   // Ctrl-C during a held-out evaluation: the training state is whole
        } catch let divergence as Trainer.Divergence {
            progress.finish(stoppedAt: trainer.step)
            throw TensorGraphError("\(divergence). \(kept())")
        }
        progress.finish(stoppedAt: trainer.step)
        if let series { try save { try trainer.save(series.path) } }
        return RunValue(trainer, target: steps, stoppedEarly: stoppedEarly, checkpoint: checkpoint,
                        minutes: budgetSeconds.map { $0 / 60 }, outOfTime: outOfTime, seconds: Date().timeIntervalSince(start))
    }

    /// Saves with `write`; a failure names the step, what failed, and the checkpoint that is
    /// still intact.
    private func save(_ write: () throws -> Void) throws {
        do { try write() } catch let error as TensorGraphError {
            throw TensorGraphError("could not save the checkpoint after step \(trainer.step): \(error.message). \(kept())")
        }
    }

    /// Which checkpoint a stopped run leaves.
    private func kept() -> String {
        guard let series else { return "No checkpoint was written (checkpoint= and save_every= keep one)" }
        guard let last = series.latest() else { return "No checkpoint of \(series.path) was written yet" }
        return "The last good checkpoint, \(last.path) (step \(last.step)), is kept"
    }
}

enum TrainingBuiltins {
    /// The trainer's options from `train`'s arguments.
    static func trainingOptions(_ a: Arguments, model: TransfusionModel, loss: LossWeights) throws -> Trainer.Options {
        var options = try batchOptions(a, model: model, loss: loss)
        options.steps = try a.size("steps", atMost: maxSteps)
        // The recipe sets the order and the cap; image_first= and caption_noise= given in the
        // call override it.
        let recipe: (imageFirst: Double, captionStepCap: Int)
        switch try a.string("recipe") {
        case "both": recipe = ExamplePolicy.both
        case "paper": recipe = ExamplePolicy.paper
        case let other: throw a.error("recipe", "must be 'both' (the default) or 'paper', not '\(other)'")
        }
        options.imageFirst = a.passed("image_first") ? try probability(a, "image_first") : recipe.imageFirst
        options.conditionDropout = try probability(a, "cfg_dropout")
        if !a.passed("caption_noise") {
            options.captionStepCap = recipe.captionStepCap
        } else if let cap = try a.optionalInt("caption_noise") {
            guard cap >= 0 else { throw a.error("caption_noise", "caption_noise must be a diffusion step ≥ 0 (or None for no limit), got \(cap)") }
            options.captionStepCap = cap
        } else {
            options.captionStepCap = Int.max
        }
        switch a["lr"] {
        case .none: break
        case .int, .float: options.lr = .constant(try rate(a, "lr"))
        case .object(let o as ScheduleValue): options.lr = o.schedule
        default: throw a.error("lr", "must be a number (a constant rate) or a schedule, e.g. 1e-3 or warmup(100) >> cosine(1e-3)")
        }
        if let clip = try a.optionalDouble("clip") {
            guard clip.isFinite && clip > 0 else { throw a.error("clip", "must be a positive gradient norm (or None for no clipping), got \(clip)") }
            options.clip = Float(clip)
        } else {
            options.clip = nil
        }
        guard let policy = Trainer.NonFinitePolicy(rawValue: try a.string("on_nonfinite")) else {
            throw a.error("on_nonfinite", "must be 'stop' or 'skip', not '\(try a.string("on_nonfinite"))'")
        }
        options.onNonFinite = policy
        return options
    }

    /// A learning rate: a finite number ≥ 0.
    static func rate(_ a: Arguments, _ p: String) throws -> Double {
        let r = try a.double(p)
        guard r.isFinite && r >= 0 else { throw a.error(p, "must be a finite learning rate ≥ 0, got \(r)") }
        return r
    }

    /// A count argument that may be 0 (for "never"), bounded like a run's steps.
    /// A `minutes=` wall-clock budget (train, train_vae): minutes > 0, or None for no limit.
    static func minutesBudget(_ a: Arguments) throws -> Double? {
        let budget = try a.optionalDouble("minutes")
        if let budget, !(budget.isFinite && budget > 0) { throw a.error("minutes", "must be a number of minutes > 0 (or None for no limit), got \(budget)") }
        return budget
    }
    static func count(_ a: Arguments, _ p: String) throws -> Int {
        let n = try a.int(p)
        guard (0...maxSteps).contains(n) else { throw a.error(p, "must be from 0 to \(maxSteps), got \(n)") }
        return n
    }

    static let maxSteps = 1_000_000_000

    /// Where `resume=` continues from: a checkpoint file, the newest checkpoint in a folder, or
    /// with "latest" the newest of the run's own (nil when it has none yet: a fresh start).
    static func resumePath(_ a: Arguments, checkpoint: String?) throws -> String? {
        guard let resume = try a.optionalPath("resume") else { return nil }
        if resume == "latest" {
            guard let checkpoint else { throw a.error("resume", "resume=\"latest\" continues the run of checkpoint=...: give checkpoint= too") }
            return CheckpointSeries(path: checkpoint).latest()?.path
        }
        var folder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resume, isDirectory: &folder), folder.boolValue else { return resume }
        guard let newest = CheckpointSeries.newest(inFolder: resume) else {
            throw a.error("resume", "the folder \(resume) holds no tfs training checkpoint")
        }
        return newest.path
    }

    /// What train and profile share: the batch, its rows' length, the model's patches and loss, the seed.
    static func batchOptions(_ a: Arguments, model: TransfusionModel, loss: LossWeights) throws -> Trainer.Options {
        var options = Trainer.Options()
        options.batch = try a.size("batch"); options.length = try a.size("length")
        options.patch = model.config.patchSide ?? options.patch   // the model's patches, as transfusion(patch=) set them
        options.loss = loss; options.seed = UInt64(max(0, try a.int("seed")))
        return options
    }

    static func probability(_ a: Arguments, _ p: String) throws -> Double {
        let v = try a.double(p)
        guard (0...1).contains(v) else { throw a.error(p, "must be a probability in [0, 1], got \(v)") }
        return v
    }

    /// `model` and `data` of train and profile; a latent model sees its VAE's encodings.
    static func modelAndData(_ a: Arguments) throws -> (ModelValue, any Dataset) {
        guard case .object(let mo) = a["model"], let model = mo as? ModelValue else { throw a.error("model", "must be a model from transfusion(...)") }
        let pixels = try DatasetBuiltins.dataset(a, "data")
        let data = try model.vae.map { vae in try RuntimeError.located { try LatentDataset(pixels, vae: vae) } } ?? pixels
        return (model, data)
    }

    /// The trainer's defaults, which train's signature shows (one place for both).
    static let defaults = Trainer.Options()

    static let all: [Builtin] = [
        Builtin("warmup", "steps", help: "LR schedule: a linear warmup over `steps`, into the schedule after >>.",
                example: "warmup(100) >> cosine(3e-4)") { a in .object(ScheduleValue(.warmup(steps: try a.size("steps")))) },
        Builtin("cosine", "peak, floor=0.05", help: "LR schedule: cosine decay from `peak` to floor·peak over the rest of the run.",
                example: "cosine(1e-3)") { a in
            let floor = try a.double("floor")
            guard (0...1).contains(floor) else { throw a.error("floor", "must be a fraction of the peak in [0, 1], got \(floor)") }
            return .object(ScheduleValue(.cosine(peak: try rate(a, "peak"), floor: floor)))
        },
        Builtin("constant", "rate", help: "LR schedule: the same rate throughout.",
                example: "constant(1e-3)") { a in .object(ScheduleValue(.constant(try rate(a, "rate")))) },
        Builtin("train", "model, data, steps=\(defaults.steps), batch=\(defaults.batch), length=\(defaults.length), lr=None, seed=\(defaults.seed), minutes=None, checkpoint=None, resume=None, save_every=0, save_minutes=0, keep=3, on_nonfinite='stop', clip=1.0, every=0, eval_every=0, eval_batches=2, eval_data=None, recipe='both', image_first=\(defaults.imageFirst), caption_noise=\(defaults.captionStepCap), cfg_dropout=\(defaults.conditionDropout)",
                help: "Trains model on a dataset (shapes, images, text or a mixture) with the model's loss (e.g. lm + 5 * diffusion) and returns the run. lr is a schedule (warmup(100) >> cosine(1e-3), the default) or a number for a constant rate. A captioned image comes before its caption (captioning) with probability image_first, its diffusion step then drawn from 0…caption_noise (None: no limit, 1…T like the others); otherwise after it, the caption dropped with probability cfg_dropout (for classifier-free guidance). recipe='both' (the default: image_first=0.5, caption_noise=200, which learns to caption real images as well as to draw them) or 'paper' (image_first=0.2, caption_noise=500, the paper's) sets those two; image_first= or caption_noise= given override it. minutes=M is a wall-clock budget beside steps: the run ends at whichever comes first (no step starts after M minutes), its lr schedule still laid over `steps` — so a run the clock ends has not finished its decay; the run says where it stopped and at what lr (run.out_of_time). It returns the run: its .loss, .lm and .diffusion curves, and with eval_every=N the held-out losses every N steps (.eval_lm, .eval_diffusion, .eval_steps) over eval_batches fixed batches of eval_data (default: fresh draws of data with another seed); show(run) plots them all. checkpoint=\"runs/x.safetensors\" saves there at the end and on Ctrl-C or SIGTERM (the run then says it stopped early); save_every=N steps and/or save_minutes=M also save runs/x.step-<step>.safetensors while it runs, keeping the newest `keep`. resume= continues exactly from a checkpoint file, the newest one in a folder, or with resume=\"latest\" the newest of checkpoint='s own (a fresh start when there is none yet). A step whose loss or gradient norm is NaN or infinite stops the run with an error and keeps the last good checkpoint; on_nonfinite=\"skip\" skips that step's update instead (counted in run.skipped; 10 such steps in a row stop the run). clip is the gradient norm AdamW clips to (None: no clipping).",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nrun = train(m, shapes(size=16), steps=3, batch=2, lr=1e-3, eval_every=2)\nprint(run.steps, run.eval_steps)") { a in
            let (model, data) = try modelAndData(a)
            let options = try trainingOptions(a, model: model.model, loss: model.loss)
            let checkpoint = try a.optionalPath("checkpoint")
            let saveEvery = try count(a, "save_every"), minutes = try a.double("save_minutes"), keep = try a.size("keep")
            guard minutes.isFinite && minutes >= 0 else { throw a.error("save_minutes", "must be a number of minutes ≥ 0, got \(minutes)") }
            for p in ["save_every", "save_minutes"] where checkpoint == nil && (p == "save_every" ? saveEvery > 0 : minutes > 0) {
                throw a.error(p, "periodic saves need checkpoint=\"runs/NAME.safetensors\" (they are written next to it)")
            }
            let budget = try minutesBudget(a)
            let trainer = try RuntimeError.located { try Trainer(model: model.model, data: data, options: options) }
            let flag = a.interpreter.interruptFlag
            trainer.cancellation = flag.cancellation
            let every = try count(a, "every") > 0 ? try a.int("every") : max(1, options.steps / 10)
            let progress = Progress(total: options.steps, every: every, tokensPerStep: options.batch * options.length)
            if data.imageChannels == 1 && model.pixelChannels == 3 && model.vae == nil && model.model.config.codebook == nil {
                progress.note("train: the images of \(data) are gray; transfusion(..., channels=1) models them with one value per pixel and draws gray (this model draws RGB)")
            }
            if let path = try resumePath(a, checkpoint: checkpoint) {
                try RuntimeError.located { try trainer.resume(from: path) }
                progress.note("train: resuming from \(path) at step \(trainer.step)")
            } else if try a.optionalPath("resume") == "latest" {
                progress.note("train: no checkpoint of \(checkpoint ?? "") yet; starting at step 0")
            }
            let evalEvery = try count(a, "eval_every")
            if evalEvery > 0 {
                let heldOut = try a.has("eval_data") ? DatasetBuiltins.dataset(a, "eval_data") : nil
                let batches = try a.size("eval_batches", atMost: 1024)   // drawn once and kept
                try RuntimeError.located { try trainer.holdOut(heldOut, batches: batches) }
            }
            // A checkpoint that cannot be written fails now, not after the run.
            if let checkpoint { try RuntimeError.located { try Safetensors.checkWritable(checkpoint) } }
            var loop = TrainingLoop(trainer: trainer, steps: options.steps, evalEvery: evalEvery,
                                    series: checkpoint.map { CheckpointSeries(path: $0, keep: keep) },
                                    interrupt: flag, progress: progress)
            loop.saveEvery = saveEvery; loop.saveSeconds = minutes * 60; loop.budgetSeconds = budget.map { $0 * 60 }
            let run = try RuntimeError.located { try loop.run(record: a.interpreter.record) }
            if run.outOfTime {
                a.interpreter.write("train: the \(RunValue.format(budget ?? 0))-minute budget ended the run at step \(trainer.step) of \(options.steps); the lr schedule spans \(options.steps) steps, so it stopped at lr \(String(format: "%.3g", options.lr.rate(trainer.step, total: options.steps)))\n")
            }
            if a.interpreter.documentsProgress {
                a.interpreter.write(progress.summary(done: trainer.step, last: trainer.history.last,
                                                     extraNames: options.loss.terms.map(\.name)) + "\n")
                if let curves = try run.output() { a.interpreter.emit(curves) }
            }
            if run.stoppedEarly {
                a.interpreter.write("train: stopped early at step \(trainer.step) of \(options.steps)" +
                                    (run.checkpoint.map { "; checkpoint written to \($0)\n" } ?? "; no checkpoint= was given\n"))
            }
            return .object(run)
        },
        Builtin("profile", "model, data, batch=\(defaults.batch), length=\(defaults.length), runs=3, seed=\(defaults.seed)",
                help: "Where a training step's time goes: one batch of data (as train(model, data, batch=, length=) would draw it) run forward and backward `runs` times, each kind of kernel timed (matrix products, attention, convolutions, fused elementwise kernels). The model's weights are not changed. Print it for a table; .total is the step's milliseconds, .kernels a list of (name, ms, calls).",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nprint(profile(m, shapes(size=16), batch=2, runs=1).total > 0)") { a in
            let (model, data) = try modelAndData(a)
            let options = try batchOptions(a, model: model.model, loss: model.loss)
            let runs = try a.size("runs")
            let trainer = try RuntimeError.located { try Trainer(model: model.model, data: data, options: options) }
            let kernels = try RuntimeError.located { try trainer.profile(runs: runs) }
            return .object(ProfileValue(kernels.map { ($0.kernel, $0.seconds * 1e3, $0.calls) }, tokens: options.batch * options.length))
        },
        Builtin("plot", "values, title='values', xlabel='step', ylabel=None, log=None",
                help: "Shows a line plot (SVG) of a list of numbers, or of a dict of named lists, and returns it (show(p) shows it again). The value axis is logarithmic with log=True, or by itself when positive values span more than 1.5 decades (log=False keeps it linear); a list with None between numbers (values measured at some steps only) is drawn as markers.",
                example: "plot([3, 2, 1.5, 1.2], title=\"loss\")\nplot({\"train\": [10, 3, 1, 0.3, 0.1], \"held-out\": [12, None, 1.5, None, 0.4]}, title=\"losses\", ylabel=\"loss\")") { a in
            var series: [(String, [Double])] = []
            func numbers(_ v: Value) throws -> [Double] {
                try (v.sequence ?? []).map { x -> Double in
                    switch x { case .int(let i): return Double(i); case .float(let d): return d; case .none: return .nan
                    default: throw a.error("values", "must hold numbers (or None), found \(x.typeName)") }
                }
            }
            if case .dict(let d) = a["values"] { for k in d.keys { series.append((k, try numbers(d[k] ?? .none))) } }
            else { series = [(try a.string("title"), try numbers(a["values"]))] }
            let title = try a.string("title")
            let log: Bool? = a.has("log") ? try a.bool("log") : nil
            let svg = LinePlot.svg(series, title: title, xLabel: try a.string("xlabel"), yLabel: try a.optionalString("ylabel"), log: log)
            return try FigureValue.show(.svg(svg, caption: title), title: title, a)
        },
    ]
}
