import Foundation
import TensorGraph

/// One run of a sweep: its settings and seed, its wall time, the last value of each metric it
/// recorded, and its error if it failed.
public struct SweepRun: Equatable, Sendable {
    public var settings: [Sweep.Setting]
    public var seed: Int
    public var seconds: Double
    public var metrics: [Metric]
    public var error: String?

    public init(settings: [Sweep.Setting], seed: Int, seconds: Double, metrics: [Metric], error: String? = nil) {
        self.settings = settings; self.seed = seed; self.seconds = seconds; self.metrics = metrics; self.error = error
    }

    public func metric(_ name: String) -> Double? { metrics.last { $0.name == name }?.value }

    /// `sweep 3/8  lr=1e-3 seed=1  bits_per_byte 2.31  12.3 s`: what a sweep prints as it goes.
    public func progressLine(done: Int, of total: Int) -> String {
        let settings = (self.settings.map { "\($0.name)=\($0.value)" } + ["seed=\(seed)"]).joined(separator: " ")
        let outcome = error.map { "failed: " + SweepTable.firstLine($0) }
            ?? metrics.map { "\($0.name) \(metricText($0.value))" }.joined(separator: "  ")
        return "sweep \(done)/\(total)  \(settings)  \(outcome)  " + String(format: "%.1f s", seconds) + "\n"
    }
}

/// The results of a sweep: one entry per run, summarised per grid point as mean ± standard
/// deviation over the seeds (sample deviation, n − 1; failed runs left out of the numbers and
/// named in an errors column). Written as JSON lines (one object per run) and as Markdown.
public struct SweepTable: Equatable, Sendable {
    /// The grid's names, in order.
    public var parameters: [String]
    /// The metrics shown, in the order first recorded.
    public var metricNames: [String]
    public private(set) var runs: [SweepRun]
    /// Ctrl-C ended the sweep before its last run.
    public var interrupted = false

    public init(parameters: [String], metricNames: [String] = [], runs: [SweepRun] = []) {
        self.parameters = parameters; self.metricNames = metricNames; self.runs = []
        for run in runs { add(run) }
    }

    public mutating func add(_ run: SweepRun) {
        for m in run.metrics where !metricNames.contains(m.name) { metricNames.append(m.name) }
        runs.append(run)
    }

    /// Mean and spread of one metric over some runs.
    public struct Summary: Equatable, Sendable {
        public var mean: Double, std: Double, count: Int

        public init?(_ values: [Double]) {
            guard !values.isEmpty else { return nil }
            let n = Double(values.count), mean = values.reduce(0, +) / n
            let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            self.count = values.count; self.mean = mean
            std = values.count > 1 ? (squares / (n - 1)).squareRoot() : 0
        }

        /// `0.5 ± 0.1`, or the mean alone for one run.
        public var text: String { count > 1 ? "\(metricText(mean)) ± \(metricText(std))" : metricText(mean) }
    }

    /// The runs of each grid point, in the order the points ran.
    public var groups: [(settings: [Sweep.Setting], runs: [SweepRun])] {
        var groups: [(settings: [Sweep.Setting], runs: [SweepRun])] = []
        for run in runs {
            if let i = groups.firstIndex(where: { $0.settings == run.settings }) { groups[i].runs.append(run) }
            else { groups.append((run.settings, [run])) }
        }
        return groups
    }

    /// A metric over the runs of a point that ran to the end.
    public static func summary(_ name: String, of runs: [SweepRun]) -> Summary? {
        Summary(runs.filter { $0.error == nil }.compactMap { $0.metric(name) })
    }

    // MARK: tables

    /// The summary: a row per grid point.
    public var headers: [String] { parameters + metricNames + ["runs", "seconds", "errors"] }
    public var rows: [[String]] {
        groups.map { group in
            let finished = group.runs.filter { $0.error == nil }
            let seconds = group.runs.reduce(0) { $0 + $1.seconds } / Double(group.runs.count)
            let errors = Self.errorSummary(group.runs)
            return group.settings.map(\.value) + metricNames.map { Self.summary($0, of: group.runs)?.text ?? "—" }
                + ["\(finished.count)/\(group.runs.count)", String(format: "%.2f", seconds), errors]
        }
    }

    /// Every run: its settings, seed, metrics, wall time and error.
    public var runHeaders: [String] { parameters + ["seed"] + metricNames + ["seconds", "error"] }
    public var runRows: [[String]] {
        runs.map { run in
            run.settings.map(\.value) + [String(run.seed)] + metricNames.map { run.metric($0).map(metricText) ?? "—" }
                + [String(format: "%.2f", run.seconds), run.error.map(Self.firstLine) ?? ""]
        }
    }

    /// The summary table, then the table of runs, in Markdown.
    public var markdown: String {
        Self.markdownTable(headers, rows) + "\n" + Self.markdownTable(runHeaders, runRows)
            + (interrupted ? "\nInterrupted after \(runs.count) runs.\n" : "")
    }

    static func markdownTable(_ headers: [String], _ rows: [[String]]) -> String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
                .joined(separator: " | ") + " |\n"
        }
        return line(headers) + line(headers.map { _ in "---" }) + rows.map(line).joined()
    }

    /// The failed runs' errors, each message once with its seeds: `seeds 0, 1: …`.
    static func errorSummary(_ runs: [SweepRun]) -> String {
        var messages: [(text: String, seeds: [Int])] = []
        for run in runs {
            guard let error = run.error.map(firstLine) else { continue }
            if let i = messages.firstIndex(where: { $0.text == error }) { messages[i].seeds.append(run.seed) }
            else { messages.append((error, [run.seed])) }
        }
        return messages.map { m in
            (m.seeds.count == 1 ? "seed " : "seeds ") + m.seeds.map(String.init).joined(separator: ", ") + ": " + m.text
        }.joined(separator: "; ")
    }

    static func firstLine(_ text: String) -> String { String(text.split(separator: "\n").first ?? "") }
}

/// Four significant digits: what the tables show.
func metricText(_ value: Double) -> String { value.isFinite ? String(format: "%.4g", value) : "\(value)" }

// MARK: JSON lines

extension SweepTable {
    /// One object per run: `{"settings": {"lr": "1e-3"}, "seed": 0, "seconds": 1.5,
    /// "metrics": {"bits_per_byte": 2.1}}`, with `"error"` when the run failed. Settings are
    /// the text of their values; metrics that are not finite are null.
    public var jsonLines: String {
        runs.map { run in
            func object(_ pairs: [(String, String)]) -> String {
                "{" + pairs.map { "\(jsonString($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
            }
            var fields = [("settings", object(run.settings.map { ($0.name, jsonString($0.value)) })),
                          ("seed", String(run.seed)), ("seconds", jsonNumber(run.seconds)),
                          ("metrics", object(run.metrics.map { ($0.name, jsonNumber($0.value)) }))]
            if let error = run.error { fields.append(("error", jsonString(error))) }
            return object(fields) + "\n"
        }.joined()
    }

    /// Reads what `jsonLines` wrote (blank lines skipped); names keep their written order.
    public init(jsonLines text: String) throws {
        var table = SweepTable(parameters: [])
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            do { table.add(try Self.run(OrderedJSON.parse(String(line)))) } catch let error as TensorGraphError {
                throw TensorGraphError("line \(number + 1): \(error.message)")
            }
            if table.parameters.isEmpty { table.parameters = table.runs[0].settings.map(\.name) }
        }
        self = table
    }

    static func run(_ json: OrderedJSON) throws -> SweepRun {
        guard case .object(let fields) = json else { throw TensorGraphError("a run is a JSON object") }
        func field(_ name: String) -> OrderedJSON? { fields.first { $0.0 == name }?.1 }
        func pairs(_ name: String) throws -> [(String, OrderedJSON)] {
            guard case .object(let pairs)? = field(name) else { throw TensorGraphError("'\(name)' must be an object") }
            return pairs
        }
        let settings = try pairs("settings").map { name, value -> Sweep.Setting in
            guard case .string(let s) = value else { throw TensorGraphError("setting '\(name)' must be a string") }
            return Sweep.Setting(name, s)
        }
        let metrics = try pairs("metrics").map { name, value -> Metric in
            switch value {
            case .number(let d): return Metric(name: name, value: d)
            case .null: return Metric(name: name, value: .nan)
            default: throw TensorGraphError("metric '\(name)' must be a number")
            }
        }
        guard case .number(let seed)? = field("seed"), case .number(let seconds)? = field("seconds") else {
            throw TensorGraphError("'seed' and 'seconds' must be numbers")
        }
        var error: String? = nil
        if case .string(let e)? = field("error") { error = e }
        return SweepRun(settings: settings, seed: Int(seed), seconds: seconds, metrics: metrics, error: error)
    }
}
