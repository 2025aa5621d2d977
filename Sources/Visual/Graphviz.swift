import CGraphviz
import Foundation

/// What `GraphvizRenderer` can produce.
public enum GraphvizFormat: String, CaseIterable, Sendable {
    case svg, png, pdf
    /// The DOT text itself, unrendered (for writing `.dot` files).
    case dot

    /// The format for a file name's extension (`.svg`, `.png`, `.pdf`, `.dot`/`.gv`), if known.
    public init?(pathExtension ext: String) {
        switch ext.lowercased() {
        case "svg": self = .svg
        case "png": self = .png
        case "pdf": self = .pdf
        case "dot", "gv": self = .dot
        default: return nil
        }
    }
}

/// A failure to parse, lay out or render DOT text, with Graphviz's own messages.
public struct GraphvizError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Renders DOT text through libgvc (in process, no `dot` executable needed).
///
/// Graphviz is not thread-safe and reports errors through process-wide state, so every call
/// holds one lock. Messages Graphviz would print to stderr are captured and become the
/// `GraphvizError` message instead.
public enum GraphvizRenderer {
    /// How the Graphviz context is made. Debian's shared libgvc loads its plugins from the
    /// `config6a` file written by `dot -c`, which `gvContext()` reads; `gvContextPlugins(nil, 1)`
    /// is the same with no built-in plugin table (`lt_preloaded_symbols` only exists in static
    /// builds of Graphviz, so it is not linkable here).
    enum ContextKind { case standard, plugins }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var messages = ""

    private static let collect: agusererrf = { text in
        if let text { GraphvizRenderer.messages += String(cString: text) }
        return 0
    }

    /// Renders `dot` as `format` with the `layout` engine (`dot`, `neato`, `fdp`, `circo`, …).
    /// `.dot` returns the text unchanged (after checking that it parses).
    public static func render(_ dot: String, format: GraphvizFormat = .svg,
                              layout: String = "dot") throws -> Data {
        try render(dot, format: format, layout: layout, context: .standard)
    }

    /// SVG text of the drawing.
    public static func svg(_ dot: String, layout: String = "dot") throws -> String {
        String(decoding: try render(dot, format: .svg, layout: layout), as: UTF8.self)
    }

    /// PNG bytes of the drawing.
    public static func png(_ dot: String, layout: String = "dot") throws -> Data {
        try render(dot, format: .png, layout: layout)
    }

    /// Writes `dot` to `path`, in the format its extension names (`.svg`, `.png`, `.pdf`,
    /// `.dot`/`.gv`). Creates missing parent folders.
    public static func write(_ dot: String, to path: String, layout: String = "dot") throws {
        try write(dot, to: URL(fileURLWithPath: path), layout: layout)
    }

    public static func write(_ dot: String, to url: URL, layout: String = "dot") throws {
        guard let format = GraphvizFormat(pathExtension: url.pathExtension) else {
            throw GraphvizError("cannot tell the format of '\(url.path)': use .svg, .png, .pdf or .dot")
        }
        let data = format == .dot ? Data(dot.utf8) : try render(dot, format: format, layout: layout)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw GraphvizError("cannot write '\(url.path)': \(error.localizedDescription)")
        }
    }

    static func render(_ dot: String, format: GraphvizFormat, layout: String,
                       context kind: ContextKind) throws -> Data {
        lock.lock()
        defer { lock.unlock() }

        messages = ""
        let previous = agseterrf(collect)
        defer { agseterrf(previous) }
        _ = agreseterrors()

        func failure(_ what: String) -> GraphvizError {
            let detail = messages
                .replacingOccurrences(of: "Error: ", with: "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return GraphvizError(detail.isEmpty ? what : "\(what): \(detail)")
        }

        guard let gvc = (kind == .standard ? gvContext() : gvContextPlugins(nil, 1)) else {
            throw GraphvizError("Graphviz: could not create a context")
        }
        defer { gvFreeContext(gvc) }

        guard !dot.utf8.contains(0) else { throw GraphvizError("invalid DOT: the text contains a NUL byte") }
        guard let graph = agmemread(dot) else {
            throw failure("invalid DOT")
        }
        defer { agclose(graph) }
        // A parse that recovered from an error still returns a graph: treat it as invalid too.
        if agerrors() >= Int32(AGERR.rawValue) { throw failure("invalid DOT") }

        if format == .dot { return Data(dot.utf8) }

        guard gvLayout(gvc, graph, layout) == 0 else {
            throw failure("Graphviz could not lay out the graph with '\(layout)'")
        }
        defer { gvFreeLayout(gvc, graph) }

        var buffer: UnsafeMutablePointer<CChar>? = nil
        var length: UInt32 = 0
        let status = gvRenderData(gvc, graph, format.rawValue, &buffer, &length)
        defer { if let buffer { gvFreeRenderData(buffer) } }
        guard status == 0 else {
            throw failure("Graphviz could not render \(format.rawValue)")
        }
        guard let buffer, length > 0 else {
            throw failure("Graphviz rendered nothing as \(format.rawValue) (are its plugins configured? run `dot -c` as root)")
        }
        return Data(bytes: buffer, count: Int(length))
    }
}
