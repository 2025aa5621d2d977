import Foundation
import Testing
import TensorGraph
@testable import Script
@testable import ScriptLibrary

/// Sweeps: scripts and functions over a grid and seeds, the table's numbers, its JSON lines
/// and Markdown, failing runs, and the builtins that measure.
@Suite struct SweepTests {
    /// A script that records numbers made from its settings and seed.
    static let script = """
        # %% settings
        a = 1
        b = 2
        seed = 0
        # %% measure
        record("sum", a + b + seed)
        record("product", a * b)
        record("product", a * b * 10)      # the last value of a name counts
        record("draw", randn([1]).item())
        """

    /// A scratch file holding `source`, removed at the end.
    final class ScriptFile {
        let path = NSTemporaryDirectory() + "tfs-sweep-\(getpid())-\(UUID().uuidString).tfs"
        init(_ source: String) { try! source.write(toFile: path, atomically: true, encoding: .utf8) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func table(_ grid: [(name: String, values: [String])], seeds: [Int] = [0, 1], metrics: [String]? = nil) throws -> SweepTable {
        let file = ScriptFile(script)
        let sweep = try Sweep(grid: grid, seeds: seeds, metrics: metrics)
        return sweep.run(trial: try sweep.scriptTrial(path: file.path, registry: .tfs))
    }

    /// The summary without its wall-time column.
    static func rowsWithoutTime(_ t: SweepTable) -> [[String]] {
        let seconds = t.headers.firstIndex(of: "seconds")!
        return t.rows.map { row in row.enumerated().filter { $0.offset != seconds }.map(\.element) }
    }

    @Test func aScriptSweepGivesMeanAndSpreadPerGridPoint() throws {
        let t = try Self.table([("a", ["1", "2"]), ("b", ["10"])], metrics: ["sum", "product"])
        #expect(t.runs.count == 4 && !t.interrupted)
        #expect(t.runs.map(\.seed) == [0, 1, 0, 1])
        #expect(t.runs.map { $0.metric("sum")! } == [11, 12, 12, 13])
        #expect(t.runs.map { $0.metric("product")! } == [100, 100, 200, 200])
        #expect(t.headers == ["a", "b", "sum", "product", "runs", "seconds", "errors"])
        #expect(Self.rowsWithoutTime(t) == [["1", "10", "11.5 ± 0.7071", "100 ± 0", "2/2", ""],
                                            ["2", "10", "12.5 ± 0.7071", "200 ± 0", "2/2", ""]])
        #expect(t.runs.allSatisfy { $0.seconds >= 0 && $0.error == nil })
    }

    @Test func eachRunsRandomGeneratorStartsFromItsSeed() throws {
        let t = try Self.table([("a", ["1", "2"])], seeds: [3, 4])
        let draws = t.runs.map { $0.metric("draw")! }
        #expect(draws[0] == draws[2] && draws[1] == draws[3] && draws[0] != draws[1])
        #expect(t.metricNames == ["sum", "product", "draw"])
    }

    @Test func meanAndSampleStandardDeviation() throws {
        let s = try #require(SweepTable.Summary([1, 2, 3, 4]))
        #expect(s.mean == 2.5 && s.count == 4)
        #expect(abs(s.std - (5.0 / 3).squareRoot()) < 1e-15)
        #expect(s.text == "2.5 ± 1.291")
        #expect(SweepTable.Summary([5])?.text == "5" && SweepTable.Summary([]) == nil)
    }

    @Test func aFailingRunIsReportedAndTheSweepGoesOn() throws {
        let t = try Self.table([("a", ["1", "2"]), ("b", ["[1][5]", "10"])], seeds: [0, 1], metrics: ["sum"])
        #expect(t.runs.count == 8)
        #expect(t.runs.filter { $0.error != nil }.count == 4)
        let failed = try #require(t.runs.first { $0.error != nil }?.error)
        #expect(failed.contains("list index 5 out of range"), "\(failed)")
        let rows = Self.rowsWithoutTime(t)
        #expect(rows[0] == ["1", "[1][5]", "—", "0/2", "seeds 0, 1: --set b:1:1: error: list index 5 out of range (length 1)"])
        #expect(rows[1] == ["1", "10", "11.5 ± 0.7071", "2/2", ""])
        #expect(t.markdown.contains("| 1 | [1][5] | — | 0/2 |"))
    }

    @Test func aGridNameTheScriptDoesNotAssignIsAnErrorBeforeAnythingRuns() throws {
        let file = ScriptFile(Self.script)
        let sweep = try Sweep(grid: [("lr", ["1e-3"])])
        #expect(throws: TensorGraphError.self) { try sweep.scriptTrial(path: file.path, registry: .tfs) }
        #expect(throws: TensorGraphError.self) { try Sweep(grid: [("seed", ["1"])]) }
        #expect(throws: TensorGraphError.self) { try Sweep(grid: [("a", [])]) }
        #expect(throws: TensorGraphError.self) { try Sweep(grid: [], seeds: []) }
        #expect(throws: TensorGraphError.self) { try Sweep(grid: []).scriptTrial(path: "/nonexistent/x.tfs", registry: .tfs) }
    }

    @Test func jsonLinesRoundTrip() throws {
        var t = try Self.table([("a", ["1", "2"]), ("b", ["[1][5]", "10"])], seeds: [0, 1])
        t.add(SweepRun(settings: [.init("a", "\"quoted\" ünïcode\n"), .init("b", "x | y")], seed: 7, seconds: 0.125,
                       metrics: [Metric(name: "sum", value: -1.5e-7)], error: "tab\there\u{1}"))
        let text = t.jsonLines
        #expect(text.split(separator: "\n").count == t.runs.count)
        let back = try SweepTable(jsonLines: text)
        #expect(back == t)
        #expect(back.parameters == ["a", "b"] && back.metricNames == ["sum", "product", "draw"])
        // Each line is plain JSON, as other tools read it.
        let first = try JSONSerialization.jsonObject(with: Data(text.split(separator: "\n")[2].utf8)) as? [String: Any]
        #expect((first?["settings"] as? [String: String])?["b"] == "10" && first?["seed"] as? Int == 0)
        #expect((first?["metrics"] as? [String: Double])?["sum"] == 11)
        #expect(throws: TensorGraphError.self) { try SweepTable(jsonLines: "{\"seed\": 0}") }
    }

    @Test func markdownEscapesPipes() throws {
        let t = SweepTable(parameters: ["mask"], runs: [SweepRun(settings: [.init("mask", "causal | same_image")], seed: 0, seconds: 1,
                                                                 metrics: [Metric(name: "bpb", value: 2)])])
        #expect(t.markdown.hasPrefix("| mask | bpb | runs | seconds | errors |\n| --- | --- | --- | --- | --- |\n| causal \\| same_image | 2 | 1/1 | 1.00 |  |\n"))
    }

    // MARK: in the language

    @Test func aFunctionSweepInTheLanguage() throws {
        let s = Session(registry: .tfs)
        let r = s.run(source: """
            record("before", 1)
            def trial(width, seed, scale=1):
                record("score", width * scale + seed)
                return {"twice": 2 * width, "label": "ignored"}
            t = sweep(trial, {"width": [1, 2], "scale": [10]}, seeds=[0, 1])
            rows = t.runs
            print(len(rows), rows[1]["width"], rows[1]["seed"], rows[1]["score"], rows[3]["twice"], t.failed)
            print(t)
            """, file: "t.tfs")
        #expect(r.failure == nil, "\(errorText(r))")
        guard case .text(let text)? = r.outputs.first else { Issue.record("\(r.outputs)"); return }
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "4 1 1 11.0 4.0 0")
        #expect(lines[1] == "| width | scale | score | twice | runs | seconds | errors |")
        #expect(lines[3].hasPrefix("| 1 | 10 | 10.5 ± 0.7071 | 2 ± 0 | 2/2 |"))
        #expect(lines[4].hasPrefix("| 2 | 10 | 20.5 ± 0.7071 | 4 ± 0 | 2/2 |"))
        #expect(s.metrics.map(\.name) == ["before"])   // the runs' records belong to the sweep
    }

    @Test func functionRunsFailAloneAndNamesAreChecked() {
        let s = Session(registry: .tfs)
        let r = s.run(source: """
            def trial(x):
                return 10 // x
            t = sweep(trial, {"x": [0, 5]}, metrics=["result"])
            print(t.failed, t.runs[1]["result"])
            """, file: "t.tfs")
        #expect(r.failure == nil, "\(errorText(r))")
        #expect(r.outputs.first == .text("1 2.0"))
        #expect(evalScript("def f(x):\n    return x\nsweep(f, {\"y\": [1]})").contains("f takes no parameter 'y'"))
        #expect(evalScript("sweep(3, {\"y\": [1]})").contains("must be a script path or a function"))
        #expect(evalScript("sweep(\"x.tfs\", {\"m\": [causal]})").contains("write it as a string expression"))
        // A function takes any value; the table shows it as str does.
        #expect(printedText("""
            t = sweep(lambda mask: 1, {"mask": [causal, causal | same_image]})
            print(t.runs[1]["mask"], t.runs[1]["result"])
            """) == "causal | same_image 1.0")
    }

    @Test func aScriptSweepInTheLanguageSavesJSONLinesAndMarkdown() throws {
        let file = ScriptFile(Self.script)
        let out = NSTemporaryDirectory() + "tfs-sweep-out-\(getpid())"
        let s = Session(registry: .tfs)
        s.interpreter.setGlobal("path", .string(file.path))
        s.interpreter.setGlobal("out", .string(out))
        let r = s.run(source: """
            t = sweep(path, {"a": [1, "1 + 1"]}, seeds=[5], metrics=["sum"])
            t.save(out + ".jsonl")
            t.save(out + ".md")
            t
            """, file: "t.tfs")
        defer { for ext in [".jsonl", ".md"] { try? FileManager.default.removeItem(atPath: out + ext) } }
        #expect(r.failure == nil, "\(errorText(r))")
        guard case .table(let headers, let rows)? = r.outputs.last else { Issue.record("\(r.outputs)"); return }
        #expect(headers == ["a", "sum", "runs", "seconds", "errors"])
        #expect(rows.map { [$0[0], $0[1]] } == [["1", "8"], ["1 + 1", "9"]])
        let back = try SweepTable(jsonLines: String(contentsOfFile: out + ".jsonl", encoding: .utf8))
        #expect(back.runs.map { $0.metric("sum") } == [8, 9])
        #expect(try String(contentsOfFile: out + ".md", encoding: .utf8).hasPrefix("| a | sum | runs | seconds | errors |"))
    }

    @Test func metricsInTheLanguageRecordWhatTheyReturn() {
        let s = Session(registry: .tfs)
        let r = s.run(source: """
            m = transfusion(dim=32, layers=1, heads=2)
            bpb = bits_per_byte(m, ["a red circle", "a blue square"], length=32, batch=2)
            c = cider(["a red circle"], ["a red circle"])
            print(bpb > 0, c)
            """, file: "t.tfs")
        #expect(r.failure == nil, "\(errorText(r))")
        #expect(s.metrics.map(\.name) == ["bits_per_byte", "perplexity_per_byte", "cider"])
        // Perplexity per byte is 2 ** bpb.
        if s.metrics.count == 3 { #expect(abs(s.metrics[1].value - pow(2, s.metrics[0].value)) < 1e-9) }
        #expect(r.outputs.first == .text("True 0.0"))   // one image: every idf is log 1 = 0
        #expect(evalScript("bits_per_byte(transfusion(dim=32, layers=1, heads=2), shapes(size=16))").contains("use .take(n).captions"))
    }
}
