import ArgumentParser
import Foundation
import Script
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
        source = String(decoding: data, as: UTF8.self)
        // Comments before the first marker (a file header) are not a cell of their own.
        cells = Cells.split(source).filter { !($0.markerLine == nil && $0.isBlank) }
    }

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
    if !FileManager.default.fileExists(atPath: path) {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: nil)
    }
    guard !lines.isEmpty else { return }
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
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
