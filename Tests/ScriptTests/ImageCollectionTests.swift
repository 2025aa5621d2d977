import Foundation
import Testing
import TensorGraph
import Transfusion
import Visual
@testable import Script
@testable import ScriptLibrary

/// Datasets, examples and drawn images as sequences (len, [i], slices, for) whose items keep
/// their metadata fields, and `save` by the path: one PNG at its own size, an image folder, a
/// grid only when asked.
@Suite struct ImageCollectionTests {
    typealias Scratch = DataScriptTests.Scratch

    /// Everything a cell printed, joined by newlines.
    func outputText(_ r: CellResult) -> String {
        r.outputs.compactMap { if case .text(let t) = $0 { return t } else { return nil } }.joined(separator: "\n")
    }

    /// An image folder of five 8×8 images, image i flat gray at i/4, with metadata fields of
    /// every kind JSON has.
    func folder(_ s: Scratch) throws -> String {
        let path = s.path + "/glyphs"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var lines = ""
        for i in 0..<5 {
            try ImageSaving.png([Float](repeating: Float(i) / 4, count: 8 * 8 * 3), side: 8).write(to: URL(fileURLWithPath: path + "/g\(i).png"))
            lines += "{\"file_name\": \"g\(i).png\", \"text\": \"the digit \(i)\", \"label\": \(i), \"font\": \"Face \(i)\", \"angle\": \(Double(i) / 2 + 0.25), \"bold\": \(i % 2 == 0), \"tags\": [\(i)]}\n"
        }
        try lines.write(toFile: path + "/metadata.jsonl", atomically: true, encoding: .utf8)
        return path
    }

    @Test func anImageFolderIsASequenceOfExamplesWithTheirFields() throws {
        let s = Scratch()
        _ = try folder(s)
        let r = s.run("""
            d = images(dir + "/glyphs", size=8)
            print(len(d), d[1].label, d[-1].text, d[2].font, d[3].angle, d[0].bold, d[1].bold, d[4].tags)
            print([ex.label for ex in d], type(d[1:3]), len(d[1:3]), [ex.label for ex in d[::-2]])
            print(d[2].image.shape, d[2].image.mean(), d[1].fields["font"], sorted(d[0].fields.keys()))
            print(len(d.take(3)), d.take(3)[0].font.startswith("Face"), len(d.take(4)[1:]))
            print(d[1])
            """)
        #expect(r.failure == nil, "\(errorText(r))")
        #expect(outputText(r) == """
            5 1 the digit 4 Face 2 1.75 True False [4]
            [0, 1, 2, 3, 4] dataset 2 [4, 2, 0]
            [8, 8, 3] tensor(0.5020) Face 1 ['angle', 'bold', 'font', 'label', 'tags']
            3 True 3
            example("the digit 1", angle=0.75, bold=False, font="Face 1", label=1, tags="[1]")
            """)
    }

    /// show(d) of an image folder, or a slice of one, draws its images as a captioned grid
    /// (the grid the same examples taken would draw); a text corpus stays text.
    @Test func showingAnImageFolderDrawsItsImages() throws {
        let s = Scratch()
        _ = try folder(s)
        let r = s.run("""
            d = images(dir + "/glyphs", size=8)
            show(d[1:3])
            show(d)
            d.take(2).save(dir + "/notes.jsonl")
            show(text(dir + "/notes.jsonl"))
            """)
        #expect(r.failure == nil, "\(errorText(r))")
        let pictures = r.outputs.compactMap { if case .png(let png, let caption) = $0 { return (png, caption ?? "") } else { return nil } }
        try #require(pictures.count == 2)
        #expect(pictures[0].1.hasSuffix("2 gray images 8×8 with captions (all): the digit 1 · the digit 2"), "\(pictures[0].1)")
        #expect(pictures[1].1.hasSuffix("(all): the digit 0 · the digit 1 · the digit 2 · the digit 3 · the digit 4"), "\(pictures[1].1)")
        let d = try ImageFolder.load(s.path + "/glyphs", size: 8) { url in
            let image = try PNGDecoder.decode(contentsOf: url); return (image.width, image.height, image.rgb)
        }
        let expected = try ImageGrid.png((1...2).map { d.example($0).item.pixels! }, side: 8, captions: ["the digit 1", "the digit 2"])
        #expect(pictures[0].0 == expected)
        #expect(outputText(r) == "notes.jsonl: 2 documents, 22 bytes", "\(outputText(r))")
    }

    /// A VAE encodes and reconstructs an image folder or a slice of one: the same latents as
    /// its images stacked into a tensor.
    @Test func aVAETakesAFolderSlice() throws {
        let s = Scratch()
        _ = try folder(s)
        let r = s.run("""
            d = images(dir + "/glyphs", size=8)
            v = vae(width=4)
            a = v.encode(d[1:3])
            b = v.encode(concat([reshape(d[1].image, [1, 8, 8, 3]), reshape(d[2].image, [1, 8, 8, 3])]))
            print(a.shape, float(max(abs(a - b))), len(v.reconstruct(d)), len(v.reconstruct(d[::2])))
            """)
        #expect(r.failure == nil && outputText(r) == "[2, 4, 4, 4] 0.0 5 3", "\(errorText(r)) \(outputText(r))")
    }

    @Test func aTextCorpusIsASequenceOfTexts() throws {
        let s = Scratch()
        let r = s.run("""
            shapes(size=16, seed=1).take(4).save(dir + "/notes.jsonl")
            notes = text(dir + "/notes.jsonl")
            print(len(notes), notes[1].text == [ex.text for ex in notes][1], notes[1].image, len(notes[1:]))
            notes[2:].save(dir + "/two.txt")
            print(len(text(dir + "/two.txt")))
            """)
        #expect(r.failure == nil, "\(errorText(r))")
        #expect(outputText(r) == "4 True None 3\n2")
    }

    @Test func sequencesRefuseWhatTheyCannotDo() throws {
        let s = Scratch()
        _ = try folder(s)
        for (source, message) in [
            ("images(dir + \"/glyphs\", size=8)[5]", "dataset index 5 out of range (length 5)"),
            ("len(shapes(size=16).edits())", "is drawn at random, with no length or order; take(n) draws examples of it"),
            ("len(shapes(size=16))", "object of type 'shapes' has no len()"),
            ("shapes(size=16).edits()[0]", "is drawn at random, with no length or order"),
            ("images(dir + \"/glyphs\", size=8)[3:3]", "the slice selects no item"),
            ("images(dir + \"/glyphs\", size=8)[0].colour", "'example' object has no attribute 'colour'"),
            ("images(dir + \"/glyphs\", size=8)[\"a\"]", "'dataset' object is not subscriptable"),
        ] {
            let r = s.run(source)
            #expect(errorText(r).contains(message), "\(source): \(errorText(r))")
        }
    }

    @Test func drawnImagesAreASequence() throws {
        let s = Scratch()
        let r = s.run("""
            \(DataScriptTests.tinyModel)
            p = draw(m, ["a red circle", "a blue square", "a green triangle"], steps=2)
            print(len(p), p[1].text, p[1:].count, p[::2].captions, [ex.text for ex in p][2], p[0].image.shape)
            print(len(caption(m, p[0], tokens=2)) >= 0)
            """)
        #expect(r.failure == nil, "\(errorText(r))")
        #expect(outputText(r) == "3 a blue square 2 ['a red circle', 'a green triangle'] a green triangle [16, 16, 3]\nTrue")
    }

    /// Saved as an image folder and read back by images(): pixels equal to 8 bits, texts and
    /// metadata fields kept; one example saved as a PNG keeps its own size.
    @Test func savedFoldersAndImagesReadBack() throws {
        let s = Scratch()
        _ = try folder(s)
        let r = s.run("""
            d = images(dir + "/glyphs", size=8)
            d[1:4].save(dir + "/copy/")
            d[4].save(dir + "/deep/er/four.png")
            shapes(size=16, seed=2).take(3).save(dir + "/shapes/")
            \(DataScriptTests.tinyModel)
            p = draw(m, ["a red circle", "a blue square"], steps=2)
            p.save(dir + "/drawn/")
            p.save(dir + "/grid.png", grid=True)
            p[1].save(dir + "/second.png")
            shapes(size=16).edits(n=4).take(2).save(dir + "/edits/")
            shapes(size=16).edits(n=4).take(2)[1].save(dir + "/edited.png")
            edited = edit(m, shapes(size=16).take(2), "make it blue", steps=2)
            edited.save(dir + "/edited/")
            """)
        #expect(r.failure == nil, "\(errorText(r))")
        let copy = try ImageFolder.load(s.path + "/copy", size: 8) { url in let i = try PNGDecoder.decode(contentsOf: url); return (i.width, i.height, i.rgb) }
        let original = try #require(s.dataset("d") as? ImageTextDataset)
        #expect(copy.pairs.map(\.caption) == ["the digit 1", "the digit 2", "the digit 3"])
        #expect(copy.pairs.map(\.fields) == Array(original.pairs[1..<4].map(\.fields)))
        for (a, b) in zip(copy.pairs, original.pairs[1..<4]) {
            #expect(zip(a.pixels, b.pixels).allSatisfy { abs($0 - $1) <= 0.5 / 255 })
        }
        let four = try PNGDecoder.decode(contentsOf: URL(fileURLWithPath: s.path + "/deep/er/four.png"))
        #expect(four.width == 8 && four.height == 8 && four.samples.allSatisfy { $0 == 255 })
        let second = try PNGDecoder.decode(contentsOf: URL(fileURLWithPath: s.path + "/second.png"))
        #expect(second.width == 16 && second.height == 16)
        let grid = try PNGDecoder.decode(contentsOf: URL(fileURLWithPath: s.path + "/grid.png"))
        #expect(grid.width > 32, "a grid of two upscaled images, \(grid.width) wide")

        let back = s.run("""
            drawn = images(dir + "/drawn", size=16)
            print(len(drawn), [ex.text for ex in drawn], drawn[1].image.shape)
            print(len(images(dir + "/shapes/", size=16)))
            e = images(dir + "/edits", size=16)
            print(len(e), e[0].source.shape, e[0].image.shape)
            f = images(dir + "/edited", size=16)
            print(len(f), f[1].text, f[1].source.shape)
            """)
        #expect(back.failure == nil, "\(errorText(back))")
        #expect(outputText(back) == "2 ['a red circle', 'a blue square'] [16, 16, 3]\n3\n2 [16, 16, 3] [16, 16, 3]\n2 make it blue [16, 16, 3]")
        // One edit triple saved as a PNG is its edited image.
        let triple = try #require(s.dataset("e") as? ImageTextDataset)
        #expect(try PNGDecoder.decode(contentsOf: URL(fileURLWithPath: s.path + "/edited.png")).width == 16 && triple.pairs[1].edited != nil)
        // The drawn pixels, to 8 bits.
        guard case .object(let o)? = s.session.interpreter.global("p"), let drawn = o as? ImagesValue,
              let loaded = s.dataset("drawn") as? ImageTextDataset else { Issue.record("no images"); return }
        for (a, b) in zip(drawn.images, loaded.pairs.map(\.pixels)) {
            #expect(zip(a, b).allSatisfy { abs(min(1, max(0, $0)) - $1) <= 0.5 / 255 + 1e-6 })
        }
    }

    @Test func saveErrorsNameThePath() throws {
        let s = Scratch()
        let blocker = s.path + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        for (source, message) in [
            ("shapes(size=16).take(3).save(dir + \"/three.png\")", "/three.png: 3 images make no single PNG; save(\"folder/\") writes each as a file of an image folder, save(\"\(s.path)/three.png\", grid=True) one grid picture"),
            ("shapes(size=16).take(1).save(dir + \"/one.jpg\")", "/one.jpg: images are saved as .png files or image folders (a path ending in /), texts as .txt or .jsonl, not .jpg"),
            ("shapes(size=16).take(1).save(dir + \"/file/one.png\")", "cannot make the folder \(blocker) for \(blocker)/one.png"),
            ("shapes(size=16).take(1).save(dir + \"/file/sub/\")", "cannot make the folder \(blocker)/sub/"),
            ("shapes(size=16).take(2)[0:0].save(dir + \"/none/\")", "/none/: there are no images to save"),
        ] {
            let r = s.run(source)
            #expect(errorText(r).contains(message), "\(source): \(errorText(r))")
        }
    }
}

/// A gray model (transfusion(channels=1)) on gray images: one value per pixel, drawn images
/// gray in every pixel and saved as gray PNGs.
@Suite struct GrayModelTests {
    /// How many pixels of an RGB image are not gray (their three values unequal).
    func tinted(_ image: [Float]) -> Int {
        stride(from: 0, to: image.count, by: 3).filter { (i: Int) -> Bool in image[i] != image[i + 1] || image[i] != image[i + 2] }.count
    }

    @Test func aTinyGrayModelTrainsAndDrawsGray() throws {
        let s = DataScriptTests.Scratch()
        let path = s.path + "/stripes"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var lines = ""
        for i in 0..<6 {
            let across = i % 2 == 0
            var pixels = [Float](repeating: 0.1, count: 16 * 16 * 3)
            for p in 0..<256 where (across ? p / 16 : p % 16) % 4 < 2 { for c in 0..<3 { pixels[3 * p + c] = 0.9 } }
            try ImageSaving.png(pixels, side: 16, channels: 1).write(to: URL(fileURLWithPath: path + "/s\(i).png"))
            lines += "{\"file_name\": \"s\(i).png\", \"text\": \"stripes \(across ? "across" : "down")\"}\n"
        }
        try lines.write(toFile: path + "/metadata.jsonl", atomically: true, encoding: .utf8)
        let r = s.run("""
            d = images(dir + "/stripes", size=16)
            m = transfusion(dim=32, layers=1, heads=2, time_features=16, channels=1)
            run = train(m, d, steps=3, batch=2, lr=1e-3)
            p = draw(m, ["stripes down", "stripes across"], steps=2)
            p[0].save(dir + "/drawn.png")
            p.save(dir + "/drawn/")
            print(d, m.channels, run.steps, len(p))
            print(m)
            """)
        #expect(r.failure == nil, "\(errorText(r))")
        guard case .text(let printed)? = r.outputs.first else { Issue.record("nothing printed"); return }
        #expect(printed.hasPrefix("images('\(path)'): 6 gray images 16×16 with captions 1 3 2\n"), "\(printed)")
        #expect(printed.contains("transfusion(dim=32, layers=1, heads=2, image=16, channels=1, patch=4,"), "\(printed)")
        guard case .object(let o)? = s.session.interpreter.global("p"), let drawn = o as? ImagesValue,
              case .object(let mo)? = s.session.interpreter.global("m"), let model = mo as? ModelValue else { Issue.record("no images"); return }
        #expect(model.model.config.patchSize == 16, "4×4 patches of one value each")
        for image in drawn.images {
            #expect(image.count == 16 * 16 * 3)
            #expect(tinted(image) == 0, "gray, never tinted")
        }
        let png = try PNGDecoder.decode(contentsOf: URL(fileURLWithPath: s.path + "/drawn.png"))
        #expect(png.width == 16 && png.channels == 1, "a gray 16×16 PNG")
        let firstValues: [UInt8] = stride(from: 0, to: drawn.images[0].count, by: 3).map { UInt8((drawn.images[0][$0] * 255).rounded()) }
        #expect(png.samples == firstValues)
        let folder = try PNGDecoder.decode(contentsOf: URL(fileURLWithPath: s.path + "/drawn/0001.png"))
        #expect(folder.channels == 1)
        // A gray VAE: it reads each pixel's mean, and a latent model on it draws gray.
        let latent = s.run("""
            v = vae(width=8, image_channels=1)
            vrun = train_vae(v, d, steps=2, batch=2)
            lm = transfusion(dim=32, layers=1, heads=2, time_features=16, latent=v, patch=2)
            train(lm, d, steps=2, batch=2)
            q = draw(lm, ["stripes down"], steps=2)
            q.save(dir + "/latent.png")
            um = transfusion(dim=32, layers=1, heads=2, time_features=16, encoder="unet", channels=1)
            train(um, d, steps=1, batch=2)
            u = draw(um, ["stripes across"], steps=2)
            print(v, len(v.decode(v.encode(d.take(2)))))
            """)
        #expect(latent.failure == nil, "\(errorText(latent))")
        guard case .object(let qo)? = s.session.interpreter.global("q"), let q = qo as? ImagesValue else { Issue.record("no latent images"); return }
        #expect(q.images[0].count == 16 * 16 * 3 && tinted(q.images[0]) == 0 && q.channels == 1)
        #expect(try PNGDecoder.decode(contentsOf: URL(fileURLWithPath: s.path + "/latent.png")).channels == 1)
        // The U-Net encoder and decoder work on one channel too.
        guard case .object(let uo)? = s.session.interpreter.global("u"), let u = uo as? ImagesValue else { Issue.record("no U-Net images"); return }
        #expect(u.images[0].count == 16 * 16 * 3 && tinted(u.images[0]) == 0 && u.channels == 1)

        let bad = s.run("transfusion(dim=32, layers=1, heads=2, channels=2)")
        #expect(errorText(bad).contains("1:49: error: transfusion: must be 1 (gray) or 3 (RGB), got 2"), "\(errorText(bad))")
    }
}
