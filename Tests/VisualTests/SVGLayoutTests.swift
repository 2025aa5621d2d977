import Foundation
import Testing
@testable import Visual

/// The mask SVG's text by bounding boxes: every text inside the canvas, and none overlapping
/// another. A monospace character is taken as 0.6 em wide, its box from 0.8 em above the
/// baseline to 0.25 em below (descenders such as `_`).
@Suite struct SVGLayoutTests {
    struct Box { var x0, y0, x1, y1: Double; var text: String }

    static func attribute(_ name: String, in tag: Substring) -> Double? {
        guard let r = tag.range(of: " \(name)=\"") else { return nil }
        return Double(tag[r.upperBound...].prefix { $0 != "\"" })
    }

    /// The characters an escaped text shows (`&amp;` is one character, `&#39;` too).
    static func unescaped(_ text: Substring) -> String {
        var out = "", rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { rest = rest[amp...]; break }
            out += "?"; rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    /// The canvas size and the box of every `<text>` element.
    static func layout(_ svg: String) throws -> (width: Double, height: Double, boxes: [Box]) {
        let root = try #require(svg.range(of: "<svg ").map { svg[$0.lowerBound...].prefix { $0 != ">" } })
        let width = try #require(attribute("width", in: root)), height = try #require(attribute("height", in: root))
        let base = try #require(attribute("font-size", in: root))
        var boxes: [Box] = []
        for piece in svg.components(separatedBy: "<text").dropFirst() {
            let tag = piece.prefix { $0 != ">" }
            let text = piece.drop { $0 != ">" }.dropFirst().prefix { $0 != "<" }
            let size = attribute("font-size", in: tag) ?? base
            let x = try #require(attribute("x", in: tag)), y = try #require(attribute("y", in: tag))
            let w = Double(unescaped(text).count) * size * 0.6
            let x0 = tag.contains("text-anchor=\"middle\"") ? x - w / 2 : tag.contains("text-anchor=\"end\"") ? x - w : x
            if tag.contains("rotate(-90") {  // reads upwards, turned about its anchor (x, y)
                #expect(tag.contains("text-anchor=\"middle\""), "a turned text is centred on its anchor")
                boxes.append(Box(x0: x - 0.8 * size, y0: y - w / 2, x1: x + 0.25 * size, y1: y + w / 2, text: String(text)))
            } else {
                boxes.append(Box(x0: x0, y0: y - 0.8 * size, x1: x0 + w, y1: y + 0.25 * size, text: String(text)))
            }
        }
        return (width, height, boxes)
    }

    static func picture(_ title: String, _ kinds: String, allowed: (Int, Int) -> Bool) -> MaskPicture {
        let kinds = Array(kinds), n = kinds.count
        var images: [Int?] = [], image = -1
        for k in kinds { if k == "B" { image += 1 }; images.append(k == "T" ? nil : image) }
        return MaskPicture(title: title, count: n, allowed: (0..<(n * n)).map { allowed($0 / n, $0 % n) },
                           kinds: kinds, images: images)
    }

    /// Fails (with the texts named) when a text leaves the canvas or overlaps another.
    static func expectTextFits(_ svg: String, _ what: String) throws {
        let (width, height, boxes) = try layout(svg)
        #expect(!boxes.isEmpty)
        for b in boxes {
            #expect(b.x0 >= 0 && b.y0 >= 0 && b.x1 <= width && b.y1 <= height, "\(what): '\(b.text)' at \(b) leaves the \(width)×\(height) canvas")
        }
        for (i, a) in boxes.enumerated() {
            for b in boxes[(i + 1)...] where a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 {
                Issue.record("\(what): '\(a.text)' overlaps '\(b.text)'")
            }
        }
    }

    static let longTitle = "causal | same_image | prefix(12) & ~window(3) on a layout with a title longer than its picture"

    static func repeated(_ s: String, _ n: Int) -> String { String(repeating: s, count: n) }
    static let images: String = repeated("TTB" + repeated("P", 16) + "E", 8) + "__"
    static let masks: [(title: String, kinds: String)] = [
        ("causal & window(3) on text:8", "TTTTTTTT"),
        ("same_image on text:1", "T"),
        ("causal | same_image on text:2 image:2x2 text:1", "TTBPPPPET"),
        (longTitle, "TTBPPPPET"),
        ("causal | same_image on a long layout", repeated("T", 40) + "B" + repeated("P", 64) + "E" + repeated("T", 200)),
        ("eight images", images),
        ("1500 tokens", repeated("T", 300) + "B" + repeated("P", 1024) + "E" + repeated("T", 174)),
    ]

    @Test(arguments: masks.indices)
    func maskTextFits(_ n: Int) throws {
        let (title, kinds) = Self.masks[n]
        var picture = Self.picture(title, kinds) { q, k in k <= q }
        try Self.expectTextFits(picture.svg(), title)
        // With the tile table beside it (its caption and legend).
        let rows = (kinds.count + 31) / 32, cols = (kinds.count + 63) / 64
        picture.tiles = MaskPicture.Tiles(grid: (0..<(rows * cols)).map { ["█", "▒", "·"][$0 % 3] }, rows: rows, cols: cols, tileRows: 32, tileCols: 64)
        try Self.expectTextFits(picture.svg(), title + " with tiles")
    }

    /// A long sequence is drawn in blocks: no cell thinner than 4 px, and the legend says so.
    @Test func longMasksAreDrawnInBlocksWithTheirScale() throws {
        let kinds = String(repeating: "T", count: 1000)
        let svg = Self.picture("causal", kinds) { q, k in k <= q }.svg()
        #expect(svg.contains("one cell = 7×7 tokens"))
        #expect(svg.contains("partly allowed block"))
        let widths = svg.components(separatedBy: "<rect").dropFirst().compactMap { Self.attribute("width", in: $0.prefix { $0 != ">" }[...]) }
        #expect(widths.allSatisfy { $0 >= 4 }, "\(widths.filter { $0 < 4 }.prefix(5))")
    }

    static let plots: [(title: String, series: [(name: String, values: [Double])])] = [
        ("losses", [("LM", [5, 3, 2, 1.5, 1.2, 1.1]), ("diffusion", [0.9, 0.5, 0.3, 0.2, 0.15, 0.12])]),
        ("a log scale: training losses from 10 to 0.01 over many steps, with a long title that does not fit",
         [("train", (0..<500).map { 10 * exp(-Double($0) / 70) }),
          ("held-out", (0..<500).map { $0 % 100 == 0 ? 12 * exp(-Double($0) / 70) : .nan })]),
        ("large values", [("tokens per second", [120_000, 250_000, 330_000]), ("a series with a rather long name indeed", [1e5, 2e5, 4e5])]),
        ("one point", [("x", [3])]),
        ("tiny", [("a", [1e-5, 2e-5, 3e-5]), ("b", [3e-5, 2e-5, 1e-5])]),
    ]

    @Test(arguments: plots.indices)
    func plotTextFits(_ n: Int) throws {
        let (title, series) = Self.plots[n]
        try Self.expectTextFits(LinePlot.svg(series, title: title, yLabel: "loss", firstStep: 1000), title)
    }

    @Test(arguments: [
        ["a red circle", "a small blue square at the top left of the picture, drawn large enough to see", ""],
        (0..<12).map { "image \($0): supercalifragilisticexpialidocious words" },
    ])
    func gridTextFits(_ captions: [String]) throws {
        let images = captions.map { _ in [Float](repeating: 0.5, count: 8 * 8 * 3) }
        try Self.expectTextFits(ImageGrid.svg(images, side: 8, captions: captions), captions[0])
    }
}
