import Foundation

/// An SVG drawing built element by element that keeps the extent of everything drawn, text
/// included, so the canvas is always as large as its content. Text width is estimated the way
/// the layout tests measure it: 0.6 em a character (monospace exactly; sans-serif a little
/// less), from 0.8 em above the baseline to 0.25 em below it.
struct SVGCanvas {
    enum Anchor: String { case start, middle, end }

    let fontFamily: String, fontSize: Double
    private(set) var body = ""
    private(set) var right = 0.0, bottom = 0.0

    init(fontFamily: String, fontSize: Double) {
        self.fontFamily = fontFamily; self.fontSize = fontSize
    }

    static func textWidth(_ text: String, size: Double) -> Double { Double(text.count) * size * 0.6 }

    /// The estimated box of a text: (x0, y0, x1, y1).
    static func textBox(_ text: String, x: Double, y: Double, size: Double, anchor: Anchor) -> (Double, Double, Double, Double) {
        let w = textWidth(text, size: size)
        let x0 = anchor == .middle ? x - w / 2 : anchor == .end ? x - w : x
        return (x0, y - 0.8 * size, x0 + w, y + 0.25 * size)
    }

    mutating func extend(x: Double, y: Double) { right = max(right, x); bottom = max(bottom, y) }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, extra: String = "") {
        body += #"<rect x="\#(Self.number(x))" y="\#(Self.number(y))" width="\#(Self.number(width))" height="\#(Self.number(height))" fill="\#(fill)"\#(extra.isEmpty ? "" : " " + extra)/>"#
        extend(x: x + width, y: y + height)
    }

    /// A text; `size` nil takes the canvas's font size (and writes no attribute).
    mutating func text(_ text: String, x: Double, y: Double, size: Double? = nil, anchor: Anchor = .start,
                       fill: String? = nil, extra: String = "") {
        var attributes = #"x="\#(Self.number(x))" y="\#(Self.number(y))""#
        if let size { attributes += #" font-size="\#(Self.number(size))""# }
        if anchor != .start { attributes += #" text-anchor="\#(anchor.rawValue)""# }
        if let fill { attributes += #" fill="\#(fill)""# }
        if !extra.isEmpty { attributes += " " + extra }
        body += "<text \(attributes)>\(NotebookHTML.escape(text))</text>"
        let box = Self.textBox(text, x: x, y: y, size: size ?? fontSize, anchor: anchor)
        extend(x: box.2, y: box.3)
    }

    /// A text turned a quarter left (reading upwards), centred on (x, y): a value axis's title.
    mutating func verticalText(_ text: String, x: Double, y: Double) {
        body += #"<text x="\#(Self.number(x))" y="\#(Self.number(y))" text-anchor="middle" transform="rotate(-90 \#(Self.number(x)) \#(Self.number(y)))">\#(NotebookHTML.escape(text))</text>"#
        extend(x: x + 0.25 * fontSize, y: y + Self.textWidth(text, size: fontSize) / 2)
    }

    /// Any other element, with the extent it covers.
    mutating func raw(_ element: String, right: Double, bottom: Double) {
        body += element
        extend(x: right, y: bottom)
    }

    /// A row of legend entries (a colour swatch and its words), wrapped to `maxWidth`; returns
    /// the baseline of the last line.
    @discardableResult
    mutating func legend(_ entries: [(colour: String, text: String)], x: Double, y: Double, maxWidth: Double,
                         size: Double? = nil, stroke: String = "#999999") -> Double {
        let size = size ?? fontSize, swatch = size * 0.9, gap = size * 1.2, line = size * 1.5
        var cx = x, baseline = y
        for entry in entries {
            let w = swatch + size * 0.4 + Self.textWidth(entry.text, size: size)
            if cx > x && cx + w > x + maxWidth { cx = x; baseline += line }
            rect(x: cx, y: baseline - swatch * 0.85, width: swatch, height: swatch, fill: entry.colour,
                 extra: #"stroke="\#(stroke)" stroke-width="0.5""#)
            text(entry.text, x: cx + swatch + size * 0.4, y: baseline, size: size == fontSize ? nil : size)
            cx += w + gap
        }
        return baseline
    }

    /// The document: a white background under everything drawn, `margin` beyond the extent.
    func svg(margin: Double = 6, minWidth: Double = 0, minHeight: Double = 0) -> String {
        let w = Int(max(minWidth, right + margin).rounded(.up)), h = Int(max(minHeight, bottom + margin).rounded(.up))
        return #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(w)" height="\#(h)" viewBox="0 0 \#(w) \#(h)" font-family="\#(fontFamily)" font-size="\#(Self.number(fontSize))">"#
            + #"<rect width="100%" height="100%" fill="white"/>"# + body + "</svg>\n"
    }

    /// Short decimal text for coordinates: at most two decimals, no trailing zeros.
    static func number(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(format: "%g", r)
    }
}
