import ArgumentParser
import Foundation
import Script
import TensorGraph
import Visual

/// A `.tfs` script read from disk and split into `# %%` cells, plus what `tfs run` and
/// `tfs notebook` share: choosing cells, the syntax check before anything runs, `--set`.
struct ScriptFile {
    let path: String
    let source: String
    let cells: [Cell]

    init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read '\(path)'")
        }
        // A notebook's code cells, as `# %%` cells (refused if it is not a tfs notebook).
        source = NotebookInput.isNotebook(path) ? try NotebookInput.script(data, path: path) : String(decoding: data, as: UTF8.self)
        // Comments before the first marker (a file header) are not a cell of their own; a
        // notebook shows them as its first, markdown cell.
        let all = Cells.split(source)
        cells = all.filter { !($0.markerLine == nil && $0.isBlank) }
        header = all.first.flatMap { $0.markerLine == nil && $0.isBlank && $0.source.contains("#") ? $0.source : nil }
    }

    /// The comment lines before the first `# %%` marker, if the file starts with some.
    let header: String?

    var url: URL { URL(fileURLWithPath: path) }
    var stem: String { url.deletingPathExtension().lastPathComponent }

    /// How many cells to run for `--cell N|TITLE`: up to and including that cell. N counts
    /// every cell from 1, as the `── [N] title ──` headers do; a title matches exactly, then
    /// ignoring case.
    func cellCount(upTo selector: String?) throws -> Int {
        guard let selector else { return cells.count }
        if let n = Int(selector) {
            guard n >= 1 && n <= cells.count else {
                throw ValidationError("--cell \(n): '\(path)' has \(cells.count) cell\(cells.count == 1 ? "" : "s")")
            }
            return n
        }
        if let i = cells.firstIndex(where: { $0.title == selector })
            ?? cells.firstIndex(where: { $0.title?.lowercased() == selector.lowercased() }) {
            return i + 1
        }
        let titles = cells.compactMap(\.title).map { "'\($0)'" }
        throw ValidationError("--cell '\(selector)': no cell has that title"
            + (titles.isEmpty ? " (the script's cells have no titles)" : "; titles: \(titles.joined(separator: ", "))"))
    }

    /// Syntax errors of the first `count` cells, rendered, found before running anything
    /// (name and argument checks need the earlier cells' definitions, so the session makes
    /// them as each cell runs).
    func syntaxErrors(count: Int, color: Bool = false) -> [String] {
        var errors: [String] = []
        for cell in cells.prefix(count) where cell.kind == .code {
            let sink = DiagnosticSink()
            _ = Parser.parse(cell.source, file: path, line: cell.startLine, sink: sink)
            if sink.hasErrors { errors.append(sink.render(source: source, color: color)) }
        }
        return errors
    }

    /// `--set name=value` options as a dictionary.
    static func overrides(_ settings: [String]) throws -> [String: String] {
        var result: [String: String] = [:]
        for setting in settings {
            guard let eq = setting.firstIndex(of: "=") else {
                throw ValidationError("--set '\(setting)': expected name=value")
            }
            let name = setting[..<eq].trimmingCharacters(in: .whitespaces)
            let value = String(setting[setting.index(after: eq)...])
            guard let first = name.first, first.isLetter || first == "_",
                  name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw ValidationError("--set '\(setting)': '\(name)' is not a variable name")
            }
            result[name] = value
        }
        return result
    }

    /// The header printed above a cell's output: `── [2] train ──`.
    static func header(number: Int, title: String?, style: Style) -> String {
        style.bold("── [\(number)]" + (title.map { " \($0)" } ?? "") + " ──")
    }
}

/// Appends one JSON object per recorded metric to `path` (JSON Lines).
func appendMetrics(_ session: Session, to path: String?) throws {
    guard let path else { return }
    let lines = SessionBridge.metricJSONLines(session)
    let url = URL(fileURLWithPath: path)
    try OutputFile.writing(path, option: "--metrics") {
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        }
        guard !lines.isEmpty else { return }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
    }
}

/// Warns about `--set` names that no top-level assignment used.
func warnUnusedOverrides(_ session: Session) {
    for name in session.unusedOverrides {
        printError("warning: --set \(name): the script has no top-level assignment to '\(name)'")
    }
}

/// Prints to standard error (after flushing standard output, so the two stay in order).
func printError(_ text: String) {
    fflush(stdout)
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

/// Output files named on the command line (`--metrics`, `notebook -o`, `mask -o`): checked
/// before any work, so an unwritable path costs nothing, and written with a clear message
/// if writing still fails at the end (disk full, file size limit). Both exit 73 (EX_CANTCREAT).
enum OutputFile {
    /// Creates the folder if needed and proves the file can be opened for writing: an
    /// existing file is opened for appending (not truncated), a new one created and removed.
    static func checkWritable(_ path: String, option: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw failure(option, path, "cannot create its folder (\(reason(error)))")
        }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists && isDirectory.boolValue { throw failure(option, path, "it is a folder") }
        let fd = exists ? open(path, O_WRONLY | O_APPEND) : open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        if fd < 0 { throw failure(option, path, String(cString: strerror(errno))) }
        close(fd)
        if !exists { unlink(path) }
    }

    /// Runs a write, turning its failure into the same kind of message.
    static func writing(_ path: String, option: String, _ body: () throws -> Void) throws {
        do { try body() } catch { throw failure(option, path, reason(error)) }
    }

    /// The system's words for a Foundation error that wraps an errno, else its description.
    static func reason(_ error: Error) -> String {
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? Error,
           (underlying as NSError).domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32((underlying as NSError).code)))
        }
        if let e = error as? TensorGraphError { return e.message }
        return (error as NSError).localizedDescription
    }

    private static func failure(_ option: String, _ path: String, _ why: String) -> ExitCode {
        printError("tfs: cannot write \(option) '\(path)': \(why)")
        return ExitCode(73)
    }
}
