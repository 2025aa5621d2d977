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

    /// At most this many cells along a side of the SVG's matrix: a longer sequence is drawn in
    /// blocks of step × step tokens, so no cell is thinner than 4 px.
    public static let maxCells = 160

    /// The matrix with the title above, kind letters (when cells are large enough) and modality
    /// bands along both axes, a legend of the colours below, and the tile table beside it when
    /// known. A long sequence is drawn in blocks (the legend gives the scale): a block whose
    /// every pair is allowed takes the full colour, a partly allowed block a lighter one.
    public func svg() -> String {
        let step = max(1, (count + Self.maxCells - 1) / Self.maxCells), cells = (count + step - 1) / step
        let cell = max(4.0, min(14.0, (640.0 / Double(cells)).rounded(.down)))
        let fontSize = 11.0, titleSize = 13.0
        var c = SVGCanvas(fontFamily: "monospace", fontSize: fontSize)
        c.text(title, x: 6, y: 6 + 0.8 * titleSize, size: titleSize)
        let letters = cell >= 8, letterSize = min(fontSize, cell)
        let band = 6.0
        // Rows from the top: title, column letters (when drawn), the band, the matrix.
        let letterBaseline = 6 + 1.05 * titleSize + 6 + 0.8 * (letters ? letterSize : fontSize)
        // Without letters, images are named over their span of the band instead ("image 2").
        let spans = letters ? [] : imageSpans(step)
        let labelled = letters || !spans.isEmpty
        let bandTop = labelled ? letterBaseline + 0.25 * (letters ? letterSize : fontSize) + 3 : 6 + 1.05 * titleSize + 8
        // Whole pixels for the matrix, so rows drawn one by one leave no antialiased seams.
        let top = (bandTop + band + 2).rounded(.up)
        let margin = (6 + (letters ? 0.6 * letterSize + 4 : 0) + band + 2).rounded(.up), side = cell * Double(cells)
        for b in 0..<cells {
            let colour = Self.hex(blockBandColor(b, step)), p = Double(b) * cell
            c.rect(x: margin + p, y: bandTop, width: cell, height: band, fill: colour)
            c.rect(x: margin - band - 2, y: top + p, width: band, height: cell, fill: colour)
            if letters {
                let size: Double? = letterSize == fontSize ? nil : letterSize
                c.text(String(kinds[b]), x: margin + p + cell / 2, y: letterBaseline, size: size, anchor: .middle)
                c.text(String(kinds[b]), x: margin - band - 4, y: top + p + cell / 2 + 0.35 * letterSize, size: size, anchor: .end)
            }
        }
        for (n, span) in spans.enumerated() {
            let width = Double(span.count) * cell, centre = margin + (Double(span.lowerBound) + Double(span.count) / 2) * cell
            if let text = ["image \(n + 1)", "\(n + 1)"].first(where: { SVGCanvas.textWidth($0, size: fontSize) <= width }) {
                c.text(text, x: centre, y: letterBaseline, anchor: .middle)
            }
        }
        c.rect(x: margin, y: top, width: side, height: side, fill: "none", extra: ##"stroke="#bbbbbb""##)
        // Allowed cells (or blocks) as horizontal runs of one colour: a causal 1024-token mask is
        // some hundreds of rects, not a million.
        for r in 0..<cells {
            var k = 0
            while k < cells {
                guard let colour = blockColor(r, k, step) else { k += 1; continue }
                var end = k + 1
                while end < cells, let next = blockColor(r, end, step), next == colour { end += 1 }
                c.rect(x: margin + Double(k) * cell, y: top + Double(r) * cell, width: Double(end - k) * cell, height: cell,
                       fill: Self.hex(colour))
                k = end
            }
        }
        if let tiles { tileSVG(tiles, into: &c, x: margin + side + 28, y: top, side: max(120, side * 0.5)) }
        // The legend under everything: the axes and scale, then the colours.
        let y = c.bottom + 6 + 0.8 * fontSize
        c.text("queries ↓  keys →  \(count) tokens" + (step > 1 ? ", one cell = \(step)×\(step) tokens" : ""), x: 6, y: y)
        c.legend(legendEntries(partial: step > 1), x: 6, y: y + 1.6 * fontSize, maxWidth: max(c.right - 6, 360))
        return c.svg()
    }

    /// The blocks each image's patches cover, in order.
    private func imageSpans(_ step: Int) -> [Range<Int>] {
        var spans: [Int: Range<Int>] = [:], order: [Int] = []
        for i in 0..<count where kinds[i] == "P" {
            guard let id = images[i] else { continue }
            let b = i / step
            if let r = spans[id] { spans[id] = r.lowerBound..<max(r.upperBound, b + 1) } else { spans[id] = b..<(b + 1); order.append(id) }
        }
        return order.compactMap { spans[$0] }
    }

    /// The colours the legend explains, in the order they appear in a sequence.
    private func legendEntries(partial: Bool) -> [(colour: String, text: String)] {
        var entries: [(colour: String, text: String)] = []
        if kinds.contains("T") { entries.append((Self.hex(Self.textColor), "T text")) }
        if kinds.contains("B") || kinds.contains("E") { entries.append((Self.hex(Self.markerColor), "B/E image start/end")) }
        let imageIDs = Array(Set(images.enumerated().compactMap { kinds[$0.offset] == "P" ? $0.element : nil })).sorted()
        for (n, id) in imageIDs.prefix(Self.imagePalette.count).enumerated() {
            entries.append((Self.hex(Self.imagePalette[id % Self.imagePalette.count]), "P patch of image \(n + 1)"))
        }
        if imageIDs.count > Self.imagePalette.count { entries.append(("#ffffff", "(colours repeat after \(Self.imagePalette.count) images)")) }
        if kinds.contains("_") { entries.append((Self.hex(Self.padColor), "_ padding")) }
        entries.append((Self.hex(Self.lighter(Self.textColor)), "allowed: the key's colour, full inside one image"))
        if partial { entries.append((Self.hex(Self.partial(Self.textColor)), "partly allowed block")) }
        return entries
    }

    /// The band colour of block `b`: an image's patches win over its markers, markers over text.
    private func blockBandColor(_ b: Int, _ step: Int) -> RGB {
        let range = (b * step)..<min(count, (b + 1) * step)
        for wanted: Character in ["P", "B", "E", "T"] { if let i = range.first(where: { kinds[$0] == wanted }) { return bandColor(i) } }
        return bandColor(range.lowerBound)
    }

    /// The colour of block (r, k): nil when no pair in it is allowed, the first allowed pair's
    /// colour when all are, a paler one when only some are.
    private func blockColor(_ r: Int, _ k: Int, _ step: Int) -> RGB? {
        var first: RGB?, all = true
        for q in (r * step)..<min(count, (r + 1) * step) {
            for key in (k * step)..<min(count, (k + 1) * step) {
                if allowed[q * count + key] { if first == nil { first = cellColor(q, key) } } else { all = false }
            }
        }
        return first.map { all ? $0 : Self.partial($0) }
    }

    /// The table attention uses to skip work, with its caption and legend below it.
    private func tileSVG(_ t: Tiles, into c: inout SVGCanvas, x: Double, y: Double, side: Double) {
        let cw = side / Double(max(t.cols, t.rows)), ch = cw * Double(t.tileRows) / Double(t.tileCols)
        c.text("attention tiles", x: x, y: y - 6)
        for r in 0..<t.rows {
            for col in 0..<t.cols {
                c.rect(x: x + Double(col) * cw, y: y + Double(r) * ch, width: cw, height: ch, fill: Self.tileFill(t.grid[r * t.cols + col]),
                       extra: ##"stroke="#cccccc" stroke-width="0.5""##)
            }
        }
        let below = y + Double(t.rows) * ch + 6 + 0.8 * c.fontSize
        c.text("\(t.tileRows)×\(t.tileCols) tokens a tile: \(String(format: "%.0f", 100 * t.skippedShare))% skipped", x: x, y: below)
        c.legend([(Self.tileFill("█"), "computed, nothing masked"), (Self.tileFill("▒"), "computed, masked inside"),
                  (Self.tileFill("·"), "skipped")], x: x, y: below + 1.6 * c.fontSize, maxWidth: 1)
    }

    static func tileFill(_ g: Character) -> String { g == "█" ? "#31a354" : (g == "▒" ? "#a1d99b" : "#ffffff") }

    // MARK: PNG

    /// The SVG picture rasterised (librsvg), `scale` pixels per SVG unit.
    public func png(scale: Double = 2) throws -> Data { try SVGRaster.png(svg(), scale: scale) }
}
