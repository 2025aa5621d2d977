import ArgumentParser
import Foundation
import RichOutput
import Script
import ScriptLibrary
import Visual

/// `tfs notebook FILE.tfs -o OUT.ipynb -o OUT.html`: runs the script and writes it with its
/// outputs as a Jupyter notebook (nbformat 4.5) and/or one self-contained HTML page.
///
/// A failing cell shows its error in place of (after) its outputs, and the later cells still
/// run — the session keeps its state across errors as the REPL does — unless
/// `--stop-on-error`, which marks them "not run" instead. The notebook is written either way;
/// the exit status is then that of the first failure (65 / 70 / 130, as for `tfs run`).
struct NotebookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Run a .tfs script and write it with its outputs as .ipynb and/or .html.",
        discussion: """
        The output format follows each -o's extension (.ipynb or .html/.htm); give -o twice \
        for both. Without -o, writes <script>.ipynb next to the script. Failing cells show \
        their error in place; later cells still run unless --stop-on-error (then they are \
        kept, marked "not run"). Exit status: 0 if every cell succeeded, otherwise that of the \
        first failure (65 static, 70 runtime, 130 interrupted); the files are written anyway.
        """)

    @Argument(help: "The script to run.", completion: .file(extensions: ["tfs"]))
    var file: String

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output file: .ipynb or .html (repeatable).", valueName: "file"))
    var outputs: [String] = []

    @OptionGroup var selection: CellSelection

    @Flag(name: .long, help: "After a failing cell, do not run the rest (they are marked not run).")
    var stopOnError = false

    @Flag(name: .shortAndLong, help: "Do not print progress.")
    var quiet = false

    enum Format { case ipynb, html }

    func validate() throws {
        for path in outputs where format(of: path) == nil {
            throw ValidationError("-o \(path): the extension must be .ipynb or .html")
        }
    }

    func format(of path: String) -> Format? {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "ipynb": return .ipynb
        case "html", "htm": return .html
        default: return nil
        }
    }

    func run() throws {
        // Ctrl-C interrupts the running cell (exit status 130); SIGTERM too (exit status 143), so
        // a training run saves its checkpoint, and the notebook is still written.
        Interrupts.installTermination()
        let script = try ScriptFile(path: file)
        let count = try script.cellCount(upTo: selection.cell)
        let session = Session(registry: .tfs)
        session.overrides = try ScriptFile.overrides(selection.settings)
        session.interpreter.documentsProgress = true   // training leaves its last line and curves in the cell
        session.remember(file: script.path, source: script.source)
        session.laterNames = Session.boundNames(in: script.source, file: script.path)
        let targets = outputs.isEmpty
            ? [script.url.deletingPathExtension().appendingPathExtension("ipynb").path] : outputs
        for path in targets { try OutputFile.checkWritable(path, option: "-o") }
        if let metrics = selection.metrics { try OutputFile.checkWritable(metrics, option: "--metrics") }

        // The file's header comments open the notebook as text, as a notebook's first cell would.
        var cells: [NotebookCell] = script.header.map { [NotebookCell(kind: .markdown, title: nil, source: markdownText($0))] } ?? []
        var executionCount = 0
        let codeCells = script.cells.prefix(count).filter { $0.kind != .markdown && !($0.isBlank && $0.title == nil) }.count
        var firstFailure: CellResult.Failure?
        for cell in script.cells.prefix(count) {
            if cell.kind == .markdown {
                cells.append(NotebookCell(kind: .markdown, title: cell.title, source: markdownText(cell.source)))
                continue
            }
            if cell.isBlank && cell.title == nil { continue }
            let source = trimmedSource(cell.source)
            if firstFailure != nil && stopOnError {
                cells.append(NotebookCell(title: cell.title, source: source, status: .notRun))
                continue
            }
            Interrupts.drain()   // a SIGTERM between cells ends the run here
            if Interrupts.terminated { firstFailure = firstFailure ?? .interrupted; break }
            executionCount += 1
            if !quiet { printError("[\(executionCount)/\(codeCells)] \(cell.title ?? "cell \(executionCount)")") }
            let result = Evaluation.run({ session.run(source: cell.source, file: script.path, line: cell.startLine) },
                                        onInterrupt: { session.interrupt() })
            var outputs = result.outputs.map { NotebookOutput($0, failure: result.failure) }
            if let value = result.value, result.failure == nil { outputs.append(.result(value)) }
            if result.failure == .interrupted && !outputs.contains(where: { if case .error = $0 { return true }; return false }) {
                outputs.append(.error(name: "KeyboardInterrupt", message: "interrupted", traceback: ["interrupted"]))
            }
            cells.append(NotebookCell(title: cell.title, source: source, outputs: outputs,
                                      executionCount: executionCount,
                                      status: result.failure == nil ? .ok : .failed, seconds: result.seconds))
            if let failure = result.failure {
                firstFailure = firstFailure ?? failure
                if failure == .interrupted { break }
            }
        }

        let notebook = Notebook(cells: cells, title: URL(fileURLWithPath: file).lastPathComponent,
                                sourcePath: file, version: TFS.version)
        for path in targets {
            let url = URL(fileURLWithPath: path)
            try OutputFile.writing(path, option: "-o") {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                switch format(of: path)! {
                case .ipynb: try notebook.ipynb().write(to: url)
                case .html: try Data(NotebookHTML.page(notebook).utf8).write(to: url)
                }
            }
            print("wrote \(displayPath(url.path))")
        }
        if firstFailure == nil { warnUnusedOverrides(session) }
        try appendMetrics(session, to: selection.metrics)
        if Interrupts.terminated {
            printError("terminated by SIGTERM")
            throw ExitCode(143)
        }
        if let firstFailure {
            throw ExitCode(firstFailure == .interrupted ? 130 : Int32(firstFailure.rawValue))
        }
    }

    /// A cell's source without the blank lines that separate it from the next marker.
    func trimmedSource(_ source: String) -> String {
        var lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
        while let first = lines.first, first.allSatisfy(\.isWhitespace) { lines.removeFirst() }
        return lines.joined(separator: "\n")
    }

    /// A `# %% [markdown]` cell's text: its `# ` comment prefixes removed.
    func markdownText(_ source: String) -> String {
        trimmedSource(source).split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("# ") { return String(line.dropFirst(2)) }
            if line.hasPrefix("#") { return String(line.dropFirst()) }
            return String(line)
        }.joined(separator: "\n")
    }
}
