import Foundation

/// The representations of one displayed thing by MIME type — what a Jupyter `display_data`
/// carries, what a notebook cell output embeds and what the terminal picks from. `text/plain`
/// is always there; the static makers here decide the representations of each kind of
/// picture (an image, a drawing, a table), so every front end shows a kind the same way.
public struct MimeBundle: Sendable, Equatable {
    /// `text/plain`: what a reader without pictures sees.
    public var plain: String
    /// `image/png`: images, image grids, plots.
    public var png: Data?
    /// `image/svg+xml` (starting at `<svg`, no XML prolog): graphs and mask pictures.
    public var svg: String?
    /// `text/html`: tables and dicts.
    public var html: String?
    /// `text/markdown`: tables and dicts.
    public var markdown: String?
    /// The picture's caption, if it has one (the HTML page shows it under the picture).
    public var caption: String?

    public init(plain: String, png: Data? = nil, svg: String? = nil, html: String? = nil,
                markdown: String? = nil, caption: String? = nil) {
        self.plain = plain; self.png = png; self.svg = svg; self.html = html
        self.markdown = markdown; self.caption = caption
    }

    /// An image (PNG bytes).
    public static func png(_ data: Data, caption: String?) -> MimeBundle {
        MimeBundle(plain: caption.map { "<image: \($0)>" } ?? "<image>", png: data, caption: caption)
    }

    /// A drawing (SVG text).
    public static func svg(_ svg: String, caption: String?) -> MimeBundle {
        MimeBundle(plain: caption.map { "<drawing: \($0)>" } ?? "<drawing>",
                   svg: NotebookHTML.strippingXMLProlog(svg), caption: caption)
    }

    /// A table: aligned columns, an HTML table and a Markdown table.
    public static func table(headers: [String], rows: [[String]]) -> MimeBundle {
        MimeBundle(plain: NotebookText.table(headers: headers, rows: rows),
                   html: NotebookHTML.table(headers: headers, rows: rows),
                   markdown: markdownTable(headers: headers, rows: rows))
    }

    /// A Markdown (GFM) table; `|` in a cell is escaped, a line break becomes a space.
    public static func markdownTable(headers: [String], rows: [[String]]) -> String {
        let columns = max(headers.count, rows.map(\.count).max() ?? 0)
        guard columns > 0 else { return "" }
        func line(_ row: [String]) -> String {
            "| " + (0..<columns).map { i in
                (i < row.count ? row[i] : "").replacingOccurrences(of: "|", with: "\\|")
                    .replacingOccurrences(of: "\n", with: " ")
            }.joined(separator: " | ") + " |"
        }
        let head = headers.isEmpty ? [String](repeating: "", count: columns) : headers
        return ([line(head), "|" + String(repeating: " --- |", count: columns)] + rows.map(line))
            .joined(separator: "\n")
    }

    /// The representations as MIME type → value (PNG as base64), richest first.
    public var entries: [(mime: String, value: String)] {
        var out: [(String, String)] = []
        if let png { out.append(("image/png", png.base64EncodedString())) }
        if let svg { out.append(("image/svg+xml", svg)) }
        if let html { out.append(("text/html", html)) }
        if let markdown { out.append(("text/markdown", markdown)) }
        out.append(("text/plain", plain))
        return out
    }

    /// Jupyter's `data` object: each value a string (the messaging protocol's form).
    public var jupyterData: [String: String] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.mime, $0.value) })
    }

    /// nbformat's `data` object: PNG a base64 string, HTML one string, other text line lists.
    public var ipynbData: [String: Any] {
        Dictionary(uniqueKeysWithValues: entries.map { entry -> (String, Any) in
            switch entry.mime {
            case "image/png", "text/html": return (entry.mime, entry.value)
            default: return (entry.mime, NotebookText.jupyterLines(entry.value))
            }
        })
    }
}
