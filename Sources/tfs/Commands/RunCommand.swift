import ArgumentParser
import Foundation
import Script
import ScriptLibrary

/// `tfs run FILE.tfs`: runs the script's cells in order, printing each cell's output under a
/// `── [N] title ──` header. Images are saved as files (in `runs/<script name>/` under the
/// working directory, or in `--out`) and their paths printed.
///
/// Exit status: 0 when every cell ran; 65 for a script error found before running (a syntax
/// error anywhere in the selected cells, checked before the first cell runs, or a name or
/// argument error in a cell, found before that cell runs); 70 for an error while running;
/// 130 when interrupted with Ctrl-C, 143 after SIGTERM (which interrupts like Ctrl-C, so a
/// training run saves its checkpoint). The first failing cell stops the run.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a .tfs script's cells (or a tfs notebook's code cells) in order, printing each cell's output under its title.",
        discussion: """
        Exit status: 0 success, 65 script error found before running, 70 runtime error, \
        130 interrupted (Ctrl-C), 143 terminated (SIGTERM: a training run saves its checkpoint first). Images (PNG) and drawings (SVG) are written into runs/<script>/ \
        (under the working directory) or into --out DIR, as <script>-<cell>-<k>.png|svg.
        """)

    @Argument(help: "The script to run (a .ipynb notebook runs its code cells).", completion: .file(extensions: ["tfs", "ipynb"]))
    var file: String

    @OptionGroup var selection: CellSelection

    @Option(name: .long, help: ArgumentHelp("Write images and drawings into this directory (default: runs/<script name>/).", valueName: "dir"))
    var out: String?

    @Flag(name: .long, help: "Write drawings (graphs, masks, plots) as PNG files, rasterised by librsvg at two pixels a unit, instead of SVG.")
    var png = false

    @Flag(name: .long, help: "Print how long each cell took.")
    var time = false

    @Flag(name: .long, help: "Only parse and check the whole script (names, calls, arguments); run nothing.")
    var check = false

    func run() throws {
        // Ctrl-C interrupts the running cell (exit status 130); SIGTERM too (exit status 143),
        // so a training run saves its checkpoint before the process ends.
        Interrupts.installTermination()
        let script = try ScriptFile(path: file)
        let count = try script.cellCount(upTo: selection.cell)
        let overrides = try ScriptFile.overrides(selection.settings)
        let style = Style.forStream(STDOUT_FILENO)

        let errorStyle = Style.forStream(STDERR_FILENO)
        let syntax = script.syntaxErrors(count: count, color: errorStyle.color)
        if !syntax.isEmpty {
            printError(syntax.joined(separator: "\n"))
            throw ExitCode(65)
        }

        if let metrics = selection.metrics { try OutputFile.checkWritable(metrics, option: "--metrics") }
        let session = Session(registry: .tfs)
        if check {
            session.remember(file: script.path, source: script.source)
            let problems = session.check(source: script.source, file: script.path)
            if !problems.isEmpty { printError(problems.joined(separator: "\n")); throw ExitCode(65) }
            return
        }
        session.overrides = overrides
        session.laterNames = Session.boundNames(in: script.source, file: script.path)
        session.color = errorStyle.color
        session.remember(file: script.path, source: script.source)
        let saver = ImageSaver(directory: URL(fileURLWithPath: out ?? "runs/\(script.stem)"), stem: script.stem)
        saver.drawingsAsPNG = png
        var status: Int32 = 0
        var first = true
        for (index, cell) in script.cells.prefix(count).enumerated() {
            guard cell.kind == .code, !cell.isBlank else { continue }
            Interrupts.drain()   // a SIGTERM between cells ends the run here (a Ctrl-C then is dropped, as at any cell's start)
            if Interrupts.terminated { status = 143; break }
            if !first { print("") }
            first = false
            print(ScriptFile.header(number: index + 1, title: cell.title, style: style))
            let result = Evaluation.run({ session.run(source: cell.source, file: script.path, line: cell.startLine) },
                                        onInterrupt: { session.interrupt() })
            var imageIndex = 0
            for output in result.outputs {
                let text = terminalText(output, style: style, saver: saver, cell: "\(index + 1)", index: &imageIndex)
                if case .error = output {
                    printError(terminalText(output, style: errorStyle, saver: nil,
                                            cell: "", index: &imageIndex))
                } else {
                    print(text, terminator: "")
                }
            }
            if let value = result.value, result.failure == nil { print(value) }
            if time { print(style.dim(String(format: "(%.3f s)", result.seconds))) }
            if let failure = result.failure {
                status = failure == .interrupted ? 130 : Int32(failure.rawValue)
                if failure == .interrupted && !result.outputs.contains(where: { if case .error = $0 { return true }; return false }) {
                    printError("interrupted")
                }
                if Interrupts.terminated { status = 143 }
                break
            }
            if Interrupts.terminated { status = 143; break }
        }
        fflush(stdout)
        if status == 0 { warnUnusedOverrides(session) }
        try appendMetrics(session, to: selection.metrics)
        if status == 143 { printError("terminated by SIGTERM") }
        if status != 0 { throw ExitCode(status) }
    }
}
