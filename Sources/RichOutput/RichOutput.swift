import Foundation
import Script
import Visual

/// The one path from what a cell produced to what a front end shows: every picture and table
/// becomes a `MimeBundle` here, and the REPL, `tfs notebook` and the Jupyter kernel all show
/// that bundle (a new kind of picture is a new `Output` case mapped to a bundle below).
extension Output {
    /// The representations of a picture or a table; nil for text and errors, which every front
    /// end shows as text.
    public var bundle: MimeBundle? {
        switch self {
        case .text, .error: return nil
        case .table(let headers, let rows): return .table(headers: headers, rows: rows)
        case .png(let data, let caption): return .png(data, caption: caption)
        case .svg(let svg, let caption): return .svg(svg, caption: caption)
        }
    }
}

extension NotebookOutput {
    /// The notebook form of an interpreter output; errors are named after how the cell failed.
    public init(_ output: Output, failure: CellResult.Failure?) {
        if let bundle = output.bundle { self = .display(bundle); return }
        switch output {
        case .text(let text): self = .stream(text)
        case .error(let rendered):
            let name: String
            switch failure {
            case .static_?: name = "ScriptError"
            case .interrupted?: name = "KeyboardInterrupt"
            default: name = "RuntimeError"
            }
            let lines = rendered.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var message = lines.first ?? rendered
            if let r = message.range(of: "error: ") { message = String(message[r.upperBound...]) }
            self = .error(name: name, message: message, traceback: lines)
        default: self = .stream("")   // unreachable: every other output has a bundle
        }
    }
}

extension Session {
    /// The representations of the cell's value (`Out[n]`): its text, and for a dict also a
    /// key/value table (HTML and Markdown). Nil when the cell had no value or failed.
    public func valueBundle(_ result: CellResult) -> MimeBundle? {
        guard let text = result.value, result.failure == nil else { return nil }
        guard case .dict(let dict)? = lastValue, !dict.keys.isEmpty else { return MimeBundle(plain: text) }
        let rows = dict.keys.map { key in [key, dict[key].map { (try? interpreter.repr($0)) ?? $0.description } ?? ""] }
        var bundle = MimeBundle.table(headers: ["key", "value"], rows: rows)
        bundle.plain = text
        return bundle
    }
}
