import ArgumentParser
import Foundation
import Script
import ScriptLibrary
import TensorGraph

/// `tfs sweep SCRIPT --grid lr=1e-3,3e-4 --seeds 0,1 --out results.jsonl`: the script once per
/// grid point and seed, each in a fresh session with the settings as `--set` overrides; prints
/// a line per run as it goes and the table (mean ± std over seeds) at the end.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a .tfs script over a grid of settings and seeds, collecting its metrics in a table.",
        discussion: """
        Each --grid name=v1,v2 replaces the script's top-level assignment to name, as \
        tfs run --set does (values are expressions; commas inside brackets or quotes do not \
        split). Every combination runs once per seed; a script that assigns `seed` gets the \
        run's seed there, and the random generator starts from it. Each run's metrics are the \
        last value of each name it record(...)ed. Exit status: 0 when every run finished, 70 \
        when some failed (they are in the table), 130 when interrupted.
        """)

    @Argument(help: "The script to run.", completion: .file(extensions: ["tfs"]))
    var file: String

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("A setting and its values: name=v1,v2 (repeatable).", valueName: "name=values"))
    var grid: [String] = []

    @Option(name: .long, help: ArgumentHelp("The seeds, comma separated.", valueName: "seeds"))
    var seeds = "0"

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("Keep only this metric (repeatable; default: all).", valueName: "name"))
    var metric: [String] = []

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("Write the results: .jsonl (a JSON object per run) or .md (Markdown tables); repeatable.", valueName: "file"))
    var out: [String] = []

    func validate() throws {
        for path in out where !["jsonl", "json", "md"].contains((path as NSString).pathExtension.lowercased()) {
            throw ValidationError("--out '\(path)': write .jsonl or .md")
        }
    }

    func run() throws {
        // Ctrl-C stops the sweep (exit 130); SIGTERM too (exit 143): the running script is
        // interrupted like Ctrl-C (a training run saves its checkpoint) and the table so far is kept.
        Interrupts.installTermination()
        for path in out { try OutputFile.checkWritable(path, option: "--out") }
        let sweep: Sweep
        do {
            sweep = try Sweep(grid: try grid.map(Self.parameter), seeds: try Self.seeds(seeds), metrics: metric.isEmpty ? nil : metric)
        } catch let error as TensorGraphError { throw ValidationError(error.message) }
        let interrupt = InterruptFlag()
        let trial: ([Sweep.Setting], Int) -> Sweep.Outcome
        do { trial = try sweep.scriptTrial(path: file, registry: .tfs, interrupt: interrupt) } catch let error as TensorGraphError {
            printError(error.message)
            throw ExitCode(65)
        }
        let table = Evaluation.run({
            sweep.run(progress: { run, done in printError(run.progressLine(done: done, of: sweep.runCount)) }, trial: trial)
        }, onInterrupt: { interrupt.raise() })
        print(table.markdown, terminator: "")
        for path in out {
            let text = (path as NSString).pathExtension.lowercased() == "md" ? table.markdown : table.jsonLines
            try OutputFile.writing(path, option: "--out") { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) }
        }
        if Interrupts.terminated {
            printError("terminated by SIGTERM")
            throw ExitCode(143)
        }
        if table.interrupted { throw ExitCode(130) }
        if table.runs.contains(where: { $0.error != nil }) { throw ExitCode(70) }
    }

    /// `name=v1,v2` as a grid entry.
    static func parameter(_ text: String) throws -> (name: String, values: [String]) {
        guard let eq = text.firstIndex(of: "=") else { throw ValidationError("--grid '\(text)': expected name=v1,v2") }
        let name = text[..<eq].trimmingCharacters(in: .whitespaces)
        let values = splitValues(String(text[text.index(after: eq)...]))
        guard !name.isEmpty, !values.isEmpty else { throw ValidationError("--grid '\(text)': expected name=v1,v2") }
        return (name, values)
    }

    /// Splits at commas outside brackets and quotes: `[1, 2],'a,b'` is two values.
    static func splitValues(_ text: String) -> [String] {
        var values: [String] = [], current = "", depth = 0, quote: Character? = nil
        for c in text {
            if let q = quote { if c == q { quote = nil } }
            else if c == "'" || c == "\"" { quote = c }
            else if "([{".contains(c) { depth += 1 }
            else if ")]}".contains(c) { depth -= 1 }
            else if c == ",", depth == 0 { values.append(current); current = ""; continue }
            current.append(c)
        }
        values.append(current)
        return values.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func seeds(_ text: String) throws -> [Int] {
        try text.split(separator: ",").map {
            guard let seed = Int($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds '\(text)': expected integers like 0,1,2") }
            return seed
        }
    }
}
