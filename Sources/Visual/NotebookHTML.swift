import CCmark
import Foundation

/// A notebook as one self-contained HTML page: inline CSS, no scripts, no external files.
/// PNG images are embedded as `data:` URIs and SVG drawings inline; failing cells show their
/// error in a red box where their outputs would be.
public enum NotebookHTML {
    public static func page(_ notebook: Notebook) -> String {
        let title = escape(notebook.title ?? "tfs notebook")
        var body = ""
        body += "<header><h1>\(title)</h1>"
        var facts: [String] = []
        if let path = notebook.sourcePath { facts.append("<code>\(escape(path))</code>") }
        let failed = notebook.cells.filter { $0.status == .failed }.count
        let notRun = notebook.cells.filter { $0.status == .notRun }.count
        let code = notebook.cells.filter { $0.kind == .code }.count
        facts.append("\(code) code cell\(code == 1 ? "" : "s")")
        if failed > 0 { facts.append("<span class=\"bad\">\(failed) failed</span>") }
        if notRun > 0 { facts.append("\(notRun) not run") }
        facts.append("tfs \(escape(notebook.version))")
        body += "<p class=\"facts\">\(facts.joined(separator: " · "))</p></header>\n"
        for (index, cell) in notebook.cells.enumerated() {
            body += html(cell, number: index + 1)
        }
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="tfs \(escape(notebook.version))">
        <title>\(title)</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        <main>
        \(body)</main>
        </body>
        </html>

        """
    }

    static func html(_ cell: NotebookCell, number: Int) -> String {
        if cell.kind == .markdown {
            return "<section class=\"cell markdown\" id=\"cell-\(number)\">"
                + (cell.title.map { "<h2>\(escape($0))</h2>" } ?? "")
                + "<div class=\"prose\">\(markdown(cell.source))</div></section>\n"
        }
        let classes = ["cell", "code", cell.status == .failed ? "failed" : nil,
                       cell.status == .notRun ? "not-run" : nil].compactMap { $0 }
        var out = "<section class=\"\(classes.joined(separator: " "))\" id=\"cell-\(number)\">\n"
        var heading = cell.title.map { "<h2>\(escape($0))</h2>" } ?? ""
        var badges: [String] = []
        if let seconds = cell.seconds { badges.append(String(format: "%.3f s", seconds)) }
        switch cell.status {
        case .failed: badges.append("<span class=\"bad\">failed</span>")
        case .notRun: badges.append("not run")
        default: break
        }
        if !badges.isEmpty { heading += "<span class=\"badge\">\(badges.joined(separator: " · "))</span>" }
        if !heading.isEmpty { out += "<div class=\"title\">\(heading)</div>\n" }
        let prompt = cell.executionCount.map { "In [\($0)]:" } ?? "In [ ]:"
        out += "<div class=\"row\"><div class=\"prompt in\">\(prompt)</div>"
        out += "<pre class=\"source\"><code>\(escape(cell.source))</code></pre></div>\n"
        for output in cell.outputs {
            let isResult: Bool
            if case .result = output { isResult = true } else { isResult = false }
            let prompt = isResult ? (cell.executionCount.map { "Out[\($0)]:" } ?? "Out:") : ""
            out += "<div class=\"row\"><div class=\"prompt out\">\(prompt)</div>"
            out += "<div class=\"output\">\(html(output))</div></div>\n"
        }
        out += "</section>\n"
        return out
    }

    static func html(_ output: NotebookOutput) -> String {
        switch output {
        case .stream(let text):
            return "<pre class=\"stream\">\(escape(text))</pre>"
        case .result(let text):
            return "<pre class=\"result\">\(escape(text))</pre>"
        case .display(let bundle):
            let caption = bundle.caption.map { "<figcaption>\(escape($0))</figcaption>" } ?? ""
            if let png = bundle.png {
                let alt = escape(bundle.caption ?? "image")
                return "<figure><img alt=\"\(alt)\" src=\"data:image/png;base64,\(png.base64EncodedString())\">\(caption)</figure>"
            }
            if let svg = bundle.svg { return "<figure class=\"svg\">\(svg)\(caption)</figure>" }
            return bundle.html ?? "<pre class=\"stream\">\(escape(bundle.plain))</pre>"
        case .error(let name, _, let traceback):
            return "<pre class=\"error\"><span class=\"ename\">\(escape(name))</span>\n"
                + escape(traceback.joined(separator: "\n")) + "</pre>"
        }
    }

    /// Markdown (CommonMark) as HTML, through libcmark in its safe mode: raw HTML in the text
    /// is left out and `javascript:` links are dropped; everything else is escaped.
    public static func markdown(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard let html = cmark_markdown_to_html(bytes.map { CChar(bitPattern: $0) }, bytes.count, CMARK_OPT_DEFAULT) else {
            return "<pre>\(escape(text))</pre>"   // libcmark out of memory
        }
        defer { free(html) }
        return String(cString: html)
    }

    /// An HTML table (also the `text/html` form of a table in the `.ipynb`).
    public static func table(headers: [String], rows: [[String]]) -> String {
        var out = "<table>"
        if !headers.isEmpty {
            out += "<thead><tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead>"
        }
        out += "<tbody>"
        for row in rows {
            out += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>"
        }
        return out + "</tbody></table>"
    }

    /// SVG text without its `<?xml …?>` declaration and `<!DOCTYPE …>` (both invalid inside
    /// HTML and unwanted when the drawing is inlined), starting at `<svg`.
    public static func strippingXMLProlog(_ svg: String) -> String {
        guard let start = svg.range(of: "<svg") else { return svg }
        return String(svg[start.lowerBound...])
    }

    /// Text made safe for HTML element content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static let css = """
    :root { --fg: #1f2328; --muted: #6e7781; --line: #d0d7de; --code-bg: #f6f8fa;
            --bad: #cf222e; --bad-bg: #ffebe9; --accent: #0969da; }
    * { box-sizing: border-box; }
    body { margin: 0; color: var(--fg); background: #fff;
           font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
    main { max-width: 1000px; margin: 0 auto; padding: 24px 20px 64px; }
    header h1 { margin: 0 0 4px; font-size: 1.6em; }
    .facts { margin: 0 0 24px; color: var(--muted); }
    .bad { color: var(--bad); font-weight: 600; }
    pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
                font-size: 13px; }
    .cell { margin: 18px 0; }
    .cell .title { display: flex; align-items: baseline; gap: 12px; border-bottom: 1px solid var(--line);
                   margin-bottom: 6px; }
    .cell h2 { font-size: 1.15em; margin: 0 0 2px; }
    .badge { color: var(--muted); font-size: 0.85em; }
    .row { display: flex; align-items: flex-start; gap: 8px; margin: 4px 0; }
    .prompt { flex: 0 0 72px; text-align: right; font-family: ui-monospace, Menlo, monospace;
              font-size: 12px; padding-top: 8px; }
    .prompt.in { color: #1a7f37; }
    .prompt.out { color: var(--bad); }
    .source { flex: 1; margin: 0; padding: 8px 10px; background: var(--code-bg);
              border: 1px solid var(--line); border-radius: 6px; overflow-x: auto; white-space: pre; }
    .output { flex: 1; min-width: 0; overflow-x: auto; }
    .output pre { margin: 0; padding: 6px 10px; white-space: pre-wrap; }
    .output pre.error { background: var(--bad-bg); color: #82071e; border-left: 4px solid var(--bad);
                        border-radius: 4px; white-space: pre; overflow-x: auto; }
    .ename { font-weight: 700; }
    .not-run .source { opacity: 0.55; }
    .failed .source { border-color: var(--bad); }
    figure { margin: 6px 10px; }
    figure img { max-width: 100%; image-rendering: pixelated; border: 1px solid var(--line); }
    figure.svg svg { max-width: 100%; height: auto; }
    figcaption { color: var(--muted); font-size: 0.85em; }
    table { border-collapse: collapse; margin: 6px 10px; font-size: 13px; }
    th, td { border: 1px solid var(--line); padding: 3px 10px; text-align: right; }
    th { background: var(--code-bg); }
    .markdown .prose { margin: 0 10px; }
    .markdown .prose pre { background: var(--code-bg); padding: 6px 10px; overflow-x: auto; }
    .markdown .prose code { background: var(--code-bg); padding: 0 3px; }
    .markdown .prose pre code { padding: 0; }
    """
}
