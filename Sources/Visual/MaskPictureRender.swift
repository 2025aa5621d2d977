import Foundation

extension MaskPicture {
    // MARK: terminal

    /// Unicode blocks, rows and columns labelled by token kind; ANSI colours when `color`.
    /// Sequences longer than `maxCells` are drawn in blocks (█ all allowed, ▒ some, · none).
    public func terminal(color: Bool, maxCells: Int = 96) -> String {
        let step = max(1, (count + maxCells - 1) / maxCells), cells = (count + step - 1) / step
        func paint(_ s: String, _ c: RGB) -> String { color ? "\u{1B}[38;2;\(c.0);\(c.1);\(c.2)m\(s)\u{1B}[0m" : s }
        func label(_ i: Int) -> String { paint(String(kinds[i * step]), bandColor(i * step)) }
        var out = "\(title)  (\(count) tokens" + (step > 1 ? ", \(step)×\(step) tokens per cell" : "") + ")\n"
        out += "   " + (0..<cells).map(label).joined() + "\n"
        for r in 0..<cells {
            var line = " " + label(r) + " "
            for c in 0..<cells {
                var any = false, all = true
                for q in r * step..<min(count, (r + 1) * step) {
                    for k in c * step..<min(count, (c + 1) * step) { if allowed[q * count + k] { any = true } else { all = false } }
                }
                let glyph = all ? "█" : (any ? "▒" : "·")
                line += any ? paint(glyph, cellColor(r * step, c * step)) : glyph
            }
            out += line + "\n"
        }
        if let tiles {
            out += String(format: "tiles %d×%d: %.0f%% skipped\n", tiles.tileRows, tiles.tileCols, 100 * tiles.skippedShare)
            for r in 0..<tiles.rows { out += "   " + String(tiles.grid[(r * tiles.cols)..<((r + 1) * tiles.cols)]) + "\n" }
        }
        return out
    }

    // MARK: SVG

    /// The matrix with labels and bands (and the tile view beside it when known).
    public func svg() -> String {
        let cell = max(1.0, min(14.0, 640.0 / Double(count)))
        // The title's line sits above the column letters (`top` leaves it 12 px of its own).
        let band = max(6.0, cell), margin = 28.0 + band, top = margin + 12, side = cell * Double(count)
        let tileWidth = tiles == nil ? 0.0 : side * 0.5 + 40
        let fontSize = Double(Int(max(7, min(11, cell))))
        let legend = "queries ↓  keys →   " + legendText()
        // Wide enough for the title and the legend (monospace: 0.6 em a character), not only the cells.
        let tileCaption = tiles == nil ? 0.0 : margin + side + 40 + 28 * fontSize * 0.6 + 8
        let width = max(margin + side + 20 + tileWidth, 4 + Double(title.count) * 13 * 0.6 + 8,
                        margin + Double(legend.count) * fontSize * 0.6 + 8, tileCaption)
        let height = top + side + 40
        var s = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width.rounded(.up)))" height="\#(Int(height))" font-family="monospace" font-size="\#(Int(fontSize))">"#
        s += #"<rect width="100%" height="100%" fill="white"/>"#
        s += #"<text x="4" y="14" font-size="13">\#(NotebookHTML.escape(title))</text>"#
        // Modality bands along both axes, and kind letters when cells are large enough.
        for i in 0..<count {
            let c = Self.hex(bandColor(i)), p = margin + Double(i) * cell, y = top + Double(i) * cell
            s += #"<rect x="\#(p)" y="\#(top - band - 2)" width="\#(cell)" height="\#(band)" fill="\#(c)"/>"#
            s += #"<rect x="\#(margin - band - 2)" y="\#(y)" width="\#(band)" height="\#(cell)" fill="\#(c)"/>"#
            if cell >= 8 {
                s += #"<text x="\#(p + cell / 2)" y="\#(top - band - 5)" text-anchor="middle">\#(kinds[i])</text>"#
                s += #"<text x="\#(margin - band - 5)" y="\#(y + cell * 0.8)" text-anchor="end">\#(kinds[i])</text>"#
            }
        }
        s += ##"<rect x="\##(margin)" y="\##(top)" width="\##(side)" height="\##(side)" fill="none" stroke="#bbbbbb"/>"##
        // Allowed cells as horizontal runs of one colour (a causal 1024-token mask is 1024 rects).
        for q in 0..<count {
            var k = 0
            while k < count {
                guard allowed[q * count + k] else { k += 1; continue }
                let colour = cellColor(q, k)
                var end = k + 1
                while end < count && allowed[q * count + end] && cellColor(q, end) == colour { end += 1 }
                s += #"<rect x="\#(margin + Double(k) * cell)" y="\#(top + Double(q) * cell)" width="\#(Double(end - k) * cell)" height="\#(cell)" fill="\#(Self.hex(colour))"/>"#
                k = end
            }
        }
        s += #"<text x="\#(margin)" y="\#(top + side + 16)">"# + NotebookHTML.escape(legend) + "</text>"
        if let tiles { s += tileSVG(tiles, x: margin + side + 40, y: top, side: side * 0.5) }
        return s + "</svg>\n"
    }

    private func tileSVG(_ t: Tiles, x: Double, y: Double, side: Double) -> String {
        let cw = side / Double(max(t.cols, t.rows)), ch = cw * Double(t.tileRows) / Double(t.tileCols)
        var s = ""
        for r in 0..<t.rows {
            for c in 0..<t.cols {
                let g = t.grid[r * t.cols + c]
                let fill = g == "█" ? "#31a354" : (g == "▒" ? "#a1d99b" : "#ffffff")
                s += ##"<rect x="\##(x + Double(c) * cw)" y="\##(y + Double(r) * ch)" width="\##(cw)" height="\##(ch)" fill="\##(fill)" stroke="#dddddd" stroke-width="0.5"/>"##
            }
        }
        s += #"<text x="\#(x)" y="\#(y + Double(t.rows) * ch + 14)">tiles \#(t.tileRows)×\#(t.tileCols): \#(String(format: "%.0f", 100 * t.skippedShare))% skipped</text>"#
        return s
    }

    private func legendText() -> String {
        let images = Set(images.compactMap { $0 }).count
        return "T text  B/E image start/end  P patch" + (images > 0 ? "  (\(images) image\(images == 1 ? "" : "s"))" : "")
    }


    // MARK: PNG

    /// The matrix as a raster with bands and 3×5-pixel kind letters when cells are ≥ 6 px.
    public func png(size: Int = 512) -> Data {
        let cell = max(1, size / max(count, 1)), band = max(4, cell), margin = band + (cell >= 6 ? 8 : 2)
        let side = cell * count
        var img = RGBImage(width: margin + side + 2, height: margin + side + 2)
        for i in 0..<count {
            let c = bandColor(i)
            img.fill(x: margin + i * cell, y: margin - band - 1, w: cell, h: band, c)
            img.fill(x: margin - band - 1, y: margin + i * cell, w: band, h: cell, c)
            if cell >= 6 {
                Glyphs.draw(kinds[i], into: &img, x: margin + i * cell + (cell - 3) / 2, y: 1)
                Glyphs.draw(kinds[i], into: &img, x: 1, y: margin + i * cell + (cell - 5) / 2)
            }
        }
        for q in 0..<count { for k in 0..<count where allowed[q * count + k] {
            img.fill(x: margin + k * cell, y: margin + q * cell, w: cell, h: cell, cellColor(q, k))
        } }
        return img.png
    }
}

/// A 3×5 pixel font for the five kind letters.
enum Glyphs {
    static let bits: [Character: [UInt8]] = [
        "T": [0b111, 0b010, 0b010, 0b010, 0b010], "B": [0b110, 0b101, 0b110, 0b101, 0b110],
        "P": [0b110, 0b101, 0b110, 0b100, 0b100], "E": [0b111, 0b100, 0b110, 0b100, 0b111],
        "_": [0, 0, 0, 0, 0b111],
    ]
    static func draw(_ ch: Character, into img: inout RGBImage, x: Int, y: Int) {
        guard let rows = bits[ch] else { return }
        for (r, row) in rows.enumerated() { for c in 0..<3 where row & (1 << (2 - c)) != 0 {
            img.fill(x: x + c, y: y + r, w: 1, h: 1, (0, 0, 0))
        } }
    }
}
