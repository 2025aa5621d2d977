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

/// The result of `train(...)`: loss curves (plot them) and the trainer to go on with.
final class RunValue: ScriptObject {
    let trainer: Trainer
    init(_ trainer: Trainer) { self.trainer = trainer }
    var typeName: String { "run" }
    var description: String {
        guard let last = trainer.history.last else { return "run(0 steps)" }
        return String(format: "run(%d steps, loss %.4f: LM %.4f, diffusion %.4f)", trainer.step, last.total, last.lm, last.diffusion)
    }
    var memberNames: [String] { ["loss", "lm", "diffusion", "steps"] }
    func member(_ name: String) throws -> Value? {
        func curve(_ k: KeyPath<Trainer.Record, Float>) -> Value { .list(ListRef(trainer.history.map { .float(Double($0[keyPath: k])) })) }
        switch name {
        case "loss": return curve(\.total)
        case "lm": return curve(\.lm)
        case "diffusion": return curve(\.diffusion)
        case "steps": return .int(trainer.step)
        default: return nil
        }
    }
    func output() throws -> Output? {
        .svg(LinePlot.svg([("LM", trainer.history.map { Double($0.lm) }), ("diffusion", trainer.history.map { Double($0.diffusion) })],
                          title: "training losses"), caption: description)
    }
}

enum TrainingBuiltins {
    static let all: [Builtin] = [
        Builtin("warmup", "steps", help: "LR schedule: a linear warmup over `steps`, into the schedule after >>.",
                example: "warmup(100) >> cosine(3e-4)") { a in .object(ScheduleValue(.warmup(steps: try MaskBuiltins.positive(a, "steps")))) },
        Builtin("cosine", "peak, floor=0.05", help: "LR schedule: cosine decay from `peak` to floor·peak over the rest of the run.",
                example: "cosine(1e-3)") { a in .object(ScheduleValue(.cosine(peak: try a.double("peak"), floor: try a.double("floor")))) },
        Builtin("constant", "rate", help: "LR schedule: the same rate throughout.",
                example: "constant(1e-3)") { a in .object(ScheduleValue(.constant(try a.double("rate")))) },
        Builtin("train", "model, data, steps=100, batch=16, length=64, lr=None, patch=4, seed=1, checkpoint=None, resume=None, every=0",
                help: "Trains model on a shapes dataset with the model's loss (e.g. lm + 5 * diffusion) and returns the run (its .loss, .lm and .diffusion curves; show(run) plots them). checkpoint= saves at the end (and on Ctrl-C); resume= continues from one.",
                example: "m = transfusion(dim=32, layers=1, heads=2, patch=48)\nrun = train(m, shapes(size=16), steps=3, batch=2)\nprint(run.steps)") { a in
            guard case .object(let mo) = a["model"], let model = mo as? ModelValue else { throw a.error("model", "must be a model from transfusion(...)") }
            guard case .object(let dobj) = a["data"], let data = dobj as? ShapesValue else { throw a.error("data", "must be a dataset from shapes(...)") }
            var options = Trainer.Options()
            options.steps = try MaskBuiltins.positive(a, "steps"); options.batch = try MaskBuiltins.positive(a, "batch")
            options.length = try MaskBuiltins.positive(a, "length"); options.patch = try MaskBuiltins.positive(a, "patch")
            options.loss = model.loss; options.seed = UInt64(max(0, try a.int("seed")))
            if a.has("lr") {
                guard case .object(let o) = a["lr"], let s = o as? ScheduleValue else { throw a.error("lr", "must be a schedule, e.g. warmup(100) >> cosine(1e-3)") }
                options.lr = s.schedule
            }
            let trainer = try MaskBuiltins.located { try Trainer(model: model.model, shapes: data.shapes, options: options) }
            if let path = try a.optionalString("resume") { try MaskBuiltins.located { try trainer.resume(from: path) } }
            let every = try a.int("every") > 0 ? try a.int("every") : max(1, options.steps / 10)
            let checkpoint = try a.optionalString("checkpoint")
            let progress = Progress(total: options.steps, every: every, tokensPerStep: options.batch * options.length)
            while trainer.step < options.steps {
                if a.interpreter.interruptFlag.isRaised { break }  // stop at a step boundary, keep the checkpoint
                let r = try MaskBuiltins.located { try trainer.trainStep() }
                progress.update(step: r.step, lm: r.lm, diffusion: r.diffusion)
            }
            progress.finish(stoppedAt: trainer.step)
            if let checkpoint { try MaskBuiltins.located { try trainer.save(checkpoint) } }
            return .object(RunValue(trainer))
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
