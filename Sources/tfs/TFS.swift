import ArgumentParser
import Foundation
import TensorGraph

@main
struct TFS: ParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "tfs",
        abstract: "Transfusion experiments on the CPU: a scripting REPL and DSL over a lazy tensor graph.",
        discussion: "With no subcommand, starts the REPL (see `tfs repl --help`); `tfs FILE.tfs` (or FILE.ipynb) runs a file as `tfs run FILE` does.",
        subcommands: [RunCommand.self, NotebookCommand.self, SweepCommand.self, ReplCommand.self, KernelCommand.self, MaskCommand.self, GlyphsCommand.self, VersionCommand.self, BenchCommand.self, ReferenceCommand.self])

    @Flag(name: .long, help: "Print the version, the OpenBLAS core and the thread count.")
    var version = false

    /// Every command first ignores SIGXFSZ: a write past the file-size limit (`ulimit -f`) then
    /// fails with EFBIG and is reported like any write failure instead of ending tfs.
    static func main() {
        signal(SIGXFSZ, SIG_IGN)
        main(arguments(Array(CommandLine.arguments.dropFirst())))
    }

    /// `tfs FILE.tfs [options]` (or `FILE.ipynb`) means `tfs run FILE ...`, as `python FILE` runs a file.
    static func arguments(_ given: [String]) -> [String] {
        guard let first = given.first, !first.hasPrefix("-") else { return given }
        let names = configuration.subcommands.compactMap { $0.configuration.commandName }
        guard !names.contains(first), first.hasSuffix(".tfs") || NotebookInput.isNotebook(first) else { return given }
        return ["run"] + given
    }

    func run() throws {
        if version { print(VersionCommand.text()); return }
        // The REPL with its default options (`tfs repl --help` lists them). Not an option
        // group here: the subcommands' own `--out` would be taken by it.
        try ReplOptions.parse([]).start()
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Version, BLAS core, threads and SIMD level.")
    static func text() -> String { "tfs \(TFS.version) — \(BLAS.load().summary); \(SIMDLevel.summary)" }
    func run() throws { print(Self.text()) }
}
