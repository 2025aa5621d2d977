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
            let w = Double(text.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&lt;", with: "<").count) * size * 0.6
            let x0 = tag.contains("text-anchor=\"middle\"") ? x - w / 2 : tag.contains("text-anchor=\"end\"") ? x - w : x
            boxes.append(Box(x0: x0, y0: y - 0.8 * size, x1: x0 + w, y1: y + 0.25 * size, text: String(text)))
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

    @Test(arguments: [
        ("causal & window(3) on text:8", "TTTTTTTT"),
        ("causal | same_image on text:2 image:2x2 text:1", "TTBPPPPET"),
        ("causal | same_image on a long layout", String(repeating: "T", count: 40) + "B" + String(repeating: "P", count: 64) + "E" + String(repeating: "T", count: 200)),
    ])
    func noTextOverlapsOrLeavesTheCanvas(_ title: String, _ kinds: String) throws {
        let (width, height, boxes) = try Self.layout(Self.picture(title, kinds) { q, k in k <= q }.svg())
        #expect(!boxes.isEmpty)
        for b in boxes {
            #expect(b.x0 >= 0 && b.y0 >= 0 && b.x1 <= width && b.y1 <= height, "'\(b.text)' at \(b) leaves the \(width)×\(height) canvas")
        }
        for (i, a) in boxes.enumerated() {
            for b in boxes[(i + 1)...] where a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 {
                Issue.record("'\(a.text)' overlaps '\(b.text)'")
            }
        }
    }
}
