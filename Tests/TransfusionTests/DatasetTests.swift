import Foundation
import Testing
import TensorGraph
@testable import Transfusion

/// A scratch folder removed when the test ends.
final class ScratchFolder {
    let path = NSTemporaryDirectory() + "tfs-data-\(getpid())-\(UUID().uuidString)"
    init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let file = path + "/" + name
        try! Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }
}

/// The message of a TensorGraphError thrown by `body`, or a note that nothing was thrown.
func thrownMessage(_ body: () throws -> Any) -> String {
    do { _ = try body(); return "(no error)" } catch let e as TensorGraphError { return e.message } catch { return "\(error)" }
}

@Suite struct TextCorpusTests {
    @Test func plainTextSplitsAtBlankLines() throws {
        let folder = ScratchFolder()
        let file = folder.write("notes.txt", "first line\nsame document\n\n  \t\nsecond\r\n\r\n\n\nthird\n")
        let corpus = try TextCorpus.load(file)
        #expect(corpus.documents.map(\.text) == ["first line\nsame document", "second", "third"])
        #expect(corpus.documents.map(\.source) == ["\(file):1", "\(file):5", "\(file):9"])
        #expect(corpus.imageSide == nil && corpus.count == 3)
    }

    @Test func jsonLinesTakeTheTextField() throws {
        let folder = ScratchFolder()
        let file = folder.write("c.jsonl", "{\"text\": \"one\", \"id\": 1}\n\n{\"text\": \"t\\u00e9l\\u00e9\\nphone\"}\n{\"text\": \"  \"}\n")
        #expect(try TextCorpus.load(file).documents.map(\.text) == ["one", "télé\nphone"])   // blank documents skipped
    }

    @Test func badJSONLinesAreReportedWithTheirLineNumber() {
        let folder = ScratchFolder()
        let cases = [
            ("{\"text\": \"ok\"}\n{\"text\": \"cut", "3: not valid JSON"),
            ("{\"text\": \"ok\"}\n{\"body\": \"x\"}", "3: no \"text\" field"),
            ("{\"text\": 7}", "2: \"text\" must be a string"),
            ("[\"text\"]", "2: expected a JSON object ({...}) per line"),
        ]
        for (i, (body, expected)) in cases.enumerated() {
            let file = folder.write("bad\(i).jsonl", "\n" + body)   // a blank first line: numbers count every line
            #expect(thrownMessage { try TextCorpus.load(file) } == "\(file):\(expected)")
        }
        #expect(thrownMessage { try TextCorpus.load(folder.path + "/missing.txt") } == "\(folder.path)/missing.txt: no such file")
        #expect(thrownMessage { try TextCorpus.load(folder.write("x.csv", "a")) }.hasSuffix("a text corpus is a .txt or .jsonl file"))
        #expect(thrownMessage { try TextCorpus.load(folder.write("empty.txt", "\n\n")) } == "empty.txt holds no text")
    }

    /// Chunks fit, cover the text exactly, never split a character, and prefer spaces.
    @Test func longDocumentsAreCutIntoChunksThatFit() throws {
        var rng = RNG(seed: 5)
        let words = ["tête", "naïve", "日本語", "🙂🙂", "a", "word", "longerword", "x\ny"]
        for trial in 0..<200 {
            let text = (0..<rng.int(60)).map { _ in words[rng.int(words.count)] }.joined(separator: rng.int(3) == 0 ? "" : " ")
            let limit = 4 + rng.int(30)
            let chunks = TextCorpus.chunks(text, maxBytes: limit)
            #expect(chunks.joined() == text, "trial \(trial)")
            #expect(chunks.allSatisfy { $0.utf8.count <= limit && !$0.isEmpty }, "trial \(trial): \(chunks)")
            #expect(chunks.allSatisfy { String(decoding: Array($0.utf8), as: UTF8.self) == $0 && !$0.contains("\u{FFFD}") })
        }
        #expect(TextCorpus.chunks("the cat sat on the mat", maxBytes: 10) == ["the cat ", "sat on ", "the mat"])
        let corpus = try TextCorpus(documents: [.init(text: String(repeating: "ab ", count: 100), source: "f:1")])
        let fitted = try corpus.fitted(length: 64, patches: 0) as! TextCorpus
        #expect(fitted.documents.count == 5 && fitted.documents[1].source == "f:1 (chunk 2)")
        let packer = Packer(length: 64)
        for doc in fitted.documents { #expect(try packer.pack([[.text(doc.text)]]).count == 1) }
    }

    @Test func writingAndLoadingRoundTrips() throws {
        let folder = ScratchFolder(), texts = ["one", "two\nlines", "quote \" and \\ back"]
        for ext in ["jsonl", "txt"] {
            let path = folder.path + "/corpus." + ext
            try TextCorpus.write(texts, to: path)
            #expect(try TextCorpus.load(path).documents.map(\.text) == texts)
        }
    }
}

@Suite struct DatasetTests {
    static func pairs(_ n: Int, side: Int = 2) -> [ImageTextDataset.Pair] {
        (0..<n).map { i in .init(pixels: [Float](repeating: Float(i) / Float(n), count: side * side * 3), caption: "image \(i)", source: "\(i).png") }
    }

    @Test func imageTextDatasetsSplitIntoDisjointPartsBySeed() throws {
        let data = try ImageTextDataset(side: 2, pairs: Self.pairs(20))
        let (train, held) = try data.split(heldOut: 0.25, seed: 4)
        let a = (train as! ImageTextDataset).pairs.map(\.caption), b = (held as! ImageTextDataset).pairs.map(\.caption)
        #expect(a.count == 15 && b.count == 5)
        #expect(Set(a).isDisjoint(with: b) && Set(a + b) == Set(data.pairs.map(\.caption)))
        let again = try data.split(heldOut: 0.25, seed: 4).heldOut as! ImageTextDataset
        #expect(again.pairs.map(\.caption) == b)
        let other = try data.split(heldOut: 0.25, seed: 5).heldOut as! ImageTextDataset
        #expect(other.pairs.map(\.caption) != b)
        #expect(thrownMessage { try data.split(heldOut: 1.5, seed: 0) } == "the held-out fraction must be between 0 and 1, got 1.5")
        #expect(thrownMessage { try ImageTextDataset(side: 2, pairs: Self.pairs(1)).split(heldOut: 0.5, seed: 0) } == "a dataset of 1 item cannot be split")
    }

    @Test func captionsThatCannotFitWithTheirImageAreNamed() throws {
        var pairs = Self.pairs(3)
        pairs[1].caption = String(repeating: "x", count: 50)
        let data = try ImageTextDataset(side: 2, pairs: pairs)
        #expect(thrownMessage { try data.fitted(length: 64, patches: 16) }
                == "the caption of 1.png has 50 bytes: with its image (16 patches) it needs 70 positions, more than the sequence length 64; raise length= or shorten it")
        _ = try data.fitted(length: 70, patches: 16)
        #expect(thrownMessage { try ImageTextDataset(side: 3, pairs: pairs) } == "0.png has 12 values; a 3×3 RGB image has 27")
    }

    @Test func shapesIsADatasetThatDrawsAsSampleDoes() throws {
        for two in [false, true] {
            let shapes = Shapes(side: 16, two: two)
            var a = RNG(seed: 9), b = RNG(seed: 9)
            for _ in 0..<300 {
                let e = shapes.sample(&a, two: two), item = shapes.draw(&b)
                #expect(item == .pair(pixels: e.pixels, caption: e.caption))
                #expect(e.caption.utf8.count <= shapes.longestCaption)
            }
        }
        #expect(Shapes(side: 16).longestCaption == "a small magenta triangle in the center".utf8.count)
        _ = try Shapes(side: 16).fitted(length: 58, patches: 16)
        #expect(thrownMessage { try Shapes(side: 16, two: true).fitted(length: 64, patches: 16) }.hasPrefix("the caption of the longest shapes example has 81 bytes"))
    }

    @Test func aMixtureDrawsByWeightDeterministically() throws {
        let a = try TextCorpus(documents: [.init(text: "a", source: "")]), b = try TextCorpus(documents: [.init(text: "b", source: "")])
        let mix = try Mixture([a, b, Shapes(side: 16)], weights: [6, 3, 1])
        var rng = RNG(seed: 1)
        let draws = (0..<20_000).map { _ in mix.draw(&rng) }
        let counts = [draws.filter { $0 == .text("a") }.count, draws.filter { $0 == .text("b") }.count, draws.filter { $0.pixels != nil }.count]
        // Binomial standard deviations are under 70 draws here; allow five.
        for (count, expected) in zip(counts, [12_000, 6_000, 2_000]) { #expect(abs(count - expected) < 350, "\(counts)") }
        var again = RNG(seed: 1)
        #expect((0..<100).map { _ in mix.draw(&again) } == Array(draws.prefix(100)))
        #expect(mix.imageSide == 16 && mix.count == nil)
        #expect(thrownMessage { try Mixture([Shapes(side: 16), Shapes(side: 32)]) } == "a mixture's images must share one size; these are 16×16, 32×32")
        #expect(thrownMessage { try Mixture([a, b], weights: [1]) } == "a mixture of 2 datasets needs 2 weights, got 1")
        #expect(thrownMessage { try Mixture([a, b], weights: [1, 0]) } == "mixture weights must be positive numbers, got 0.0")
    }

    @Test func aMixtureFitsAndSplitsEachPart() throws {
        let long = try TextCorpus(documents: (0..<10).map { .init(text: String(repeating: "word ", count: 40), source: "d\($0)") })
        let mix = try Mixture([long, ImageTextDataset(side: 2, pairs: Self.pairs(10))], weights: [1, 3])
        let fitted = try mix.fitted(length: 32, patches: 4) as! Mixture
        #expect((fitted.parts[0] as! TextCorpus).documents.count == 70)   // 200 bytes in chunks of ≤ 30
        #expect(fitted.weights == [0.25, 0.75])
        let (train, held) = try mix.split(heldOut: 0.2, seed: 0)
        #expect(train.count == 16 && held.count == 4)
    }

    /// The paper recipe's proportions: 20% image first (step capped at 500), 10% of the rest uncaptioned.
    @Test func pairsFollowTheCaptioningAndDropoutPolicy() throws {
        let data = try ImageTextDataset(side: 4, pairs: [.init(pixels: [Float](repeating: 0.5, count: 48), caption: "grey", source: "g")])
        var rng = RNG(seed: 2)
        let paper = ExamplePolicy(imageFirst: ExamplePolicy.paper.imageFirst, captionStepCap: ExamplePolicy.paper.captionStepCap)
        let batch = try paper.batch(10_000, from: data, packer: Packer(length: 16), patchifier: Patchifier(side: 4, patch: 2), rng: &rng)
        // 4 patches: BOS BOI p p p p EOI then the caption — or EOS when the caption was dropped.
        let imageFirst = batch.rows.filter { $0.tokens[1] == Tokenizer.boi && $0.tokens[7] != Tokenizer.eos }
        let dropped = batch.rows.filter { $0.tokens[1] == Tokenizer.boi && $0.tokens[7] == Tokenizer.eos }
        #expect(abs(imageFirst.count - 2000) < 200)
        #expect(abs(dropped.count - 800) < 140)   // 10% of the 80% caption-first
        #expect(batch.stepLimits.filter { $0 == [500] }.count == imageFirst.count)
        #expect(batch.stepLimits.allSatisfy { $0 == [500] || $0 == [Int.max] })
        #expect(batch.images.allSatisfy { $0.count == 1 && $0[0] == [Float](repeating: 0, count: 48) })  // 0.5 → 0 in [-1, 1]
        let text = try ExamplePolicy().batch(3, from: TextCorpus(documents: [.init(text: "hi", source: "")]), packer: Packer(length: 8), patchifier: nil, rng: &rng)
        #expect(text.rows.map(\.tokens) == Array(repeating: [Tokenizer.bos, 104, 105, Tokenizer.eos] + Array(repeating: Tokenizer.pad, count: 4), count: 3))
        #expect(text.images.allSatisfy(\.isEmpty) && text.lmTargets == 9 && text.patchValues == 0)
    }
}

@Suite struct ImageFolderTests {
    /// A stand-in image format for these tests: "W H v v v …" as text (PNG is tested in Visual
    /// and through `images()` in the script tests).
    static func decode(_ url: URL) throws -> (width: Int, height: Int, rgb: [Float]) {
        let fields = try String(contentsOf: url, encoding: .utf8).split(separator: " ").map { Float($0)! }
        return (Int(fields[0]), Int(fields[1]), Array(fields[2...]))
    }
    static func encode(_ pixels: [Float], _ side: Int) -> Data {
        Data(([Float(side), Float(side)] + pixels).map { "\($0)" }.joined(separator: " ").utf8)
    }
    /// side × side × 3 values, value(x, y, channel), row-major.
    static func raster(_ side: Int, _ value: (Int, Int, Int) -> Float) -> [Float] {
        var out: [Float] = []
        for y in 0..<side { for x in 0..<side { for c in 0..<3 { out.append(value(x, y, c)) } } }
        return out
    }
    static func image(_ side: Int, _ value: (Int, Int, Int) -> Float) -> String {
        "\(side) \(side) " + raster(side, value).map { "\($0)" }.joined(separator: " ")
    }

    @Test func loadsAndAveragesDownIntegerMultiples() throws {
        let folder = ScratchFolder()
        folder.write("small.img", Self.image(2) { x, y, c in Float(x + 2 * y) / 10 + Float(c) })
        folder.write("big.img", Self.image(4) { x, y, c in Float(x * 4 + y) + Float(c) * 100 })
        folder.write("metadata.jsonl", "{\"file_name\": \"small.img\", \"text\": \"small\"}\n{\"file_name\": \"big.img\", \"text\": \"big\"}\n")
        let data = try ImageFolder.load(folder.path, size: 2, decode: Self.decode)
        #expect(data.pairs.map(\.caption) == ["small", "big"])
        #expect(data.pairs[0].pixels == Self.raster(2) { x, y, c in Float(x + 2 * y) / 10 + Float(c) })
        // Each output pixel is the mean of a 2×2 block: x·4 + y over x ∈ {2X, 2X+1}, y ∈ {2Y, 2Y+1}.
        let expected = Self.raster(2) { X, Y, c in Float(8 * X + 2) + Float(2 * Y) + 0.5 + Float(c) * 100 }
        #expect(data.pairs[1].pixels == expected)
    }

    @Test func errorsNameTheFileAndLine() {
        let folder = ScratchFolder(), meta = folder.path + "/metadata.jsonl"
        #expect(thrownMessage { try ImageFolder.load(folder.path, size: 2, decode: Self.decode) }.hasSuffix("has no metadata.jsonl (one line per image: {\"file_name\": \"cat.png\", \"text\": \"a cat\"})"))
        folder.write("wide.img", "3 2 " + Array(repeating: "0", count: 18).joined(separator: " "))
        folder.write("six.img", Self.image(6) { _, _, _ in 0 })
        let cases = [
            ("{\"file_name\": \"gone.img\", \"text\": \"x\"}", "\(meta):2: no file gone.img in \(folder.path)"),
            ("{\"file_name\": \"wide.img\", \"text\": \"x\"}", "\(meta):2: wide.img is 3×2; images must be square"),
            ("{\"file_name\": \"six.img\", \"text\": \"x\"}", "\(meta):2: six.img is 6×6; images must be 4×4 or a multiple of it (averaged down)"),
            ("{\"file_name\": \"six.img\"}", "\(meta):2: no \"text\" field"),
        ]
        for (line, expected) in cases {
            folder.write("metadata.jsonl", "\n" + line)
            #expect(thrownMessage { try ImageFolder.load(folder.path, size: 4, decode: Self.decode) } == expected)
        }
        folder.write("metadata.jsonl", "{\"file_name\": \"wide.img\", \"text\": \"x\"}")
        let failing: ImageFolder.Decoder = { _ in throw TensorGraphError("not a PNG file") }
        #expect(thrownMessage { try ImageFolder.load(folder.path, size: 4, decode: failing) } == "\(meta):1: wide.img: not a PNG file")
    }

    /// Issue 20: a metadata line may only name files inside the folder — `..`, an absolute
    /// path, or a symbolic link (to a file or a folder) leading out is an error naming the line;
    /// links and `..` that stay inside are fine.
    @Test func filesOutsideTheFolderAreRefused() throws {
        let outside = ScratchFolder(), folder = ScratchFolder(), meta = folder.path + "/metadata.jsonl"
        let secret = outside.write("secret.img", Self.image(2) { _, _, _ in 1 })
        folder.write("small.img", Self.image(2) { _, _, _ in 0 })
        try FileManager.default.createDirectory(atPath: folder.path + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/link.img", withDestinationPath: secret)
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/out", withDestinationPath: outside.path)
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/alias.img", withDestinationPath: "small.img")
        let resolvedSecret = DataFiles.realPath(secret)!
        let refused = [
            ("\"file_name\": \"../\(URL(fileURLWithPath: outside.path).lastPathComponent)/secret.img\"", "\"file_name\" '../\(URL(fileURLWithPath: outside.path).lastPathComponent)/secret.img' leads outside \(folder.path) (to \(resolvedSecret))"),
            ("\"file_name\": \"\(secret)\"", "\"file_name\" is an absolute path ('\(secret)'); it must name a file inside \(folder.path)"),
            ("\"file_name\": \"link.img\"", "\"file_name\" 'link.img' leads outside \(folder.path) (to \(resolvedSecret))"),
            ("\"file_name\": \"out/secret.img\"", "\"file_name\" 'out/secret.img' leads outside \(folder.path) (to \(resolvedSecret))"),
            ("\"file_name\": \"small.img\", \"edited_file_name\": \"../../../../../../etc/passwd\"", "\"edited_file_name\" '../../../../../../etc/passwd' leads outside \(folder.path) (to /etc/passwd)"),
        ]
        for (fields, expected) in refused {
            folder.write("metadata.jsonl", "{\"file_name\": \"small.img\", \"text\": \"ok\"}\n{\(fields), \"text\": \"x\"}")
            #expect(thrownMessage { try ImageFolder.load(folder.path, size: 2, decode: Self.decode) } == "\(meta):2: \(expected)")
        }
        folder.write("metadata.jsonl", ["alias.img", "./small.img", "sub/../small.img"].map { "{\"file_name\": \"\($0)\", \"text\": \"in\"}" }.joined(separator: "\n"))
        let inside = try ImageFolder.load(folder.path, size: 2, decode: Self.decode)
        #expect(inside.pairs.map(\.pixels) == Array(repeating: Self.raster(2) { _, _, _ in 0 }, count: 3))
    }

    @Test func writtenFoldersLoadBack() throws {
        let folder = ScratchFolder(), shapes = Shapes(side: 8)
        var rng = RNG(seed: 1)
        let examples = (0..<5).map { _ in shapes.sample(&rng) }
        try ImageFolder.write(examples.map { Example(.pair(pixels: $0.pixels, caption: $0.caption)) }, side: 8, to: folder.path + "/out", encode: Self.encode)
        let back = try ImageFolder.load(folder.path + "/out", size: 8, decode: Self.decode)
        #expect(back.pairs.map(\.caption) == examples.map(\.caption))
        #expect(back.pairs.map(\.pixels) == examples.map(\.pixels))
        #expect(back.pairs.map(\.source) == ["0000.png", "0001.png", "0002.png", "0003.png", "0004.png"])
    }

    /// Edit triples written as a folder (`file_name`, `edited_file_name`, `text`) load back as
    /// edits, and training draws them as edits.
    @Test func editFoldersLoadBackAsTriples() throws {
        let folder = ScratchFolder()
        let edits = ShapesEdits(Shapes(side: 8), count: 4, seed: 2)
        var rng = RNG(seed: 1)
        let items = (0..<4).map { _ in edits.draw(&rng) }
        try ImageFolder.write(items.map { Example($0) }, side: 8, to: folder.path + "/edits", encode: Self.encode)
        let meta = try String(contentsOfFile: folder.path + "/edits/metadata.jsonl", encoding: .utf8)
        #expect(meta.contains("\"edited_file_name\":\"0000-edited.png\"") || meta.contains("\"edited_file_name\": \"0000-edited.png\""))
        let back = try ImageFolder.load(folder.path + "/edits", size: 8, decode: Self.decode)
        for (pair, item) in zip(back.pairs, items) {
            guard case .edit(let source, let instruction, let target) = item else { Issue.record("not an edit"); continue }
            #expect(pair.pixels == source && pair.edited == target && pair.caption == instruction)
        }
        var draw = RNG(seed: 3)
        guard case .edit = back.draw(&draw) else { Issue.record("a triple folder should draw edits"); return }
        #expect(throws: TensorGraphError.self) { try back.fitted(length: 20, patches: 4) }   // two images need room
    }

    @Test func boxDownsamplingAveragesBlocks() {
        var rng = RNG(seed: 8)
        let image = rng.uniform(12 * 12 * 3)
        let small = BoxDownsample.rgb(image, side: 12, to: 4)
        for Y in 0..<4 { for X in 0..<4 { for c in 0..<3 {
            var sum: Float = 0
            for y in (3 * Y)..<(3 * Y + 3) { for x in (3 * X)..<(3 * X + 3) { sum += image[(y * 12 + x) * 3 + c] } }
            #expect(abs(small[(Y * 4 + X) * 3 + c] - sum / 9) < 1e-6)
        } } }
        #expect(BoxDownsample.rgb(image, side: 12, to: 12) == image)
    }
}

/// Gray images: one value per pixel for a one-channel model, the RGB images datasets hold
/// read as each pixel's mean and written back with it in all three values.
@Suite struct GrayImageTests {
    @Test func aGrayPatchifierTakesEachPixelsMeanAndWritesGray() {
        var rng = RNG(seed: 4)
        let colour = rng.uniform(4 * 4 * 3)
        let gray = Patchifier(side: 4, patch: 2, channels: 1)
        let patches = gray.patches(colour)
        #expect(patches.count == 16 && gray.patchValues == 4)
        // Patch 1 is the top-right 2×2 block, row by row: pixels (0, 2), (0, 3), (1, 2), (1, 3).
        let pixels = [2, 3, 6, 7]
        for (k, p) in pixels.enumerated() {
            let mean = (colour[3 * p] + colour[3 * p + 1] + colour[3 * p + 2]) / 3
            #expect(abs(patches[4 + k] - (2 * mean - 1)) < 1e-6)
        }
        let back = gray.image(patches)
        #expect(back.count == 4 * 4 * 3)
        for p in 0..<16 {
            let mean = (colour[3 * p] + colour[3 * p + 1] + colour[3 * p + 2]) / 3
            #expect(back[3 * p] == back[3 * p + 1] && back[3 * p] == back[3 * p + 2] && abs(back[3 * p] - mean) < 1e-6)
        }
        // RGB and latent patchifiers are as they were.
        #expect(Patchifier(side: 4, patch: 2).patches(colour).count == 48)
        #expect(Patchifier(side: 4, patch: 2, channels: 1, scaled: false).patches(Array(colour.prefix(16))) == [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15].map { colour[$0] })
    }

    @Test func aDatasetKnowsItsImagesAreGray() throws {
        let gray = ImageTextDataset.Pair(pixels: [Float](repeating: 0.25, count: 12), caption: "g", source: "g.png")
        var tinted = gray; tinted.pixels[4] = 0.3
        #expect(try ImageTextDataset(side: 2, pairs: [gray, gray]).imageChannels == 1)
        #expect(try ImageTextDataset(side: 2, pairs: [gray, tinted]).imageChannels == 3)
        #expect(Shapes(side: 8).imageChannels == 3)
    }
}
