import Foundation
import TensorGraph
import Visual

/// A glyph data set on disk: a Hugging Face image folder with a `train` and a `test` split,
/// each PNG files (gray or RGB) and a `metadata.jsonl` line per image — `file_name`, `text`
/// (the caption), `label` (the class index), `class` (the character), `font`, and how the
/// glyph was drawn. Image k of a split shows class k mod the class count, so every prefix is
/// balanced; every image has its own generator, seeded by the set's seed, its split and k.
struct GlyphSet {
    enum Captions: String, CaseIterable { case phrase, name }

    let classes: GlyphClasses
    let trainFaces: [GlyphFace], testFaces: [GlyphFace]
    let options: GlyphOptions
    let captions: Captions
    let seed: UInt64

    /// Writes `perClass` training and `testPerClass` test images of each class under
    /// `folder` (made if missing; its `train` and `test` must not exist yet); returns how
    /// many images each split got.
    func write(to folder: String, perClass: Int, testPerClass: Int) throws -> [(split: String, count: Int)] {
        let splits = [("train", perClass, trainFaces), ("test", testPerClass, testFaces)].filter { $0.1 > 0 }
        for (split, _, _) in splits {
            let path = (folder as NSString).appendingPathComponent(split)
            if FileManager.default.fileExists(atPath: path) {
                throw TensorGraphError("\(path) exists already; remove it or write the glyphs to another folder")
            }
        }
        let drawing = GlyphDrawing(options)
        let base = RNG(seed: seed).state.0
        return try splits.enumerated().map { number, entry in
            let (split, per, faces) = entry
            let path = (folder as NSString).appendingPathComponent(split)
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw TensorGraphError("cannot make the folder \(path): \(error.localizedDescription)")
            }
            var metadata = ""
            for k in 0..<(per * classes.count) {
                var rng = RNG(seed: base ^ (UInt64(number) << 48) ^ UInt64(k))
                let label = k % classes.count
                let glyph = try drawing.draw(classes.characters[label], faces: faces, &rng)
                let file = String(format: "%05d.png", k)
                let bytes = glyph.values.map { UInt8(($0 * 255).rounded()) }
                let png = PNGEncoder.encode(width: options.side, height: options.side, channels: options.channels, samples: bytes)
                let url = URL(fileURLWithPath: path).appendingPathComponent(file)
                do { try png.write(to: url) } catch { throw TensorGraphError("cannot write \(url.path): \(error.localizedDescription)") }
                metadata += line(file: file, label: label, glyph) + "\n"
            }
            let url = URL(fileURLWithPath: path).appendingPathComponent("metadata.jsonl")
            do { try Data(metadata.utf8).write(to: url) } catch { throw TensorGraphError("cannot write \(url.path): \(error.localizedDescription)") }
            return (split, per * classes.count)
        }
    }

    /// One metadata line, its fields in a fixed order.
    private func line(file: String, label: Int, _ g: Glyph) -> String {
        func string(_ s: String) -> String {
            String(decoding: (try? JSONSerialization.data(withJSONObject: s, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data("\"\"".utf8), as: UTF8.self)
        }
        func number(_ v: Float) -> String { String(format: "%.3f", v) }
        func hex(_ c: GlyphTexture.Colour) -> String {
            String(format: "#%02x%02x%02x", Int((c.r * 255).rounded()), Int((c.g * 255).rounded()), Int((c.b * 255).rounded()))
        }
        let text = captions == .phrase ? classes.phrase(label) : classes.name(label)
        let fields: [(String, String)] = [
            ("file_name", string(file)), ("text", string(text)), ("label", "\(label)"), ("class", string(classes.name(label))),
            ("font", string(g.face.name)), ("angle", number(g.angle)), ("extent", number(g.extent)),
            ("dx", number(g.dx)), ("dy", number(g.dy)), ("noise", number(g.noise)),
            ("ink", string(hex(g.ink))), ("background", string(g.background.kind)),
        ]
        return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }
}
