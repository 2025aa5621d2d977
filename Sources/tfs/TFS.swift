import ArgumentParser
import TensorGraph

@main
struct TFS: ParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "tfs",
        abstract: "Transfusion experiments on the CPU: a scripting REPL and DSL over a lazy tensor graph.",
        subcommands: [VersionCommand.self])

    @Flag(name: .long, help: "Print the version, the OpenBLAS core and the thread count.")
    var version = false

    func run() throws {
        if version { print(VersionCommand.text()); return }
        print(VersionCommand.text())
        print("The REPL is not built yet; see `tfs --help`.")
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Version, BLAS core and threads.")
    static func text() -> String { "tfs \(TFS.version) — \(BLAS.load().summary)" }
    func run() throws { print(Self.text()) }
}
