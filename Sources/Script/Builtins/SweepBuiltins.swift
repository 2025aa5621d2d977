import Foundation
import TensorGraph

/// `sweep(experiment, grid, seeds, metrics)`, and what it makes of its arguments: the grid of
/// settings and the trial that runs one of them, a script in a fresh session or a script function.
enum SweepBuiltins {
    static let all: [Builtin] = [
        Builtin("sweep", "experiment, grid, seeds=[0], metrics=None",
                help: "Runs an experiment once per combination of the grid's values (a dict of lists) and per seed, and returns a table of the metrics each run recorded (the last value of each name), its seed and wall time: shown as mean ± std over seeds per grid point; .save(\"x.jsonl\") writes one JSON line per run, .save(\"x.md\") Markdown. experiment: a script path, run in a fresh session with each setting replacing the script's top-level assignment (strings are expressions, as with tfs run --set; `seed = ...` takes the seed), or a function called with the settings and seed= as keywords, whose numbers (or dict of numbers) returned count as metrics too. A failing run is reported in the table and the sweep goes on. metrics= keeps only those names.",
                example: "def trial(width, seed):\n    record(\"score\", width + seed)\nprint(sweep(trial, {\"width\": [1, 2]}, seeds=[0, 1]))") { a in
            let sweep = try SweepBuiltins.sweep(a)
            let trial = try SweepBuiltins.trial(a, sweep)
            let table = sweep.run(progress: { run, done in
                FileHandle.standardError.write(Data(run.progressLine(done: done, of: sweep.runCount).utf8))
            }, trial: trial)
            if table.interrupted {
                a.interpreter.write("sweep: stopped after \(table.runs.count) of \(sweep.runCount) runs\n")
                a.interpreter.interruptFlag.raise()   // the cell stops too, as after Ctrl-C in train
            }
            return .object(SweepValue(table))
        },
    ]

    static func sweep(_ a: Arguments) throws -> Sweep {
        let grid = try a.dict("grid").pairs.map { name, value in
            (name: name, values: try (value.sequence ?? [value]).map { try label(a, name, $0) })
        }
        for parameter in grid where Set(parameter.values).count < parameter.values.count {
            throw a.error("grid", "'\(parameter.name)' has two values that read the same")
        }
        let seeds = try a.ints("seeds")
        let metrics = try a.has("metrics") ? a.strings("metrics").values : nil
        return try RuntimeError.located { try Sweep(grid: grid, seeds: seeds, metrics: metrics) }
    }

    /// How a setting reads: a string as it is (for a script, the expression `--set` takes),
    /// any other value as `str` shows it. A script's settings must read back as expressions, so
    /// they are strings, numbers, bools, None or lists of them.
    static func label(_ a: Arguments, _ name: String, _ value: Value) throws -> String {
        switch value {
        case .string(let s): return s
        case .int, .float, .bool, .none, .list, .tuple: return try a.interpreter.repr(value)
        default:
            guard case .string = a["experiment"] else { return try a.interpreter.str(value) }
            throw a.error("grid", "'\(name)': a \(value.typeName) cannot be a script's setting; write it as a string expression, e.g. \"causal | same_image\"")
        }
    }

    static func trial(_ a: Arguments, _ sweep: Sweep) throws -> ([Sweep.Setting], Int) -> Sweep.Outcome {
        switch a["experiment"] {
        case .string(let path):
            return try RuntimeError.located { try sweep.scriptTrial(path: path, registry: a.interpreter.registry, interrupt: a.interpreter.interruptFlag) }
        case .function(let f):
            return try functionTrial(a, f, sweep)
        default:
            throw a.error("experiment", "must be a script path or a function")
        }
    }

    /// Calls `f` with each setting (its value from the grid) and, if it takes one, `seed=`,
    /// with the session's random generator started from the seed (and put back after). The
    /// metrics it records go to the sweep, not to the session's own records.
    static func functionTrial(_ a: Arguments, _ f: Function, _ sweep: Sweep) throws -> ([Sweep.Setting], Int) -> Sweep.Outcome {
        let accepts = Set(f.parameters.params.map(\.name))
        if f.parameters.kwargs == nil, let missing = sweep.grid.map(\.name).first(where: { !accepts.contains($0) }) {
            throw a.error("experiment", "\(f.name) takes no parameter '\(missing)' for the grid to set")
        }
        let takesSeed = accepts.contains("seed") || f.parameters.kwargs != nil
        let values = try a.dict("grid")
        let interpreter = a.interpreter
        return { settings, seed in
            var items = settings.map { setting -> CallArguments.Item in
                let choices = values[setting.name]!.sequence ?? [values[setting.name]!]
                let value = choices.first { (try? label(a, setting.name, $0)) == setting.value }!
                return .init(label: setting.name, value: value)
            }
            if takesSeed { items.append(.init(label: "seed", value: .int(seed))) }
            let savedRNG = interpreter.rng, recorded = interpreter.metrics.count
            interpreter.rng = RNG(seed: UInt64(seed))
            defer { interpreter.rng = savedRNG; interpreter.metrics.removeSubrange(recorded...) }
            do {
                let result = try interpreter.call(.function(f), CallArguments(items, span: a.span))
                return Sweep.Outcome(metrics: Array(interpreter.metrics[recorded...]) + returned(result))
            } catch is Interrupted {
                return Sweep.Outcome(metrics: Array(interpreter.metrics[recorded...]), error: "interrupted", interrupted: true)
            } catch {
                let message = (error as? TensorGraphError)?.message ?? "\(error)"
                return Sweep.Outcome(metrics: Array(interpreter.metrics[recorded...]), error: message)
            }
        }
    }

    /// A function's returned number (as `result`) or dict of numbers, as metrics.
    static func returned(_ value: Value) -> [Metric] {
        switch value {
        case .int, .float: return [Metric(name: "result", value: value.number!)]
        case .dict(let d): return d.pairs.compactMap { name, v in returned(v).first.map { Metric(name: name, value: $0.value) } }
        default: return []
        }
    }
}
