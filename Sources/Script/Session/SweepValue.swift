import Foundation
import TensorGraph

/// A sweep's results in the language: shown as its summary table (mean ± std over seeds per
/// grid point), printed as Markdown, saved as JSON lines or Markdown, its runs as dicts.
final class SweepValue: ScriptObject {
    let table: SweepTable
    init(_ table: SweepTable) { self.table = table }

    var typeName: String { "sweep" }
    var description: String { SweepTable.markdownTable(table.headers, table.rows) }
    var memberNames: [String] { ["runs", "markdown", "failed", "save"] }

    func member(_ name: String) throws -> Value? {
        switch name {
        case "runs": return .list(ListRef(table.runs.map(runValue)))
        case "markdown": return .string(table.markdown)
        case "failed": return .int(table.runs.filter { $0.error != nil }.count)
        case "save": return .builtin(saveMethod)
        default: return nil
        }
    }

    func output() throws -> Output? { .table(headers: table.headers, rows: table.rows) }

    /// `{"width": "16", "seed": 0, "seconds": 0.2, "bits_per_byte": 2.1, "error": None}`.
    func runValue(_ run: SweepRun) -> Value {
        let settings = run.settings.map { ($0.name, Value.string($0.value)) }
        let metrics = run.metrics.map { ($0.name, Value.float($0.value)) }
        return .dict(DictRef(settings + [("seed", .int(run.seed)), ("seconds", .float(run.seconds))] + metrics
                             + [("error", run.error.map(Value.string) ?? .none)]))
    }

    var saveMethod: Builtin {
        Builtin("save", "path",
                help: "Writes the sweep: to a .jsonl file one JSON object per run (settings, seed, seconds, metrics, error), to a .md file the summary and the runs as Markdown tables.",
                example: "def trial(width, seed):\n    record(\"score\", width * 10 + seed)\nsweep(trial, {\"width\": [1, 2]}, seeds=[0, 1]).save(\"/tmp/tfs-sweep.jsonl\")") { a in
            let path = try a.path("path")
            let text: String
            switch (path as NSString).pathExtension.lowercased() {
            case "jsonl", "json": text = self.table.jsonLines
            case "md", "markdown": text = self.table.markdown
            default: throw a.error("path", "must end in .jsonl (JSON lines) or .md (Markdown), got '\(path)'")
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            return .none
        }
    }
}
