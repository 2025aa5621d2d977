import Foundation
import TensorGraph

/// What `sweep(experiment, grid, seeds, metrics)` makes of its arguments: the grid of settings
/// and the trial that runs one of them, a script in a fresh session or a script function.
enum SweepArguments {
    static func sweep(_ a: Arguments) throws -> Sweep {
        let grid = try a.dict("grid").pairs.map { name, value in
            (name: name, values: try (value.sequence ?? [value]).map { try label(a, name, $0) })
        }
        for parameter in grid where Set(parameter.values).count < parameter.values.count {
            throw a.error("grid", "'\(parameter.name)' has two values that read the same")
        }
        let seeds = try a.ints("seeds")
        let metrics = try a.has("metrics") ? GenerationBuiltins.strings(a, "metrics").values : nil
        return try MaskBuiltins.located { try Sweep(grid: grid, seeds: seeds, metrics: metrics) }
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
            return try MaskBuiltins.located { try sweep.scriptTrial(path: path, interrupt: a.interpreter.interruptFlag) }
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
