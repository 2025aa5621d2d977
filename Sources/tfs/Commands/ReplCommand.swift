#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation

/// Options of the REPL, shared by `tfs` (no arguments) and `tfs repl`.
struct ReplOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("History file (default $TFS_HISTORY, else ~/.tfs_history).", valueName: "file"))
    var history: String?

    @Flag(name: .long, help: "Keep no history file.")
    var noHistory = false

    @Option(name: .long, help: ArgumentHelp("Directory for images and drawings shown in the REPL (default: a temporary directory, removed when the REPL ends).",
                                            valueName: "dir"))
    var out: String?

    @Option(name: .long, help: ArgumentHelp("Pictures in the terminal: auto (detect; the default, or $TFS_PICTURES), kitty, iterm2, sixel, blocks or off.",
                                            valueName: "mode"))
    var pictures: String?

    func validate() throws {
        do { _ = try PictureMode.setting(picturesSetting) } catch { throw ValidationError("\(error)") }
    }

    /// `--pictures`, else `$TFS_PICTURES`, else auto.
    var picturesSetting: String { pictures ?? ProcessInfo.processInfo.environment["TFS_PICTURES"] ?? "auto" }

    var historyPath: String? {
        if noHistory { return nil }
        if let history { return (history as NSString).expandingTildeInPath }
        let env = ProcessInfo.processInfo.environment
        if let path = env["TFS_HISTORY"] { return path.isEmpty ? nil : (path as NSString).expandingTildeInPath }
        let home = env["HOME"] ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".tfs_history")
    }

    var outDirectory: URL {
        if let out { return URL(fileURLWithPath: (out as NSString).expandingTildeInPath) }
        return FileManager.default.temporaryDirectory.appendingPathComponent("tfs-repl-\(getpid())")
    }

    /// Starts the REPL: interactive when standard input is a terminal, plain lines otherwise.
    func start() throws {
        let interactive = isatty(STDIN_FILENO) == 1
        let repl = REPL(interactive: interactive, historyPath: interactive ? historyPath : nil,
                        outDirectory: outDirectory, pictures: try PictureMode.setting(picturesSetting))
        let status = repl.run()
        // The default folder is this process's own temporary one: gone with the session.
        if out == nil { try? FileManager.default.removeItem(at: outDirectory) }
        if status != 0 { throw ExitCode(status) }
    }
}

/// `tfs repl`: the REPL, as `tfs` with no arguments.
struct ReplCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "The interactive REPL (also what `tfs` with no arguments starts).",
        discussion: """
        With standard input a terminal: GNU readline editing, persistent history, Tab completion, \
        In [n] / Out[n] numbering, :help for commands. Piped: plain lines in, plain output out \
        (no prompts); a block ends at a blank line or the next unindented line; the exit status \
        is that of the first failing input (65 static, 70 runtime), else 0.
        """)

    @OptionGroup var options: ReplOptions

    func run() throws { try options.start() }
}
