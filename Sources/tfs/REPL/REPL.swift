#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import RichOutput
import Script
import ScriptLibrary
import TensorGraph
import Visual

/// The interactive loop: numbered inputs and outputs (`In [3]:` / `Out[3]:`), multi-line
/// entries, `:` commands, state kept across errors and Ctrl-C.
///
/// Interactive (stdin is a terminal): GNU readline with history and completion, coloured
/// prompts. Piped: plain lines, no prompts or `Out[n]:` decoration, so `echo '1+1' | tfs`
/// prints `2`; a compound statement ends at a blank line or at the next unindented line.
final class REPL {
    let interactive: Bool
    let style: Style
    let errorStyle: Style
    let session = Session(registry: .tfs)
    private let source: LineSource
    /// `In [n]`: the number the next entry gets.
    private(set) var count = 1
    /// The entries that ran without error, in order (what `:save` writes).
    private(set) var saved: [String] = []
    private let outDirectory: URL
    private var saver: ImageSaver
    private var graphCount = 0
    /// In piped mode: the line after a finished block, to be read again as the next entry.
    private var pending: String?
    /// In piped mode: the stream's line number, so errors point at the right line.
    private var lineNumber = 0
    /// The first failure seen (piped mode exits with it).
    private(set) var firstFailure: CellResult.Failure?
    /// A forced way to show pictures in the terminal (`--pictures`), nil to detect it.
    private let forcedPictures: PictureMode?
    /// How pictures are shown, detected at the first picture (so a REPL without one never
    /// queries the terminal).
    private lazy var pictures = PictureMode.detect(forced: forcedPictures)

    init(interactive: Bool, historyPath: String?, outDirectory: URL, pictures: PictureMode? = nil) {
        self.forcedPictures = pictures
        self.interactive = interactive
        self.style = interactive ? Style.forStream(STDOUT_FILENO) : Style(color: false)
        self.errorStyle = interactive ? Style.forStream(STDERR_FILENO) : Style(color: false)
        self.outDirectory = outDirectory
        self.saver = ImageSaver(directory: outDirectory, stem: "in")
        session.color = errorStyle.color
        let box = ReplBox()
        if interactive {
            source = ReadlineLineSource(historyPath: historyPath) { before, word in
                box.repl?.completions(before: before, word: word) ?? []
            }
        } else {
            source = PlainLineSource()
        }
        self.box = box
        box.repl = self
        // Ctrl-C interrupts the running entry or clears the line; SIGTERM interrupts the same
        // way (a training run saves its checkpoint), then the REPL ends with 143.
        Interrupts.installTermination()
    }

    /// Lets the completion callback reach the REPL without a retain cycle.
    private final class ReplBox { weak var repl: REPL? }
    private let box: ReplBox

    // MARK: - The loop

    /// Runs until `:quit` or the end of input; returns the exit status.
    func run() -> Int32 {
        if interactive {
            print(style.bold("tfs \(TFS.version)") + style.dim(" — :help for commands, :quit or Ctrl-D to leave"))
        }
        defer { source.close() }
        while true {
            guard let entry = readEntry() else { break }
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix(":") && !trimmed.contains("\n") {
                if command(trimmed) == .quit { break }
                continue
            }
            if isExit(trimmed) { break }
            if let query = HelpQuery(trimmed) {
                showHelp(query)
                continue
            }
            evaluate(entry, line: entryLine)
            if Interrupts.terminated { break }
        }
        fflush(stdout)
        if Interrupts.terminated {
            FileHandle.standardError.write(Data("tfs: terminated by SIGTERM\n".utf8))
            return 143
        }
        if let firstFailure, !interactive { return firstFailure == .interrupted ? 130 : Int32(firstFailure.rawValue) }
        return 0
    }

    private var entryLine = 1

    private func prompt(continuation: Bool) -> String {
        let label = "In [\(count)]: "
        if continuation {
            let dots = "...: "
            return String(repeating: " ", count: max(0, label.count - dots.count)) + readlinePrompt(dots, "32")
        }
        return readlinePrompt("In [", "32") + readlinePrompt("\(count)", "1;32") + readlinePrompt("]: ", "32")
    }

    /// Prompt text with its colour codes wrapped in readline's invisible-text markers.
    private func readlinePrompt(_ text: String, _ code: String) -> String {
        guard style.color else { return text }
        return "\u{1}\u{1B}[\(code)m\u{2}\(text)\u{1}\u{1B}[0m\u{2}"
    }

    /// Reads one complete entry (several lines while a block or bracket is open); nil at the
    /// end of input. An interactive entry goes into the history whole, once it is complete.
    private func readEntry() -> String? {
        guard let entry = readLines() else { return nil }
        if interactive { source.remember(entry) }
        return entry
    }

    private func readLines() -> String? {
        var lines: [String] = []
        while true {
            let input: LineInput
            if let p = pending { input = .line(p); pending = nil }
            else { input = source.read(prompt: prompt(continuation: !lines.isEmpty)) }
            if case .line = input { lineNumber += 1 }
            switch input {
            case .interrupted:
                if Interrupts.terminated { return nil }
                lines = []
                continue
            case .endOfInput:
                return lines.isEmpty ? nil : lines.joined(separator: "\n")
            case .line(let raw):
                let pieces = raw.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                if interactive && pieces.count > 1 {
                    // A bracketed paste, or a multi-line cell recalled from the history: one
                    // cell, blank lines and all, as in IPython.
                    if lines.isEmpty { entryLine = lineNumber }
                    lines += pieces
                    while let last = lines.last, InputScanner.isBlank(last) { lines.removeLast() }
                    if lines.isEmpty { continue }
                    if Self.pasteIsComplete(lines) { return lines.joined(separator: "\n") }
                    continue
                }
                for (i, line) in pieces.enumerated() {
                    if lines.isEmpty { entryLine = lineNumber }
                    // A command is a single line of its own.
                    if lines.isEmpty && line.trimmingCharacters(in: .whitespaces).hasPrefix(":") {
                        if i + 1 < pieces.count { pending = pieces[(i + 1)...].joined(separator: "\n") }
                        return line
                    }
                    if lines.isEmpty && InputScanner.isBlank(line) { continue }
                    if !interactive && !lines.isEmpty && !InputScanner.isBlank(line) && !InputScanner.continuesBlock(line) {
                        let above = InputScanner.scan(lines.joined(separator: "\n"))
                        if above.opensBlock && !above.isOpen {
                            // Piped: an unindented line ends the block above and starts the next entry.
                            pending = pieces[i...].joined(separator: "\n")
                            lineNumber -= 1
                            return lines.joined(separator: "\n")
                        }
                    }
                    let state = InputScanner.scan((lines + [line]).joined(separator: "\n"))
                    if InputScanner.isBlank(line) && !state.isOpen {
                        return lines.joined(separator: "\n")   // a blank line ends a block
                    }
                    lines.append(line)
                    if state.isOpen || state.opensBlock { continue }
                    let rest = pieces[(i + 1)...].joined(separator: "\n")
                    if i + 1 < pieces.count && !rest.isEmpty { pending = rest }
                    return lines.joined(separator: "\n")
                }
            }
        }
    }

    /// Whether a pasted cell can run as it is: nothing left open, and its last line neither
    /// starts a block (`for i in x:`) nor sits inside one (an indented line) — those wait, as
    /// typed blocks do, for a blank line.
    static func pasteIsComplete(_ lines: [String]) -> Bool {
        guard let last = lines.last else { return false }
        if InputScanner.scan(lines.joined(separator: "\n")).isOpen { return false }
        if InputScanner.continuesBlock(last) { return false }
        return !InputScanner.scan(last).opensBlock
    }

    // MARK: - Evaluating

    /// Runs one entry and shows its outputs; returns the result.
    @discardableResult
    func evaluate(_ text: String, line: Int = 1) -> CellResult {
        let number = count
        count += 1
        let file = interactive ? "In[\(number)]" : "<stdin>"
        let startLine = interactive ? 1 : line
        let session = self.session
        session.outputNumber = interactive ? number : nil
        defer { session.outputNumber = nil }
        let result = Evaluation.run({ session.run(source: text, file: file, line: startLine) },
                                    onInterrupt: { session.interrupt() })
        show(result, number: number)
        if result.failure == nil { saved.append(text) } else { firstFailure = firstFailure ?? result.failure }
        return result
    }

    private func show(_ result: CellResult, number: Int) {
        var imageIndex = 0
        var hadError = false
        // The terminal echoed "^C" with no line break.
        if result.failure == .interrupted && interactive { print("") }
        for output in result.outputs {
            if case .error = output {
                hadError = true
                printError(terminalText(output, style: errorStyle, saver: nil, cell: "", index: &imageIndex))
            } else {
                print(terminalText(output, style: style, saver: saver, cell: "\(number)", index: &imageIndex),
                      terminator: "")
                if let bundle = output.bundle, bundle.png != nil || bundle.svg != nil,
                   let picture = TerminalPicture.render(bundle, mode: pictures) {
                    print(picture, terminator: "")
                }
            }
        }
        if result.failure == .interrupted && !hadError { printError("KeyboardInterrupt") }
        if let value = result.value, result.failure == nil {
            if interactive {
                print(style.red("Out[") + style.wrap("\(number)", "1;31") + style.red("]: ") + value)
            } else {
                print(value)
            }
        }
        fflush(stdout)
    }

    // MARK: - IPython's shortcuts

    /// `exit`, `quit`, `exit()` and `quit()` leave, as in IPython — unless the session has
    /// a variable of that name.
    private func isExit(_ entry: String) -> Bool {
        let word = entry.hasSuffix("()") ? String(entry.dropLast(2)) : entry
        guard word == "exit" || word == "quit" else { return false }
        return session.interpreter.global(word) == nil
    }

    private func showHelp(_ query: HelpQuery) {
        if let text = query.withSource ? session.helpWithSource(query.name) : session.help(query.name) {
            print(text)
        } else {
            printError("no help for '\(query.name)'")
        }
        fflush(stdout)
    }

    // MARK: - Commands

    enum CommandResult { case `continue`, quit }

    static let commandHelp = """
    Commands:
      :help [name]      this list, or the help of a builtin, function or value
      :vars             the variables defined in the session
      :time <expr>      run <expr> and report its wall time (and graph facts for a tensor)
      :timeit <expr>    run <expr> repeatedly: the mean and spread of 7 runs (IPython's %timeit)
      :graph <expr>     draw the lazy graph of a tensor expression as SVG (:graph --dot prints DOT)
      :load FILE.tfs    run a script's cells in this session
      :save FILE.tfs    write the inputs that ran without error as a script
      :reset            forget every variable (a fresh session)
      :quit             leave (also Ctrl-D)
    name? shows the help of a name (name?? also a function's source); exit or quit leaves;
    Out[n] and _n are the value In [n] showed, _ __ ___ the last three.
    Ctrl-C interrupts a running evaluation; Tab completes names, members and keyword arguments.
    """

    func command(_ line: String) -> CommandResult {
        let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
        let name = String(body.prefix { !$0.isWhitespace })
        let argument = body.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        switch name {
        case "q", "quit", "exit":
            return .quit
        case "h", "help", "?":
            if argument.isEmpty {
                print(Self.commandHelp)
            } else if let text = session.help(argument) {
                print(text)
            } else {
                printError("no help for '\(argument)'")
            }
        case "vars", "who":
            let text = SessionBridge.globals(session)
            print(text.isEmpty ? style.dim("(no variables)") : text)
        case "time":
            guard !argument.isEmpty else { printError("usage: :time <expression>"); break }
            timeCommand(argument)
        case "timeit":
            guard !argument.isEmpty else { printError("usage: :timeit <expression>"); break }
            timeitCommand(argument)
        case "graph":
            guard !argument.isEmpty else { printError("usage: :graph [--dot] <expression>"); break }
            graphCommand(argument)
        case "load":
            guard !argument.isEmpty else { printError("usage: :load FILE.tfs"); break }
            load(path: expandTilde(argument))
        case "save":
            guard !argument.isEmpty else { printError("usage: :save FILE.tfs"); break }
            save(path: expandTilde(argument))
        case "reset":
            session.reset()
            saved = []
            print(style.dim("(session reset: every variable forgotten)"))
        default:
            printError("unknown command ':\(name)' (:help lists them)")
        }
        fflush(stdout)
        return .continue
    }

    private func timeCommand(_ expression: String) {
        let start = DispatchTime.now()
        let result = evaluate(expression, line: entryLine)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        var line = "Wall time: \(Self.formatSeconds(seconds))"
        if result.failure == nil, result.value != nil, let tensor = SessionBridge.lastTensor(session),
           let plan = try? Plan([tensor.node]) {
            line += " · graph: \(plan.nodeCount) nodes, \(plan.steps.count) planned step\(plan.steps.count == 1 ? "" : "s"), "
                + "peak \(GraphDOT.formatBytes(plan.peakBytes))"
        }
        print(style.dim(line))
    }

    /// Runs the expression once (its value shown, errors reported), then in 7 runs of as many
    /// loops as make a run last at least 0.2 s (IPython's `%timeit`), and reports the mean and
    /// standard deviation of one loop. Ctrl-C stops it.
    private func timeitCommand(_ expression: String) {
        let first = evaluate(expression, line: entryLine)
        guard first.failure == nil else { return }
        let session = self.session
        func timeLoops(_ loops: Int) -> Double? {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<loops {
                let r = Evaluation.run({ session.run(source: expression, file: "<timeit>") }, onInterrupt: { session.interrupt() })
                if r.failure != nil { return nil }
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        var loops = 1
        guard var seconds = timeLoops(loops) else { printError("KeyboardInterrupt"); return }
        while seconds < 0.2 && loops < 1_000_000 {
            loops *= 10
            guard let s = timeLoops(loops) else { printError("KeyboardInterrupt"); return }
            seconds = s
        }
        var perLoop = [seconds / Double(loops)]
        for _ in 1..<7 {
            guard let s = timeLoops(loops) else { printError("KeyboardInterrupt"); return }
            perLoop.append(s / Double(loops))
        }
        print(style.dim(Self.timeitSummary(perLoop, loops: loops)))
    }

    /// `1.23 ms ± 45.6 µs per loop (mean ± std. dev. of 7 runs, 100 loops each)`.
    static func timeitSummary(_ perLoop: [Double], loops: Int) -> String {
        let mean = perLoop.reduce(0, +) / Double(perLoop.count)
        let variance = perLoop.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(perLoop.count)
        return "\(formatSeconds(mean)) ± \(formatSeconds(variance.squareRoot())) per loop (mean ± std. dev. of "
            + "\(perLoop.count) runs, \(loops) loop\(loops == 1 ? "" : "s") each)"
    }

    static func formatSeconds(_ s: Double) -> String {
        if s < 1e-3 { return String(format: "%.1f µs", s * 1e6) }
        if s < 1 { return String(format: "%.2f ms", s * 1e3) }
        return String(format: "%.3f s", s)
    }

    private func graphCommand(_ argument: String) {
        var expression = argument
        var dotOnly = false
        if expression.hasPrefix("--dot") { dotOnly = true; expression = expression.dropFirst(5).trimmingCharacters(in: .whitespaces) }
        if let tensor = SessionBridge.tensor(session, expression: expression) {
            let dot = GraphDOT.graph([tensor], title: expression, names: session.interpreter.tensorVariableNames())
            if dotOnly { print(dot); return }
            do {
                let svg = try GraphvizRenderer.svg(dot)
                graphCount += 1
                switch saver.save(Data(svg.utf8), name: "graph-\(graphCount).svg") {
                case .success(let path): print(style.cyan("[SVG \(expression)] \(path)"))
                case .failure(let error): printError("could not save the drawing: \(error.localizedDescription)")
                }
            } catch {
                printError("could not draw the graph (\(error)); its DOT text:")
                print(dot)
            }
            return
        }
        // Without direct access to the tensor, ask the language to draw it.
        evaluate("graph(\(expression))", line: entryLine)
    }

    private func load(path: String) {
        let script: ScriptFile
        do { script = try ScriptFile(path: path) } catch { printError("\(error)"); return }
        session.remember(file: script.path, source: script.source)
        for (index, cell) in script.cells.enumerated() where cell.kind == .code && !cell.isBlank {
            print(ScriptFile.header(number: index + 1, title: cell.title, style: style))
            let number = count
            count += 1
            let session = self.session
            let result = Evaluation.run({ session.run(source: cell.source, file: script.path, line: cell.startLine) },
                                        onInterrupt: { session.interrupt() })
            show(result, number: number)
            if result.failure != nil {
                printError("stopped loading \(path) at cell \(index + 1)")
                return
            }
            saved.append(cell.source)
        }
    }

    private func save(path: String) {
        var text = "# Saved from the tfs REPL on \(ISO8601DateFormatter().string(from: Date())).\n"
        for (i, entry) in saved.enumerated() {
            text += "\n# %% \(i + 1)\n" + entry + (entry.hasSuffix("\n") ? "" : "\n")
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            print(style.dim("saved \(saved.count) input\(saved.count == 1 ? "" : "s") to \(path)"))
        } catch {
            printError("could not write \(path): \(OutputFile.reason(error))")
        }
    }

    private func expandTilde(_ path: String) -> String { (path as NSString).expandingTildeInPath }

    // MARK: - Completion

    static let commands = [":help", ":vars", ":time", ":timeit", ":graph", ":load", ":save", ":reset", ":quit"]

    func completions(before: String, word: String) -> [String] {
        let trimmed = before.drop { $0 == " " }
        if trimmed.hasPrefix(":") {
            if !trimmed.contains(" ") { return Self.commands.filter { $0.hasPrefix(trimmed) }.map { String($0.dropFirst(trimmed.count - word.count)) } }
            let parts = trimmed.split(separator: " ", maxSplits: 1)
            if parts.first == ":load" || parts.first == ":save" { return files(matching: word) }
            let rest = parts.count > 1 ? String(parts[1]) : ""
            return session.completions(for: rest.hasPrefix("--dot ") ? String(rest.dropFirst(6)) : rest)
        }
        return session.completions(for: before)
    }

    private func files(matching word: String) -> [String] {
        let expanded = expandTilde(word)
        let dir = (expanded as NSString).deletingLastPathComponent
        let prefix = (expanded as NSString).lastPathComponent
        let listing = (try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir)) ?? []
        let wordDir = (word as NSString).deletingLastPathComponent
        return listing.filter { $0.hasPrefix(prefix) && !$0.hasPrefix(".") }.sorted().map { name in
            var isDir: ObjCBool = false
            let full = dir.isEmpty ? name : dir + "/" + name
            _ = FileManager.default.fileExists(atPath: full, isDirectory: &isDir)
            return (wordDir.isEmpty ? name : wordDir + "/" + name) + (isDir.boolValue ? "/" : "")
        }
    }
}
