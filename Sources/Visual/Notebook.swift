import Foundation

/// A run script as a notebook: its cells in order, each with its source and what running it
/// showed. `tfs notebook` builds one and writes it as `.ipynb` (nbformat 4.5) and/or as one
/// self-contained HTML page (`NotebookHTML`).
///
/// The types here are neutral (no dependency on the Script module, which depends on Visual):
/// the command-line tool converts the interpreter's outputs into `NotebookOutput`s.
public struct Notebook: Sendable, Equatable {
    public var cells: [NotebookCell]
    /// The notebook's title (the script's file name): the HTML page title and heading, and
    /// `metadata.title` in the `.ipynb`.
    public var title: String?
    /// Where the notebook came from (the script's path), noted in the metadata.
    public var sourcePath: String?
    /// The tool's version, recorded as `metadata.language_info.version`.
    public var version: String

    public init(cells: [NotebookCell], title: String? = nil, sourcePath: String? = nil,
                version: String = "0") {
        self.cells = cells; self.title = title; self.sourcePath = sourcePath; self.version = version
    }
}

/// One cell of a notebook.
public struct NotebookCell: Sendable, Equatable {
    public enum Kind: String, Sendable { case code, markdown }

    /// What happened when the cell was run.
    public enum Status: String, Sendable {
        case ok
        /// The cell failed: its outputs end with an `.error`.
        case failed
        /// The cell was not run (an earlier cell failed and the run stopped there).
        case notRun = "not run"
        /// A markdown cell (nothing to run).
        case text
    }

    public var kind: Kind
    /// The `# %% title`, if the cell had one.
    public var title: String?
    public var source: String
    public var outputs: [NotebookOutput]
    /// `In [n]`: the cell's place in the run order (nil when not run or for markdown).
    public var executionCount: Int?
    public var status: Status
    /// Wall time the cell took, if it ran.
    public var seconds: Double?

    public init(kind: Kind = .code, title: String? = nil, source: String,
                outputs: [NotebookOutput] = [], executionCount: Int? = nil,
                status: Status = .ok, seconds: Double? = nil) {
        self.kind = kind; self.title = title; self.source = source; self.outputs = outputs
        self.executionCount = executionCount; self.status = kind == .markdown ? .text : status
        self.seconds = seconds
    }
}

/// One output of a code cell.
public enum NotebookOutput: Sendable, Equatable {
    /// Printed text (`print(...)`).
    case stream(String)
    /// The cell's value (`Out[n]`), rendered as text.
    case result(String)
    /// A picture or a table, in every representation it has (see `MimeBundle`).
    case display(MimeBundle)
    /// An error: `name` is its class ("SyntaxError", "RuntimeError", …), `message` the one-line
    /// summary and `traceback` the full rendered diagnostic, one element per line.
    case error(name: String, message: String, traceback: [String])
}

// MARK: - Plain text helpers shared by the exporters and the terminal

public enum NotebookText {
    /// A table laid out in aligned columns, with a rule under the header.
    public static func table(headers: [String], rows: [[String]]) -> String {
        let columns = max(headers.count, rows.map(\.count).max() ?? 0)
        guard columns > 0 else { return "" }
        func cell(_ row: [String], _ i: Int) -> String { i < row.count ? row[i] : "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in [headers] + rows {
            for i in 0..<columns { widths[i] = max(widths[i], cell(row, i).count) }
        }
        func line(_ row: [String]) -> String {
            (0..<columns).map { i in
                let text = cell(row, i)
                return text + String(repeating: " ", count: widths[i] - text.count)
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var lines: [String] = []
        if !headers.isEmpty {
            lines.append(line(headers))
            lines.append(widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
        }
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }

    /// Text split into Jupyter's line list: every line but the last keeps its "\n".
    static func jupyterLines(_ text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        var lines: [String] = []
        var current = ""
        for c in text {
            current.append(c)
            if c == "\n" { lines.append(current); current = "" }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}

// MARK: - nbformat 4.5

extension Notebook {
    /// The notebook as nbformat 4.5 JSON (sorted keys, pretty-printed, a trailing newline),
    /// valid against the nbformat v4.5 schema.
    public func ipynb() throws -> Data {
        var data = try JSONSerialization.data(withJSONObject: ipynbObject(),
                                              options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// The JSON object tree written by `ipynb()`.
    public func ipynbObject() -> [String: Any] {
        var cellObjects: [[String: Any]] = []
        var usedIDs = Set<String>()
        func uniqueID(_ base: String) -> String {
            var id = base, n = 1
            while usedIDs.contains(id) { n += 1; id = "\(base)-\(n)" }
            usedIDs.insert(id)
            return id
        }

        for (index, cell) in cells.enumerated() {
            let number = index + 1
            let slug = Notebook.slug(cell.title)
            let base = "cell-\(number)" + (slug.isEmpty ? "" : "-\(slug)")
            switch cell.kind {
            case .markdown:
                cellObjects.append([
                    "id": uniqueID(base),
                    "cell_type": "markdown",
                    "metadata": cell.title.map { ["title": $0] } ?? [String: Any](),
                    "source": NotebookText.jupyterLines(cell.source),
                ])
            case .code:
                // The `# %% title` becomes a heading cell above the code (what a reader of the
                // notebook sees) and `metadata.title` on the code cell (what Jupytext reads).
                if let title = cell.title {
                    cellObjects.append([
                        "id": uniqueID(base + "-title"),
                        "cell_type": "markdown",
                        "metadata": ["tfs": ["role": "cell-title"]],
                        "source": ["## " + title],
                    ])
                }
                var metadata: [String: Any] = ["tfs": ["status": cell.status.rawValue]]
                if let title = cell.title { metadata["title"] = title }
                if let seconds = cell.seconds {
                    metadata["tfs"] = ["status": cell.status.rawValue,
                                       "seconds": (seconds * 1e6).rounded() / 1e6]
                }
                cellObjects.append([
                    "id": uniqueID(base),
                    "cell_type": "code",
                    "metadata": metadata,
                    "execution_count": cell.executionCount.map { $0 as Any } ?? NSNull(),
                    "source": NotebookText.jupyterLines(cell.source),
                    "outputs": cell.outputs.map { $0.ipynbObject(executionCount: cell.executionCount) },
                ])
            }
        }

        var metadata: [String: Any] = [
            "kernelspec": ["name": "tfs", "display_name": "tfs", "language": "tfs"],
            "language_info": [
                "name": "tfs",
                "version": version,
                "file_extension": ".tfs",
                "mimetype": "text/x-tfs",
                // The syntax reads as Python, so borrow its highlighting.
                "codemirror_mode": "python",
                "pygments_lexer": "python",
            ] as [String: Any],
        ]
        if let title { metadata["title"] = title }
        if let sourcePath { metadata["tfs"] = ["source": sourcePath] }
        return ["nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": cellObjects]
    }

    /// Lowercase letters, digits and single dashes: a title made safe for a cell id
    /// (nbformat 4.5: `^[a-zA-Z0-9-_]+$`, at most 64 characters).
    static func slug(_ title: String?) -> String {
        guard let title else { return "" }
        var out = ""
        for c in title.lowercased() {
            if c.isASCII && (c.isLetter || c.isNumber) { out.append(c) }
            else if !out.isEmpty && out.last != "-" { out.append("-") }
        }
        while out.last == "-" { out.removeLast() }
        return String(out.prefix(40))
    }
}

extension NotebookOutput {
    func ipynbObject(executionCount: Int?) -> [String: Any] {
        switch self {
        case .stream(let text):
            return ["output_type": "stream", "name": "stdout",
                    "text": NotebookText.jupyterLines(text.hasSuffix("\n") ? text : text + "\n")]
        case .result(let text):
            return ["output_type": "execute_result",
                    "execution_count": executionCount.map { $0 as Any } ?? NSNull(),
                    "data": ["text/plain": NotebookText.jupyterLines(text)],
                    "metadata": [String: Any]()]
        case .display(let bundle):
            return ["output_type": "display_data", "data": bundle.ipynbData, "metadata": [String: Any]()]
        case .error(let name, let message, let traceback):
            return ["output_type": "error", "ename": name, "evalue": message, "traceback": traceback]
        }
    }
}
