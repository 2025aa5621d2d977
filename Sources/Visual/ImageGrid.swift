import Foundation

/// A grid of small RGB images (values in [0, 1], channels last), scaled up with nearest
/// pixels and separated by a gutter: how datasets and samples are shown. With captions (the
/// prompt or caption of each image), each image gets its text written under it.
public enum ImageGrid {
    public static func png(_ images: [[Float]], side: Int, scale: Int = 4, columns: Int = 8) -> Data {
        let columns = max(1, min(columns, images.count)), rows = (images.count + columns - 1) / columns
        let cell = side * scale, gutter = 2
        var canvas = RGBImage(width: columns * (cell + gutter) + gutter, height: max(1, rows) * (cell + gutter) + gutter,
                              fill: (60, 60, 60))
        for (n, pixels) in images.enumerated() {
            draw(pixels, side: side, scale: scale, into: &canvas, x: gutter + (n % columns) * (cell + gutter), y: gutter + (n / columns) * (cell + gutter))
        }
        return canvas.png
    }

    /// The grid with each image's caption under it (wrapped to the image's width, at most
    /// `captionLines` lines, the rest cut with an ellipsis) as SVG; images at least 96 pixels wide.
    public static func svg(_ images: [[Float]], side: Int, captions: [String], scale: Int = 4, columns: Int = 8,
                           captionLines: Int = 3) -> String {
        let columns = max(1, min(columns, images.count)), scale = max(scale, (96 + side - 1) / max(side, 1))
        let cell = Double(side * scale), gutter = 10.0, fontSize = 10.0, lineHeight = 12.0
        let perLine = max(4, Int(cell / (fontSize * 0.6)))
        let wrapped = images.indices.map { wrap(captions.indices.contains($0) ? captions[$0] : "", width: perLine, lines: captionLines) }
        let rows = (images.count + columns - 1) / columns
        let rowHeight = cell + 6 + Double(max(1, wrapped.map(\.count).max() ?? 0)) * lineHeight + gutter
        var c = SVGCanvas(fontFamily: "DejaVu Sans, sans-serif", fontSize: fontSize)
        for (n, pixels) in images.enumerated() {
            let x = gutter + Double(n % columns) * (cell + gutter), y = gutter + Double(n / columns) * rowHeight
            var image = RGBImage(width: Int(cell), height: Int(cell))
            draw(pixels, side: side, scale: scale, into: &image, x: 0, y: 0)
            c.raw(#"<image x="\#(SVGCanvas.number(x))" y="\#(SVGCanvas.number(y))" width="\#(Int(cell))" height="\#(Int(cell))" href="data:image/png;base64,\#(image.png.base64EncodedString())"/>"#,
                  right: x + cell, bottom: y + cell)
            for (k, line) in wrapped[n].enumerated() {
                c.text(line, x: x + cell / 2, y: y + cell + 4 + 0.8 * fontSize + Double(k) * lineHeight, anchor: .middle)
            }
        }
        return c.svg(margin: gutter, minHeight: Double(rows) * rowHeight + gutter)
    }

    /// The captioned grid rasterised (librsvg), or the plain grid when there are no captions.
    public static func png(_ images: [[Float]], side: Int, captions: [String]) throws -> Data {
        captions.allSatisfy(\.isEmpty) ? png(images, side: side) : try SVGRaster.png(svg(images, side: side, captions: captions))
    }

    /// Words in lines of at most `width` characters (a longer word is cut), at most `lines` of
    /// them; text left over ends the last line with "…".
    static func wrap(_ text: String, width: Int, lines: Int) -> [String] {
        var out: [String] = [], current = ""
        for word in text.split(whereSeparator: \.isWhitespace).map(String.init) {
            var word = word
            while word.count > width { // a word longer than a line fills lines of its own
                if !current.isEmpty { out.append(current); current = "" }
                out.append(String(word.prefix(width))); word = String(word.dropFirst(width))
            }
            if current.isEmpty { current = word } else if current.count + 1 + word.count <= width { current += " " + word } else { out.append(current); current = word }
        }
        if !current.isEmpty { out.append(current) }
        guard out.count > lines else { return out }
        var kept = Array(out.prefix(lines))
        kept[lines - 1] = String(kept[lines - 1].prefix(width - 1)) + "…"
        return kept
    }

    private static func draw(_ pixels: [Float], side: Int, scale: Int, into canvas: inout RGBImage, x ox: Int, y oy: Int) {
        func byte(_ v: Float) -> UInt8 { UInt8(max(0, min(255, (v * 255).rounded()))) }
        for y in 0..<side {
            for x in 0..<side {
                let i = (y * side + x) * 3
                canvas.fill(x: ox + x * scale, y: oy + y * scale, w: scale, h: scale, (byte(pixels[i]), byte(pixels[i + 1]), byte(pixels[i + 2])))
            }
        }
    }
}
