/// One notebook cell of a script.
public struct Cell: Sendable, Equatable {
    public enum Kind: String, Sendable { case code, markdown }

    /// The text after `# %%` (without a `[markdown]` tag), or nil if there is none.
    public var title: String?
    public var kind: Kind
    /// The cell's text, from the line after its marker to the line before the next marker.
    public var source: String
    /// The 1-based line of the whole file where `source` begins: pass it to the parser so
    /// spans point at the right line.
    public var startLine: Int
    /// The line of the `# %%` marker, or nil for text before the first marker.
    public var markerLine: Int?

    public init(title: String?, kind: Kind = .code, source: String, startLine: Int, markerLine: Int?) {
        self.title = title; self.kind = kind; self.source = source
        self.startLine = startLine; self.markerLine = markerLine
    }

    /// True if the cell holds nothing but blank lines and comments.
    public var isBlank: Bool {
        sourceLines(source).allSatisfy {
            let t = $0.drop { $0 == " " || $0 == "\t" }
            return t.isEmpty || t.hasPrefix("#")
        }
    }
}

/// Splits a script into cells in the percent format of Jupytext and VS Code: a line
/// starting with `# %%` (or `#%%`) begins a cell, optionally titled (`# %% train`) and
/// typed (`# %% [markdown]`, whose lines are `# ` comments holding the text).
public enum Cells {
    public static func split(_ source: String) -> [Cell] {
        var cells: [Cell] = []
        var current = Cell(title: nil, source: "", startLine: 1, markerLine: nil)
        var body: [String] = []
        func close() {
            current.source = body.joined(separator: "\n")
            // Text before the first marker is a cell only if it holds something.
            if current.markerLine != nil || !current.source.allSatisfy(\.isWhitespace) {
                cells.append(current)
            }
        }
        for (index, line) in sourceLines(source).enumerated() {
            guard let marker = parseMarker(line) else { body.append(line); continue }
            close()
            current = Cell(title: marker.title, kind: marker.kind, source: "",
                           startLine: index + 2, markerLine: index + 1)
            body = []
        }
        close()
        return cells
    }

    /// The title and kind of a marker line, or nil if `line` is not one.
    static func parseMarker(_ line: String) -> (title: String?, kind: Cell.Kind)? {
        let rest: Substring
        if line.hasPrefix("# %%") { rest = line.dropFirst(4) }
        else if line.hasPrefix("#%%") { rest = line.dropFirst(3) }
        else { return nil }
        // "# %%%" or "# %%x" are ordinary comments.
        if let first = rest.first, first != " " && first != "\t" { return nil }
        var text = rest.trimmingSpaces
        var kind = Cell.Kind.code
        for tag in ["[markdown]", "[md]"] where text.contains(tag) {
            kind = .markdown
            text = String(text.replacing(tag, with: "")).trimmingSpaces
        }
        return (text.isEmpty ? nil : text, kind)
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
