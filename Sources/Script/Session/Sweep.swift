import Foundation
import TensorGraph

/// One experiment run over a grid of settings, once per grid point and seed: what
/// `sweep(...)` in the language and `tfs sweep` on the command line share. Each run reports
/// the metrics it recorded (the last value of each name) and its wall time; a run that fails
/// is kept with its error and the sweep goes on; Ctrl-C ends it with what it has.
public struct Sweep {
    /// One setting of a run: a name and its value as text (for a script, the expression
    /// `--set name=value` would take).
    public struct Setting: Equatable, Sendable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    /// What one run gave.
    public struct Outcome {
        public var metrics: [Metric]
        /// Why it failed (the rendered error), nil when it ran to the end.
        public var error: String?
        public var interrupted: Bool
        public init(metrics: [Metric], error: String? = nil, interrupted: Bool = false) {
            self.metrics = metrics; self.error = error; self.interrupted = interrupted
        }
    }

    /// The settings' names and values, in order: the first name varies slowest.
    public let grid: [(name: String, values: [String])]
    public let seeds: [Int]
    /// The metrics to keep, nil for every one the runs record.
    public let metrics: [String]?

    public init(grid: [(name: String, values: [String])], seeds: [Int] = [0], metrics: [String]? = nil) throws {
        let names = grid.map(\.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw TensorGraphError("sweep: the grid names '\(repeated)' twice")
        }
        guard !names.contains("seed") else { throw TensorGraphError("sweep: give seeds with seeds=[...], not as a grid entry 'seed'") }
        if let empty = grid.first(where: \.values.isEmpty) { throw TensorGraphError("sweep: '\(empty.name)' has no values") }
        guard !seeds.isEmpty else { throw TensorGraphError("sweep: give at least one seed") }
        if let negative = seeds.first(where: { $0 < 0 }) { throw TensorGraphError("sweep: seeds must be ≥ 0, got \(negative)") }
        self.grid = grid; self.seeds = seeds; self.metrics = metrics
    }

    /// Every combination of the grid's values, in order (one empty point for an empty grid).
    public var points: [[Setting]] {
        grid.reduce([[]]) { points, parameter in
            points.flatMap { point in parameter.values.map { point + [Setting(parameter.name, $0)] } }
        }
    }

    public var runCount: Int { points.count * seeds.count }

    /// Runs `trial` for each point and seed in turn; `progress` hears about each finished run
    /// (with how many are done).
    public func run(progress: (SweepRun, Int) -> Void = { _, _ in },
                    trial: (_ settings: [Setting], _ seed: Int) -> Outcome) -> SweepTable {
        var table = SweepTable(parameters: grid.map(\.name), metricNames: metrics ?? [], runs: [])
        for point in points {
            for seed in seeds {
                let start = Date()
                let outcome = trial(point, seed)
                let run = SweepRun(settings: point, seed: seed, seconds: Date().timeIntervalSince(start),
                                   metrics: kept(outcome.metrics), error: outcome.error)
                table.add(run)
                progress(run, table.runs.count)
                if outcome.interrupted { table.interrupted = true; return table }
            }
        }
        return table
    }

    /// The last value of each kept metric name, in the order the names were first recorded.
    func kept(_ recorded: [Metric]) -> [Metric] {
        var last: [String: Double] = [:], order: [String] = []
        for m in recorded where metrics?.contains(m.name) ?? true {
            if last.updateValue(m.value, forKey: m.name) == nil { order.append(m.name) }
        }
        return order.map { Metric(name: $0, value: last[$0]!) }
    }
}

// MARK: running a script file

extension Sweep {
    /// A trial that runs the script at `path` in a fresh session reaching `registry`'s
    /// builtins: each setting replaces the
    /// script's top-level assignment to its name (as `tfs run --set` does), `seed` too when the
    /// script assigns one, and the session's random generator starts from the seed. Throws
    /// before anything runs if the script does not parse or lacks an assignment to a grid name.
    public func scriptTrial(path: String, registry: Registry, interrupt: InterruptFlag = InterruptFlag()) throws -> ([Setting], Int) -> Outcome {
        guard let source = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TensorGraphError("sweep: cannot read the script '\(path)'")
        }
        let assigned = try Self.topLevelAssignments(source, file: path)
        if let missing = grid.map(\.name).first(where: { !assigned.contains($0) }) {
            throw TensorGraphError("sweep: \(path) has no top-level assignment to '\(missing)' for the grid to replace")
        }
        return { settings, seed in
            let session = Session(interpreter: Interpreter(registry: registry, interruptFlag: interrupt))
            session.overrides = Dictionary(uniqueKeysWithValues: settings.map { ($0.name, $0.value) })
            if assigned.contains("seed") { session.overrides["seed"] = String(seed) }
            session.interpreter.rng = RNG(seed: UInt64(seed))
            do {
                let failed = try session.runCells(source: source, file: path).last { $0.result.failure != nil }?.result
                return Outcome(metrics: session.metrics, error: failed.map(Self.errorText),
                               interrupted: failed?.failure == .interrupted)
            } catch {
                return Outcome(metrics: session.metrics, error: "\(error)")
            }
        }
    }

    /// The names a script assigns at its top level (what `--set` can replace).
    static func topLevelAssignments(_ source: String, file: String) throws -> Set<String> {
        let sink = DiagnosticSink()
        let program = Parser.parse(source, file: file, sink: sink)
        guard !sink.hasErrors else { throw TensorGraphError("sweep: \(file) does not parse:\n" + sink.render(source: source)) }
        return Set(program.compactMap { stmt in
            guard case .assign(let target, _) = stmt.kind, case .name(let name) = target.kind else { return nil }
            return name
        })
    }

    /// A failed cell's error as its outputs show it.
    static func errorText(_ result: CellResult) -> String {
        let errors = result.outputs.compactMap { output -> String? in
            if case .error(let text) = output { return text }
            return nil
        }
        return errors.isEmpty ? "failed (\(result.failure.map { String($0.rawValue) } ?? "?"))" : errors.joined(separator: "\n")
    }
}
