import Foundation
import Testing

/// `tfs run` and `tfs notebook` on small scripts.
@Suite(.enabled(if: Tool.hasTFS, "the tfs executable is not built (swift build --product tfs)"))
struct ScriptCommandTests {
    static let script = """
    # A script in cells.
    # %% data
    x = 41
    print(x + 1)

    # %% [markdown] notes
    # Some *text* between cells.

    # %% picture
    graph(randn([2, 3]) * 2)

    # %% fails
    [1, 2, 3][10]

    # %% after
    print("after")

    """

    func write(_ text: String, _ name: String = "demo.tfs") throws -> (dir: URL, path: String) {
        let dir = try Tool.temporaryDirectory()
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return (dir, url.path)
    }

    @Test func runPrintsEachCellUnderItsTitleAndStopsAtARuntimeError() throws {
        let (dir, path) = try write(Self.script)
        defer { try? FileManager.default.removeItem(at: dir) }
        let work = try Tool.temporaryDirectory("tfs-run-cwd")
        defer { try? FileManager.default.removeItem(at: work) }
        let r = try Tool.tfs(["run", path], directory: work)
        #expect(r.status == 70, "\(r.both)")
        #expect(r.stdout.contains("── [1] data ──\n42\n"), "\(r.both)")
        #expect(r.stdout.contains("── [3] picture ──"), "\(r.both)")
        #expect(r.stdout.contains("── [4] fails ──"), "\(r.both)")
        #expect(!r.stdout.contains("after"), "\(r.both)")
        #expect(r.stderr.contains("demo.tfs:13:"), "the error points into the whole file: \(r.both)")
        // The drawing was saved under runs/<script name>/ in the working directory, not next
        // to the script, and its path printed.
        let svg = work.appendingPathComponent("runs/demo/demo-3-1.svg")
        #expect(FileManager.default.fileExists(atPath: svg.path), "\(r.both)")
        #expect(r.stdout.contains("[SVG] runs/demo/demo-3-1.svg"), "\(r.both)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["demo.tfs"], "\(r.both)")
    }

    @Test func cellSelectsTheLastCellToRunByNumberOrTitle() throws {
        let (dir, path) = try write(Self.script)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("images")
        let byTitle = try Tool.tfs(["run", path, "--cell", "picture", "--out", out.path])
        #expect(byTitle.status == 0, "\(byTitle.both)")
        #expect(byTitle.stdout.contains("── [3] picture ──") && !byTitle.stdout.contains("fails"), "\(byTitle.both)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("demo-3-1.svg").path), "\(byTitle.both)")
        let byNumber = try Tool.tfs(["run", path, "--cell", "1", "--out", out.path])
        #expect(byNumber.status == 0 && byNumber.stdout == "── [1] data ──\n42\n", "\(byNumber.both)")
        let missing = try Tool.tfs(["run", path, "--cell", "nope"])
        #expect(missing.status == 64 && missing.stderr.contains("no cell has that title"), "\(missing.both)")
    }

    @Test func setOverridesATopLevelAssignment() throws {
        let (dir, path) = try write("# %% one\nx = 1\nprint(x * 10)\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Tool.tfs(["run", path, "--set", "x=7"])
        #expect(r.status == 0 && r.stdout.contains("70"), "\(r.both)")
        let bad = try Tool.tfs(["run", path, "--set", "novalue"])
        #expect(bad.status == 64, "\(bad.both)")
    }

    @Test func metricsAreAppendedAsJSONLines() throws {
        let (dir, path) = try write("# %% train\nfor i in range(3):\n    record(\"loss\", 1.0 / (i + 1), step=i)\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let metrics = dir.appendingPathComponent("logs/metrics.jsonl")
        for _ in 0..<2 {
            let r = try Tool.tfs(["run", path, "--metrics", metrics.path])
            #expect(r.status == 0, "\(r.both)")
        }
        let lines = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6, "two runs append three metrics each: \(lines)")
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["name"] as? String == "loss")
        #expect(first["value"] as? Double == 1)
        #expect(first["step"] as? Int == 0)
    }

    @Test func ctrlCStopsARunWithStatus130() throws {
        let (dir, path) = try write("# %% forever\nn = 0\nwhile true:\n    n = n + 1\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let process = Process()
        process.executableURL = Tool.tfs!
        process.arguments = ["run", path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        // Ctrl-C until it stops (a slow machine may not have started the loop at the first one).
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            if process.isRunning { kill(process.processIdentifier, SIGINT) }
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.lowercased().contains("interrupt"), "\(stderr)")
    }

    @Test func exitStatus65ForASyntaxErrorBeforeAnythingRuns() throws {
        let (dir, path) = try write("# %% first\nprint(\"ran\")\n# %% second\nx = (1 +\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Tool.tfs(["run", path])
        #expect(r.status == 65, "\(r.both)")
        #expect(!r.stdout.contains("ran"), "nothing runs before a syntax error is reported: \(r.both)")
        #expect(r.stderr.contains("demo.tfs:"), "\(r.both)")
        // A name error is static too (found before its cell runs).
        let (dir2, path2) = try write("# %% a\nprint(undefined_name)\n")
        defer { try? FileManager.default.removeItem(at: dir2) }
        #expect(try Tool.tfs(["run", path2]).status == 65)
        // And success is 0.
        let (dir3, path3) = try write("print(1)\n")
        defer { try? FileManager.default.removeItem(at: dir3) }
        let ok = try Tool.tfs(["run", path3])
        #expect(ok.status == 0 && ok.stdout == "── [1] ──\n1\n", "\(ok.both)")
    }

    @Test func notebookRunsEveryCellAndShowsTheErrorInPlace() throws {
        let (dir, path) = try write(Self.script)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ipynb = dir.appendingPathComponent("out/demo.ipynb").path
        let html = dir.appendingPathComponent("out/demo.html").path
        let r = try Tool.tfs(["notebook", path, "-o", ipynb, "-o", html, "--quiet"])
        #expect(r.status == 70, "the first failure's status, files written anyway: \(r.both)")
        #expect(r.stdout.contains("wrote"), "\(r.both)")

        let data = try Data(contentsOf: URL(fileURLWithPath: ipynb))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cells = try #require(object["cells"] as? [[String: Any]])
        let code = cells.filter { $0["cell_type"] as? String == "code" }
        #expect(code.count == 4)
        func outputTypes(_ cell: [String: Any]) -> [String] {
            ((cell["outputs"] as? [[String: Any]]) ?? []).compactMap { $0["output_type"] as? String }
        }
        #expect(outputTypes(code[0]) == ["stream"])
        #expect(outputTypes(code[1]).contains("display_data"))
        #expect(outputTypes(code[2]).last == "error")
        // The cell after the failure still ran.
        #expect(outputTypes(code[3]) == ["stream"])
        #expect(code.map { $0["execution_count"] as? Int } == [1, 2, 3, 4])
        // The markdown cell keeps its text without the comment marks.
        #expect(cells.contains { ($0["source"] as? [String])?.joined() == "Some *text* between cells." })
        // The comments above the first marker open the notebook, as markdown.
        #expect(cells.first?["cell_type"] as? String == "markdown")
        #expect((cells.first?["source"] as? [String])?.joined() == "A script in cells.", "\(cells.first ?? [:])")

        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<h2>picture</h2>") && page.contains("<svg"))
        #expect(page.contains("class=\"cell code failed\"") && page.contains("<pre class=\"error\">"))
        #expect(page.contains("<pre class=\"stream\">after</pre>"), "\(page)")

        let problem = Tool.nbformatProblem(ipynb)
        #expect(problem == nil, "\(problem ?? "")")

        // --stop-on-error keeps the rest, marked not run.
        let stopped = try Tool.tfs(["notebook", path, "-o", ipynb, "--stop-on-error", "--quiet"])
        #expect(stopped.status == 70)
        let again = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ipynb))) as? [String: Any])
        let last = try #require((again["cells"] as? [[String: Any]])?.last)
        #expect(last["execution_count"] is NSNull)
        #expect(((last["metadata"] as? [String: Any])?["tfs"] as? [String: Any])?["status"] as? String == "not run")
    }

    /// Training in a notebook leaves its last progress line (not the bar redrawn with \r) and
    /// its loss curves in the cell, once even when the cell then shows the run; the progress
    /// on stderr counts code cells only.
    @Test func notebookKeepsTrainingsLastLineAndCurves() throws {
        let (dir, path) = try write("""
            # %% [markdown]
            # Some text.

            # %% train
            m = transfusion(dim=16, layers=1, heads=2)
            run = train(m, shapes(size=16), steps=3, batch=2, length=64)
            run
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ipynb = dir.appendingPathComponent("train.ipynb").path
        let r = try Tool.tfs(["notebook", path, "-o", ipynb])
        #expect(r.status == 0, "\(r.both)")
        #expect(r.stderr.contains("[1/1] train"), "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ipynb))) as? [String: Any])
        let code = try #require((object["cells"] as? [[String: Any]])?.first { $0["cell_type"] as? String == "code" })
        let outputs = try #require(code["outputs"] as? [[String: Any]])
        #expect(outputs.count == 2, "\(outputs)")
        let text = (outputs.first?["text"] as? [String])?.joined() ?? ""
        #expect(text.hasPrefix("train: 3/3 steps in 0:0") && text.contains("LM ") && text.contains("tokens/s"), "\(text)")
        #expect(!text.contains("\r") && !text.contains("ETA"))
        let data = try #require(outputs.last?["data"] as? [String: Any])
        #expect(((data["image/svg+xml"] as? [String])?.joined() ?? "").contains("training losses"))
    }

    @Test func aFileNamedAloneRunsAsWithRun() throws {
        let (dir, path) = try write("# %% one\nprint(6 * 7)\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Tool.tfs([path, "--time"])
        #expect(r.status == 0, "\(r.both)")
        #expect(r.stdout.hasPrefix("── [1] one ──\n42\n("), "\(r.both)")
    }

    @Test func runReadsANotebooksCodeCells() throws {
        let (dir, path) = try write("# %% first\nx = 20\n# %% [markdown]\n# Some text.\n# %% second\nprint(x + 1)\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ipynb = dir.appendingPathComponent("demo.ipynb").path
        let written = try Tool.tfs(["notebook", path, "-o", ipynb, "--quiet"])
        #expect(written.status == 0, "\(written.both)")
        for arguments in [["run", ipynb], [ipynb]] {
            let r = try Tool.tfs(arguments)
            #expect(r.status == 0, "\(r.both)")
            #expect(r.stdout.contains("21\n") && !r.stdout.contains("Some text"), "\(r.both)")
        }
    }

    @Test func runRefusesWhatIsNotATfsNotebook() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = [
            ("python.ipynb", #"{"cells": [{"cell_type": "code", "source": ["print(1)"]}], "metadata": {"kernelspec": {"language": "python"}}}"#,
             "its cells are python, not tfs"),
            ("dict.ipynb", #"{"a": 1}"#, "it is not a Jupyter notebook (no \"cells\" list"),
            ("text.ipynb", "print(1)", "it is not a Jupyter notebook (not a JSON object)"),
        ]
        for (name, text, reason) in cases {
            let path = dir.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try Tool.tfs(["run", path])
            #expect(r.status == 65, "\(name): \(r.both)")
            #expect(r.stderr.contains("tfs: cannot run '\(path)': \(reason)"), "\(name): \(r.both)")
            #expect(r.stdout.isEmpty, "\(name): \(r.both)")
        }
    }

    @Test func maskErrorsShowTheExpressionAsWritten() throws {
        let r = try Tool.tfs(["mask", "text:4", "--mask", "causal | same_imag"])
        #expect(r.status == 65, "\(r.both)")
        #expect(r.stderr.contains("--mask:1:10: error: undefined name 'same_imag'\n    causal | same_imag\n"), "\(r.both)")
        #expect(!r.stderr.contains("__mask"), "\(r.both)")
    }

    @Test func notebookRejectsAnUnknownExtension() throws {
        let (dir, path) = try write("print(1)\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Tool.tfs(["notebook", path, "-o", dir.appendingPathComponent("x.pdf").path])
        #expect(r.status == 64 && r.stderr.contains(".ipynb or .html"), "\(r.both)")
    }

    static let tensorsExample = Tool.root.appendingPathComponent("examples/tensors.tfs")

    @Test func theTensorsExampleExportsAsValidNbformat() throws {
        let example = Self.tensorsExample
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ipynb = dir.appendingPathComponent("tensors.ipynb").path
        let r = try Tool.tfs(["notebook", example.path, "-o", ipynb, "--quiet"], timeout: 300)
        #expect(r.status == 0, "\(r.both)")
        let problem = Tool.nbformatProblem(ipynb)
        #expect(problem == nil, "\(problem ?? "")")
    }

    /// Every example script parses and passes the checker (running them takes minutes: the
    /// training examples are run by hand, and their results are in docs/results.md).
    @Test func everyExampleScriptChecksCleanly() throws {
        let folder = Tool.root.appendingPathComponent("examples")
        let files = try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tfs") }
        #expect(files.count >= 3)
        for file in files {
            let r = try Tool.tfs(["run", folder.appendingPathComponent(file).path, "--check"])
            #expect(r.status == 0, "\(file): \(r.both)")
        }
    }
}
