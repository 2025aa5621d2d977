import Foundation
import TensorGraph
import Transfusion
import Visual

/// Learning-rate schedules in the language: `warmup(100) >> cosine(3e-4)`.
final class ScheduleValue: ScriptObject {
    let schedule: LRSchedule
    init(_ schedule: LRSchedule) { self.schedule = schedule }
    var typeName: String { "schedule" }
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
    var typeName: String { "loss" }
    var description: String { weights.description }

    func binary(_ op: BinaryOperator, _ other: Value, reversed: Bool) throws -> Value? {
        switch (op, other) {
        case (.add, .object(let o)):
            guard let rhs = o as? LossValue else { return nil }
            return .object(LossValue(LossWeights(lm: weights.lm + rhs.weights.lm, diffusion: weights.diffusion + rhs.weights.diffusion)))
        case (.multiply, .int(let k)): return scaled(Float(k))
        case (.multiply, .float(let k)): return scaled(Float(k))
        default: return nil
        }
    }
    private func scaled(_ k: Float) -> Value {
        .object(LossValue(LossWeights(lm: weights.lm * k, diffusion: weights.diffusion * k)))
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

    init(_ trainer: Trainer, target: Int? = nil, stoppedEarly: Bool = false, checkpoint: String? = nil) {
        self.trainer = trainer; self.target = target ?? trainer.step
        self.stoppedEarly = stoppedEarly; self.checkpoint = checkpoint
    }

    var typeName: String { "run" }
    var description: String {
        var parts = [stoppedEarly ? "stopped early at step \(trainer.step) of \(target)" : "\(trainer.step) steps"]
        if let last = trainer.history.last {
            parts.append(String(format: "loss %.4f: LM %.4f, diffusion %.4f", last.total, last.lm, last.diffusion))
        }
        if let e = trainer.evaluations.last {
            parts.append(String(format: "held-out LM %.4f, diffusion %.4f", e.lm, e.diffusion))
        }
        if let checkpoint, stoppedEarly { parts.append("checkpoint \(checkpoint)") }
        return "run(" + parts.joined(separator: ", ") + ")"
    }
    var memberNames: [String] { ["loss", "lm", "diffusion", "steps", "eval_lm", "eval_diffusion", "eval_steps", "stopped_early"] }

    func member(_ name: String) throws -> Value? {
        func list<T>(_ items: [T], _ value: (T) -> Value) -> Value { .list(ListRef(items.map(value))) }
        func curve(_ k: KeyPath<Trainer.Record, Float>) -> Value { list(trainer.history) { .float(Double($0[keyPath: k])) } }
        switch name {
        case "loss": return curve(\.total)
        case "lm": return curve(\.lm)
        case "diffusion": return curve(\.diffusion)
        case "steps": return .int(trainer.step)
        case "eval_lm": return list(trainer.evaluations) { .float(Double($0.lm)) }
        case "eval_diffusion": return list(trainer.evaluations) { .float(Double($0.diffusion)) }
        case "eval_steps": return list(trainer.evaluations) { .int($0.step) }
        case "stopped_early": return .bool(stoppedEarly)
        default: return nil
        }
    }

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
        return .svg(LinePlot.svg(lines, title: "training losses"), caption: description)
    }
}

/// The result of `profile(...)`: milliseconds per kind of kernel in one training step.
final class ProfileValue: ScriptObject {
    let kernels: [(name: String, ms: Double, calls: Int)]
    let tokens: Int
    init(_ kernels: [(name: String, ms: Double, calls: Int)], tokens: Int) { self.kernels = kernels; self.tokens = tokens }

    var total: Double { kernels.reduce(0) { $0 + $1.ms } }
    var typeName: String { "profile" }
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
    var memberNames: [String] { ["total", "kernels"] }
    func member(_ name: String) throws -> Value? {
        switch name {
        case "total": return .float(total)
        case "kernels": return .list(ListRef(kernels.map { .tuple([.string($0.name), .float($0.ms), .int($0.calls)]) }))
        default: return nil
        }
    }
}

/// The loop of `train`: steps until the run is done or Ctrl-C raises the interrupt flag
/// (checked at each step boundary, so a step is never cut in half), held-out evaluations on
/// schedule, and the checkpoint — written however the loop ended.
struct TrainingLoop {
    let trainer: Trainer
    let steps: Int
    /// Evaluate before the first step, every `evalEvery` steps and after the last; 0: never.
    let evalEvery: Int
    let checkpoint: String?
    let interrupt: InterruptFlag
    let progress: Progress
    /// Called after each step (tests raise the interrupt flag here).
    var afterStep: (Trainer) -> Void = { _ in }

    func run(record: (Metric) -> Void) throws -> RunValue {
        func evaluate() throws {
            let e = try trainer.evaluate()
            record(Metric(name: "eval_lm", value: Double(e.lm), step: e.step))
            record(Metric(name: "eval_diffusion", value: Double(e.diffusion), step: e.step))
        }
        if evalEvery > 0 { try evaluate() }
        var stoppedEarly = false
        while trainer.step < steps {
            if interrupt.isRaised { stoppedEarly = true; break }
            let r = try trainer.trainStep()
            progress.update(step: r.step, lm: r.lm, diffusion: r.diffusion)
            afterStep(trainer)
            if evalEvery > 0 && (trainer.step % evalEvery == 0 || trainer.step == steps) { try evaluate() }
        }
        progress.finish(stoppedAt: trainer.step)
        if let checkpoint { try trainer.save(checkpoint) }
        return RunValue(trainer, target: steps, stoppedEarly: stoppedEarly, checkpoint: checkpoint)
    }
}

enum TrainingBuiltins {
    /// The trainer's options from `train`'s arguments.
    static func trainingOptions(_ a: Arguments, model: TransfusionModel, loss: LossWeights) throws -> Trainer.Options {
        var options = try batchOptions(a, model: model, loss: loss)
        options.steps = try a.size("steps")
        options.imageFirst = try probability(a, "image_first"); options.conditionDropout = try probability(a, "cfg_dropout")
        if let cap = try a.optionalInt("caption_noise") {
            guard cap >= 0 else { throw a.error("caption_noise", "caption_noise must be a diffusion step ≥ 0 (or None for no limit), got \(cap)") }
            options.captionStepCap = cap
        } else {
            options.captionStepCap = Int.max
        }
        if a.has("lr") {
            guard case .object(let o) = a["lr"], let s = o as? ScheduleValue else { throw a.error("lr", "must be a schedule, e.g. warmup(100) >> cosine(1e-3)") }
            options.lr = s.schedule
        }
        return options
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
        let data = try model.vae.map { vae in try MaskBuiltins.located { try LatentDataset(pixels, vae: vae) } } ?? pixels
        return (model, data)
    }

    static let all: [Builtin] = [
        Builtin("warmup", "steps", help: "LR schedule: a linear warmup over `steps`, into the schedule after >>.",
                example: "warmup(100) >> cosine(3e-4)") { a in .object(ScheduleValue(.warmup(steps: try a.size("steps")))) },
        Builtin("cosine", "peak, floor=0.05", help: "LR schedule: cosine decay from `peak` to floor·peak over the rest of the run.",
                example: "cosine(1e-3)") { a in .object(ScheduleValue(.cosine(peak: try a.double("peak"), floor: try a.double("floor")))) },
        Builtin("constant", "rate", help: "LR schedule: the same rate throughout.",
                example: "constant(1e-3)") { a in .object(ScheduleValue(.constant(try a.double("rate")))) },
        Builtin("train", "model, data, steps=100, batch=16, length=64, lr=None, seed=1, checkpoint=None, resume=None, every=0, eval_every=0, eval_batches=2, eval_data=None, image_first=0.2, caption_noise=500, cfg_dropout=0.1",
                help: "Trains model on a dataset (shapes, images, text or a mixture) with the model's loss (e.g. lm + 5 * diffusion) and returns the run. A captioned image comes before its caption (captioning) with probability image_first, its diffusion step then drawn from 0…caption_noise (None: no limit, 1…T like the others); otherwise after it, the caption dropped with probability cfg_dropout (for classifier-free guidance). It returns the run: its .loss, .lm and .diffusion curves, and with eval_every=N the held-out losses every N steps (.eval_lm, .eval_diffusion, .eval_steps) over eval_batches fixed batches of eval_data (default: fresh draws of data with another seed); show(run) plots them all. checkpoint= saves at the end and on Ctrl-C (the run then says it stopped early); resume= continues from one.",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nrun = train(m, shapes(size=16), steps=3, batch=2, eval_every=2)\nprint(run.steps, run.eval_steps)") { a in
            let (model, data) = try modelAndData(a)
            let options = try trainingOptions(a, model: model.model, loss: model.loss)
            let trainer = try MaskBuiltins.located { try Trainer(model: model.model, data: data, options: options) }
            if let path = try a.optionalPath("resume") { try MaskBuiltins.located { try trainer.resume(from: path) } }
            let evalEvery = max(0, try a.int("eval_every"))
            if evalEvery > 0 {
                let heldOut = try a.has("eval_data") ? DatasetBuiltins.dataset(a, "eval_data") : nil
                let batches = try a.size("eval_batches", atMost: 1024)   // drawn once and kept
                try MaskBuiltins.located { try trainer.holdOut(heldOut, batches: batches) }
            }
            let every = try a.int("every") > 0 ? try a.int("every") : max(1, options.steps / 10)
            // A checkpoint that cannot be written fails now, not after the run.
            if let path = try a.optionalPath("checkpoint") { try MaskBuiltins.located { try Safetensors.checkWritable(path) } }
            let loop = TrainingLoop(trainer: trainer, steps: options.steps, evalEvery: evalEvery, checkpoint: try a.optionalPath("checkpoint"),
                                    interrupt: a.interpreter.interruptFlag,
                                    progress: Progress(total: options.steps, every: every, tokensPerStep: options.batch * options.length))
            let run = try MaskBuiltins.located { try loop.run(record: a.interpreter.record) }
            if run.stoppedEarly {
                a.interpreter.write("train: stopped early at step \(trainer.step) of \(options.steps)" +
                                    (run.checkpoint.map { "; checkpoint written to \($0)\n" } ?? "; no checkpoint= was given\n"))
            }
            return .object(run)
        },
        Builtin("profile", "model, data, batch=16, length=64, runs=3, seed=1",
                help: "Where a training step's time goes: one batch of data (as train(model, data, batch=, length=) would draw it) run forward and backward `runs` times, each kind of kernel timed (matrix products, attention, convolutions, fused elementwise kernels). The model's weights are not changed. Print it for a table; .total is the step's milliseconds, .kernels a list of (name, ms, calls).",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nprint(profile(m, shapes(size=16), batch=2, runs=1).total > 0)") { a in
            let (model, data) = try modelAndData(a)
            let options = try batchOptions(a, model: model.model, loss: model.loss)
            let runs = try a.size("runs")
            let trainer = try MaskBuiltins.located { try Trainer(model: model.model, data: data, options: options) }
            let kernels = try MaskBuiltins.located { try trainer.profile(runs: runs) }
            return .object(ProfileValue(kernels.map { ($0.kernel, $0.seconds * 1e3, $0.calls) }, tokens: options.batch * options.length))
        },
        Builtin("plot", "values, title='values'", help: "A line plot (SVG) of a list of numbers, or of a dict of named lists.",
                example: "plot([3, 2, 1.5, 1.2], title=\"loss\")") { a in
            var series: [(String, [Double])] = []
            func numbers(_ v: Value) throws -> [Double] {
                try (v.sequence ?? []).map { x -> Double in
                    switch x { case .int(let i): return Double(i); case .float(let d): return d
                    default: throw a.error("values", "must hold numbers, found \(x.typeName)") }
                }
            }
            if case .dict(let d) = a["values"] { for k in d.keys { series.append((k, try numbers(d[k] ?? .none))) } }
            else { series = [(try a.string("title"), try numbers(a["values"]))] }
            a.interpreter.emit(.svg(LinePlot.svg(series, title: try a.string("title")), caption: try a.string("title")))
            return .none
        },
    ]
}
