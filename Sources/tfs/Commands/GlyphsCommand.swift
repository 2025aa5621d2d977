import ArgumentParser
import Foundation
import TensorGraph

/// `tfs glyphs OUT`: a data set of letters and digits drawn from the installed fonts, as a
/// Hugging Face image folder with train and test splits.
struct GlyphsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glyphs",
        abstract: "Write a data set of letters and digits drawn in the installed fonts (a Hugging Face image folder).",
        discussion: """
            OUT/train and OUT/test each hold PNG files and a metadata.jsonl line per image: \
            file_name, text (the caption: "the digit 7", "the letter k", "the capital K", or the \
            character with --captions name), label (the class index), class (the character), font, \
            angle, extent, dx, dy, noise, ink (its colour), background. Each image draws its font \
            (33 DejaVu and Liberation faces: sans, serif, mono, condensed, light; regular, bold, \
            italic), size, rotation, offset, colours and noise from the seed; the same command \
            writes the same bytes. Read a split with images("OUT/train", size=...) or \
            load_dataset("imagefolder", data_dir="OUT").
            """)

    @Argument(help: "The folder to write (made if missing; OUT/train and OUT/test must not exist).") var out: String
    @Option(help: "The image side in pixels (8–512).") var size = 16
    @Option(help: "digits, letters (a–z), capitals (A–Z), a count n ≤ 36 (the first n of the digits then the letters), or the characters themselves (\"AEKX\").")
    var classes = "digits"
    @Option(help: "Training images per class.") var perClass = 150
    @Option(help: "Test images per class (0: no test split).") var testPerClass = 30
    @Option(help: "1 (gray PNGs) or 3 (RGB).") var channels = 1
    @Option(help: "The seed every image's draws follow.") var seed: UInt64 = 0
    @Flag(help: "Textured backgrounds (gradients, stripes, checkerboards, clouds) instead of one colour.") var texture = false
    @Option(help: "dark (ink on a light background), light (on dark) or any (chosen per image).") var ink = "dark"
    @Option(help: "The largest rotation either way, in degrees.") var rotation: Float = 12
    @Option(help: "LOW:HIGH, the longer side of the glyph over the image side, before rotation.") var extent = "0.55:0.85"
    @Option(help: "The largest offset of the glyph's centre, in image sides.") var shift: Float = 0.1
    @Option(help: "The largest standard deviation of the noise added to each value (values in [0, 1]).") var noise: Float = 0.05
    @Option(help: "Font families for the training split: \"all\" or comma-separated prefixes (\"DejaVu\", \"Liberation Serif,DejaVu Sans Mono\").")
    var fonts = "all"
    @Option(help: "Font families for the test split (default: as --fonts); other fonts than training's test generalisation.")
    var testFonts: String?
    @Option(help: "phrase (\"the digit 7\") or name (\"7\") as the text field.") var captions = "phrase"

    func validate() throws {
        guard (8...512).contains(size) else { throw ValidationError("--size must be from 8 to 512, got \(size)") }
        guard channels == 1 || channels == 3 else { throw ValidationError("--channels must be 1 or 3, got \(channels)") }
        guard (1...100_000).contains(perClass) else { throw ValidationError("--per-class must be from 1 to 100000, got \(perClass)") }
        guard (0...100_000).contains(testPerClass) else { throw ValidationError("--test-per-class must be from 0 to 100000, got \(testPerClass)") }
        guard GlyphOptions.Ink(rawValue: ink) != nil else { throw ValidationError("--ink must be dark, light or any, got '\(ink)'") }
        guard GlyphSet.Captions(rawValue: captions) != nil else { throw ValidationError("--captions must be phrase or name, got '\(captions)'") }
        guard (0...180).contains(rotation) else { throw ValidationError("--rotation must be from 0 to 180 degrees, got \(rotation)") }
        guard (0...0.5).contains(shift) else { throw ValidationError("--shift must be from 0 to 0.5, got \(shift)") }
        guard (0...1).contains(noise) else { throw ValidationError("--noise must be from 0 to 1, got \(noise)") }
        _ = try extentRange()
    }

    private func extentRange() throws -> ClosedRange<Float> {
        let parts = extent.split(separator: ":").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low > 0.05, low <= high, high <= 1 else {
            throw ValidationError("--extent must be LOW:HIGH with 0.05 < LOW ≤ HIGH ≤ 1, got '\(extent)'")
        }
        return low...high
    }

    func run() throws {
        do {
            let installed = try GlyphFace.installedFamilies()
            var options = GlyphOptions()
            options.side = size; options.channels = channels; options.texture = texture
            options.ink = GlyphOptions.Ink(rawValue: ink)!; options.rotation = rotation
            options.extent = try extentRange(); options.shift = shift; options.noise = noise
            let set = GlyphSet(classes: try GlyphClasses(classes),
                               trainFaces: try GlyphFace.select(fonts, installed: installed, option: "--fonts"),
                               testFaces: try GlyphFace.select(testFonts ?? fonts, installed: installed, option: "--test-fonts"),
                               options: options, captions: GlyphSet.Captions(rawValue: captions)!, seed: seed)
            let start = Date()
            let written = try set.write(to: out, perClass: perClass, testPerClass: testPerClass)
            let kind = channels == 1 ? "gray" : "RGB"
            for (split, count) in written {
                print("wrote \(count) \(kind) \(size)×\(size) images of \(set.classes.count) classes to \((out as NSString).appendingPathComponent(split))")
            }
            print(String(format: "in %.1f s", Date().timeIntervalSince(start)))
        } catch let error as TensorGraphError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
