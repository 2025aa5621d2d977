import Foundation
import TensorGraph

/// A sweep's results in the language: shown as its summary table (mean ± std over seeds per
/// grid point), printed as Markdown, saved as JSON lines or Markdown, its runs as dicts.
final class SweepValue: ScriptObject {
    let table: SweepTable
    init(_ table: SweepTable) { self.table = table }

    static let type: ValueType = {
        let m = Members<SweepValue>("sweep")
        return ValueType("sweep", help: "The table sweep(...) returns: a run per grid point and seed, shown as mean ± std over seeds.", fields: [
            m.field("runs", "Every run as a dict: its settings, seed, seconds, metrics and error (None when it ran through).") { s in
                .list(ListRef(s.table.runs.map(s.runValue)))
            },
            m.field("markdown", "The summary and the runs as Markdown tables (a string).") { .string($0.table.markdown) },
            m.field("failed", "How many runs failed.") { .int($0.table.runs.filter { $0.error != nil }.count) },
        ], methods: [
            m.method("save", "path",
                     "Writes the sweep: to a .jsonl file one JSON object per run (settings, seed, seconds, metrics, error), to a .md file the summary and the runs as Markdown tables.",
                     example: "def trial(width, seed):\n    record(\"score\", width * 10 + seed)\nsweep(trial, {\"width\": [1, 2]}, seeds=[0, 1]).save(\"/tmp/tfs-sweep.jsonl\")") { s, a in
                let path = try a.path("path")
                let text: String
                switch (path as NSString).pathExtension.lowercased() {
                case "jsonl", "json": text = s.table.jsonLines
                case "md", "markdown": text = s.table.markdown
                default: throw a.error("path", "must end in .jsonl (JSON lines) or .md (Markdown), got '\(path)'")
                }
                try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                return .none
            },
        ])
    }()

    var description: String { SweepTable.markdownTable(table.headers, table.rows) }

    func output() throws -> Output? { .table(headers: table.headers, rows: table.rows) }

    /// `{"width": "16", "seed": 0, "seconds": 0.2, "bits_per_byte": 2.1, "error": None}`.
    func runValue(_ run: SweepRun) -> Value {
        let settings = run.settings.map { ($0.name, Value.string($0.value)) }
        let metrics = run.metrics.map { ($0.name, Value.float($0.value)) }
        return .dict(DictRef(settings + [("seed", .int(run.seed)), ("seconds", .float(run.seconds))] + metrics
                             + [("error", run.error.map(Value.string) ?? .none)]))
    }
}
