import Foundation

/// One cell of a script and what running it gave.
public struct CellRun {
    public var cell: Cell
    /// 1-based position among the script's cells.
    public var number: Int
    public var result: CellResult
    /// The cell's title, or "cell N" for an untitled one.
    public var title: String { cell.title ?? "cell \(number)" }
}

extension Session {
    /// Runs a whole script, cell by cell (`tfs run`). Markdown cells are returned with an
    /// empty result. With `stopOnError`, cells after a failing one are not run (nor returned).
    /// `through` limits the run to the cells up to and including one (`--cell N|TITLE`).
    public func runCells(source: String, file: String, through: String? = nil,
                         stopOnError: Bool = true) throws -> [CellRun] {
        remember(file: file, source: source)
        laterNames = Session.boundNames(in: source, file: file)
        var cells = Array(Cells.split(source).enumerated())
        if let through {
            guard let last = Session.cellIndex(through, in: cells.map(\.element)) else {
                throw RuntimeError("no cell '\(through)' in \(file) (give a 1-based number or a title)")
            }
            cells = Array(cells.prefix(last + 1))
        }
        var runs: [CellRun] = []
        for (i, cell) in cells {
            guard cell.kind == .code else {
                runs.append(CellRun(cell: cell, number: i + 1, result: CellResult()))
                continue
            }
            let result = run(source: cell.source, file: file, line: cell.startLine)
            runs.append(CellRun(cell: cell, number: i + 1, result: result))
            if stopOnError && result.failure != nil { break }
        }
        return runs
    }

    /// The names `source` binds at its top level, in any cell (what `laterNames` holds while
    /// the file runs: a function may call one defined in a later cell).
    public static func boundNames(in source: String, file: String) -> Set<String> {
        Set(Script.boundNames(Parser.parse(source, file: file, sink: DiagnosticSink())).map(\.0))
    }

    /// Reads and runs a script file.
    public func runFile(path: String, through: String? = nil, stopOnError: Bool = true) throws -> [CellRun] {
        let source = try String(contentsOfFile: path, encoding: .utf8)
        return try runCells(source: source, file: path, through: through, stopOnError: stopOnError)
    }

    /// The index of the cell named by a 1-based number or a title.
    public static func cellIndex(_ selector: String, in cells: [Cell]) -> Int? {
        if let n = Int(selector), n >= 1, n <= cells.count { return n - 1 }
        return cells.firstIndex { $0.title == selector }
    }
}
