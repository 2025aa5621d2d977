import Foundation
import Visual
import TensorGraph
import Transfusion

/// How glyph images vary: each image draws its face, size, rotation, offset, colours,
/// background and noise level from these ranges with its own generator.
struct GlyphOptions {
    enum Ink: String, CaseIterable { case dark, light, any }

    var side = 16
    /// 1 (gray, written as gray PNGs) or 3 (RGB).
    var channels = 1
    /// Textured backgrounds (gradients, stripes, checkerboards, clouds) instead of one colour.
    var texture = false
    /// Dark ink on a light background, light on dark, or either (chosen per image).
    var ink = Ink.dark
    /// The largest rotation either way, in degrees.
    var rotation: Float = 12
    /// The longer side of the glyph's ink box over the image side, before rotation.
    var extent: ClosedRange<Float> = 0.55...0.85
    /// The largest offset of the glyph's centre from the image centre, in image sides (less
    /// when the glyph would leave the image).
    var shift: Float = 0.1
    /// The largest standard deviation of the Gaussian noise added to every value.
    var noise: Float = 0.05
}

/// One drawn glyph: its values (side × side × channels in [0, 1], channels last) and how it
/// was drawn.
struct Glyph {
    var values: [Float]
    var face: GlyphFace
    var angle: Float, extent: Float, dx: Float, dy: Float, noise: Float
    var ink: GlyphTexture.Colour, lightInk: Bool
    var background: GlyphTexture
}

/// Draws glyphs: SVG text through librsvg (Pango and fontconfig choose the font) at
/// `supersample` times the image side, its coverage box-averaged down, then painted in the ink
/// colour over the background, with noise added.
final class GlyphDrawing {
    static let supersample = 4
    /// The font size glyphs are measured and set in (SVG units); a transform scales them.
    static let em = 64

    let options: GlyphOptions
    /// The ink box of each face and character at `em`, relative to the text origin.
    private var boxes: [String: (cx: Float, cy: Float, width: Float, height: Float)] = [:]

    init(_ options: GlyphOptions) { self.options = options }

    func draw(_ character: Character, faces: [GlyphFace], _ rng: inout RNG) throws -> Glyph {
        let o = options, side = o.side
        let face = faces[rng.int(faces.count)]
        let box = try inkBox(character, face)
        var extent = o.extent.lowerBound + (o.extent.upperBound - o.extent.lowerBound) * rng.uniform()
        let angle = o.rotation * (2 * rng.uniform() - 1)
        // The rotated ink box's half extents in image sides; a glyph too big to fit is shrunk.
        let radians = angle * .pi / 180, c = abs(cos(radians)), s = abs(sin(radians))
        let unit = extent / max(box.width, box.height)
        var halfW = unit * (box.width * c + box.height * s) / 2, halfH = unit * (box.width * s + box.height * c) / 2
        let margin = 0.5 / Float(side), fit = min(1, (0.5 - margin) / max(halfW, halfH))
        extent *= fit; halfW *= fit; halfH *= fit
        let dx = min(o.shift, 0.5 - margin - halfW) * (2 * rng.uniform() - 1)
        let dy = min(o.shift, 0.5 - margin - halfH) * (2 * rng.uniform() - 1)
        let noise = o.noise * rng.uniform()
        let lightInk = o.ink == .light || (o.ink == .any && rng.int(2) == 1)
        let (inkBand, paperBand): (ClosedRange<Float>, ClosedRange<Float>) = lightInk ? (0.7...1, 0...0.4) : (0...0.3, 0.6...1)
        let ink = colour(in: inkBand, &rng), paper = colour(in: paperBand, &rng)
        let background = o.texture ? GlyphTexture.random(paper, colour(in: paperBand, &rng), side: side, &rng) : .flat(paper)

        let big = side * Self.supersample
        let scale = extent * Float(big) / max(box.width, box.height)
        let svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(big)" height="\(big)" viewBox="0 0 \(big) \(big)">\
            <g transform="translate(\(Float(big) * (0.5 + dx)) \(Float(big) * (0.5 + dy))) rotate(\(angle)) scale(\(scale)) translate(\(-box.cx) \(-box.cy))">\
            <text x="0" y="0" font-size="\(Self.em)" \(face.svgAttributes) fill="#000">\(Self.escaped(character))</text></g></svg>
            """
        guard let fine = SVGRaster.coverage(svg, width: big, height: big) else {
            throw TensorGraphError("librsvg could not draw '\(character)' in \(face.name)")
        }
        let coverage = BoxDownsample.values(fine, side: big, to: side, channels: 1)
        var rgb = background.pixels(side: side)
        let inkValues = [ink.r, ink.g, ink.b]
        for p in 0..<(side * side) {
            for ch in 0..<3 { rgb[p * 3 + ch] += (inkValues[ch] - rgb[p * 3 + ch]) * coverage[p] }
        }
        var values = o.channels == 3 ? rgb : (0..<(side * side)).map { rgb[$0 * 3] }
        let grain = rng.normal(values.count)
        for i in values.indices { values[i] = min(1, max(0, values[i] + noise * grain[i])) }
        return Glyph(values: values, face: face, angle: angle, extent: extent, dx: dx, dy: dy, noise: noise,
                     ink: ink, lightInk: lightInk, background: background)
    }

    /// A colour whose luminance (Rec. 709 weights) lies in `band`: gray for a gray data set.
    private func colour(in band: ClosedRange<Float>, _ rng: inout RNG) -> GlyphTexture.Colour {
        if options.channels == 1 {
            let v = band.lowerBound + (band.upperBound - band.lowerBound) * rng.uniform()
            return (v, v, v)
        }
        for _ in 0..<1000 {
            let c = (r: rng.uniform(), g: rng.uniform(), b: rng.uniform())
            if band.contains(0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b) { return c }
        }
        let v = (band.lowerBound + band.upperBound) / 2
        return (v, v, v)
    }

    /// The box around the ink of `character` set at `em` in `face`, found by drawing it.
    private func inkBox(_ character: Character, _ face: GlyphFace) throws -> (cx: Float, cy: Float, width: Float, height: Float) {
        let key = "\(face.name)\u{0}\(character)"
        if let box = boxes[key] { return box }
        let canvas = 4 * Self.em, origin = (x: Self.em, y: 5 * Self.em / 2)
        let svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(canvas)" height="\(canvas)">\
            <text x="\(origin.x)" y="\(origin.y)" font-size="\(Self.em)" \(face.svgAttributes) fill="#000">\(Self.escaped(character))</text></svg>
            """
        guard let coverage = SVGRaster.coverage(svg, width: canvas, height: canvas) else {
            throw TensorGraphError("librsvg could not draw '\(character)' in \(face.name)")
        }
        var x0 = canvas, y0 = canvas, x1 = -1, y1 = -1
        for y in 0..<canvas {
            for x in 0..<canvas where coverage[y * canvas + x] > 0.02 {
                x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
            }
        }
        guard x1 >= 0 else { throw TensorGraphError("\(face.name) draws nothing for '\(character)'") }
        guard x0 > 0, y0 > 0, x1 < canvas - 1, y1 < canvas - 1 else {
            throw TensorGraphError("'\(character)' in \(face.name) reaches the edge of its \(canvas)-pixel measuring canvas")
        }
        let box = (cx: Float(x0 + x1 + 1) / 2 - Float(origin.x), cy: Float(y0 + y1 + 1) / 2 - Float(origin.y),
                   width: Float(x1 - x0 + 1), height: Float(y1 - y0 + 1))
        boxes[key] = box
        return box
    }

    static func escaped(_ c: Character) -> String {
        switch c { case "<": "&lt;"; case ">": "&gt;"; case "&": "&amp;"; default: String(c) }
    }
}
