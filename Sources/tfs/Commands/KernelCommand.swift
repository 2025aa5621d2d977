import ArgumentParser
import Foundation
import Kernel
import Script
import ScriptLibrary

/// `tfs kernel -f CONNECTION.json`: a Jupyter kernel (started by Jupyter through the kernel
/// spec); `tfs kernel install` writes that spec.
struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Run as a Jupyter kernel (tfs kernel -f CONNECTION.json), or install its kernel spec.",
        discussion: """
        Jupyter starts the kernel itself once the spec is installed (tfs kernel install); \
        then open a notebook in JupyterLab or VS Code and choose the "tfs" kernel. SIGINT and \
        interrupt_request stop the running cell (a training run at a step boundary, keeping its checkpoint).
        """,
        subcommands: [KernelInstallCommand.self])

    @Option(name: .customShort("f"), help: ArgumentHelp("The connection file Jupyter wrote.", valueName: "file"))
    var connectionFile: String?

    func run() throws {
        guard let connectionFile else {
            throw ValidationError("give the connection file: tfs kernel -f CONNECTION.json (Jupyter does), or tfs kernel install")
        }
        let connection: ConnectionInfo
        let kernel: JupyterKernel
        do {
            connection = try ConnectionInfo(path: connectionFile)
            Interrupts.install()
            let session = Session(registry: .tfs)
            session.interpreter.documentsProgress = true   // a notebook: training leaves its last line and curves
            kernel = try JupyterKernel(connection: connection, version: TFS.version, session: session,
                                       interrupts: InterruptSource(fd: Interrupts.readFD, drain: { Interrupts.drain() }))
        } catch let error as KernelError {
            printError("tfs kernel: \(error)")
            throw ExitCode(1)
        }
        throw ExitCode(kernel.run())
    }
}

/// `tfs kernel install [--user | --prefix P]`: writes `kernels/tfs/kernel.json`.
struct KernelInstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Write the tfs kernel spec where Jupyter finds it (the user's Jupyter data directory by default).")

    @Flag(name: .long, help: "Install for this user (the default): ~/.local/share/jupyter/kernels/tfs.")
    var user = false

    @Option(name: .long, help: ArgumentHelp("Install under PREFIX/share/jupyter/kernels/tfs (e.g. a virtual environment).", valueName: "prefix"))
    var prefix: String?

    func validate() throws {
        if user && prefix != nil { throw ValidationError("give --user or --prefix, not both") }
    }

    func run() throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let path = FileManager.default.fileExists(atPath: executable)
            ? executable : URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let dir = try KernelSpec.install(executable: path, prefix: prefix)
        print("installed the tfs kernel spec in \(displayPath(dir.path))")
    }
}
