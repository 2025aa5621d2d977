import TensorGraph

/// One problem found in a script: what kind, what went wrong, and where.
public struct Diagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case syntax, name, arity, type, runtime
    }

    public var kind: Kind
    public var message: String
    public var span: SourceSpan
    /// A hint shown under the caret line: "did you mean 'softmax'?", "'(' opened here", ...
    public var note: String?

    public init(_ kind: Kind, _ message: String, at span: SourceSpan, note: String? = nil) {
        self.kind = kind; self.message = message; self.span = span; self.note = note
    }

    /// `file:line:col: error: message` — the first line of `render`.
    public var description: String { "\(span): error: \(message)" }

    /// The full report: location and message, the offending source line, a caret under the
    /// span (`^` then `~` for the rest of its length), and the note if there is one.
    ///
    /// `source` is the whole text of `span.file` (spans carry whole-file line numbers even
    /// when a single cell was parsed). With `color`, ANSI escapes highlight "error:" and the caret.
    public func render(source: String, color: Bool = false) -> String {
        render(lines: sourceLines(source), color: color)
    }

    /// As `render(source:)`, with the source already split into lines.
    public func render(lines: [String], color: Bool = false) -> String {
        let red = color ? "\u{1B}[1;31m" : "", green = color ? "\u{1B}[1;32m" : ""
        let bold = color ? "\u{1B}[1m" : "", reset = color ? "\u{1B}[0m" : ""
        var out = "\(bold)\(span):\(reset) \(red)error:\(reset) \(bold)\(message)\(reset)"
        if span.line >= 1 && span.line <= lines.count {
            // Tabs become one space so the caret lines up with the character above it.
            let line = String(lines[span.line - 1].map { $0 == "\t" ? " " : $0 })
            let width = line.count
            let start = min(max(span.column, 1), width + 1)
            let length = max(1, min(span.length, width + 1 - start))
            let caret = "^" + String(repeating: "~", count: length - 1)
            out += "\n    \(line)\n    \(String(repeating: " ", count: start - 1))\(green)\(caret)\(reset)"
        }
        if let note { out += "\nnote: \(note)" }
        return out
    }
}

/// Splits text into lines the way the lexer counts them: "\n", "\r\n" and "\r" end a line.
public func sourceLines(_ source: String) -> [String] {
    var lines: [String] = [], current = ""
    for c in source {
        if isLineBreak(c) { lines.append(current); current = "" } else { current.append(c) }
    }
    lines.append(current)
    return lines
}

/// The one definition of a line break, shared by the lexer, the cell splitter and the renderer
/// so their line numbers always agree. (Swift reads "\r\n" as a single Character.)
@inline(__always) func isLineBreak(_ c: Character) -> Bool {
    c == "\n" || c == "\r\n" || c == "\r"
}

/// The one place errors go (jlox's `Lox.error`): the lexer, parser and checker all report
/// here, so a caller sees every problem of a cell in source order of discovery.
public final class DiagnosticSink {
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    public var hasErrors: Bool { !diagnostics.isEmpty }

    public func report(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    public func report(_ kind: Diagnostic.Kind, _ message: String, at span: SourceSpan,
                       note: String? = nil) {
        report(Diagnostic(kind, message, at: span, note: note))
    }

    /// All diagnostics rendered for a terminal, one block per diagnostic.
    public func render(source: String, color: Bool = false) -> String {
        let lines = sourceLines(source)
        return diagnostics.map { $0.render(lines: lines, color: color) }.joined(separator: "\n")
    }
}
