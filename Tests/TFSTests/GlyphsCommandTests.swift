import Foundation
import Testing
import Visual

/// `tfs glyphs`: a glyph data set drawn from the installed fonts, as an image folder.
@Suite(.enabled(if: Tool.hasTFS, "the tfs executable is not built (swift build --product tfs)"))
struct GlyphsCommandTests {
    /// Writes a set into a fresh folder; returns the folder.
    func glyphs(_ arguments: [String]) throws -> URL {
        let dir = try Tool.temporaryDirectory().appendingPathComponent("set")
        let r = try Tool.tfs(["glyphs", dir.path] + arguments)
        #expect(r.status == 0, "\(r.both)")
        return dir
    }

    func metadata(_ split: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: split.appendingPathComponent("metadata.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    /// Every file of a folder tree and its bytes.
    func files(_ dir: URL) throws -> [String: Data] {
        let names = FileManager.default.subpaths(atPath: dir.path) ?? []
        return try Dictionary(uniqueKeysWithValues: names.filter { $0.contains(".") }.map {
            ($0, try Data(contentsOf: dir.appendingPathComponent($0)))
        })
    }

    @Test func writesBothSplitsWithTheirMetadata() throws {
        let dir = try glyphs(["--per-class", "3", "--test-per-class", "2", "--size", "16"])
        for (split, count) in [("train", 30), ("test", 20)] {
            let folder = dir.appendingPathComponent(split)
            let pngs = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".png") }
            #expect(pngs.count == count, "\(split): \(pngs.count) files")
            let lines = try metadata(folder)
            #expect(lines.count == count)
            for (k, line) in lines.enumerated() {
                #expect(Set(line.keys).isSuperset(of: ["file_name", "text", "label", "class", "font", "angle", "noise"]), "\(line)")
                #expect(line["label"] as? Int == k % 10)
                #expect(line["class"] as? String == "\(k % 10)")
                #expect(line["text"] as? String == "the digit \(k % 10)")
                let image = try PNGDecoder.decode(contentsOf: folder.appendingPathComponent(line["file_name"] as! String))
                #expect(image.width == 16 && image.height == 16 && image.channels == 1, "a gray 16×16 PNG")
            }
        }
    }

    /// The class shows in the pixels: each test image (less its mean, scaled to unit length, as
    /// paper and ink levels vary) is nearest to the mean training image of its own class far
    /// more often than chance (1 in 10; 55 of 100 for this seed).
    @Test func imagesOfAClassLookAlike() throws {
        let dir = try glyphs(["--per-class", "30", "--test-per-class", "10", "--size", "16", "--seed", "3"])
        func images(_ split: String) throws -> [(label: Int, values: [Float])] {
            let folder = dir.appendingPathComponent(split)
            return try metadata(folder).map { line in
                let image = try PNGDecoder.decode(contentsOf: folder.appendingPathComponent(line["file_name"] as! String))
                let values = image.samples.map { Float($0) / 255 }, mean = values.reduce(0, +) / Float(values.count)
                let centred = values.map { $0 - mean }, norm = centred.map { $0 * $0 }.reduce(0, +).squareRoot()
                return (line["label"] as! Int, centred.map { $0 / norm })
            }
        }
        let train = try images("train"), test = try images("test")
        var means = [[Float]](repeating: [Float](repeating: 0, count: 256), count: 10)
        for (label, values) in train { for i in 0..<256 { means[label][i] += values[i] / 30 } }
        for a in 0..<10 { for b in (a + 1)..<10 {
            let distance = zip(means[a], means[b]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            #expect(distance > 0.05, "classes \(a) and \(b) have mean images \(distance) apart")
        } }
        let right = test.filter { label, values in
            let distances = means.map { mean in zip(mean, values).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }
            return distances.firstIndex(of: distances.min()!) == label
        }.count
        #expect(right >= 40, "nearest class mean right for \(right) of \(test.count)")
    }

    @Test func theSameSeedWritesTheSameBytes() throws {
        let arguments = ["--per-class", "4", "--test-per-class", "1", "--size", "24", "--channels", "3", "--texture", "--ink", "any"]
        let a = try files(try glyphs(arguments + ["--seed", "7"])), b = try files(try glyphs(arguments + ["--seed", "7"]))
        let c = try files(try glyphs(arguments + ["--seed", "8"]))
        #expect(a.count == 52 && a == b)
        let changed = a.keys.filter { $0.hasSuffix(".png") && a[$0] != c[$0] }.count
        #expect(changed == 50, "another seed changes every image, changed \(changed)")
    }

    @Test func texturedColourGlyphs() throws {
        let dir = try glyphs(["--per-class", "2", "--test-per-class", "0", "--size", "32", "--channels", "3", "--texture", "--classes", "AEKX"])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("test").path))
        let lines = try metadata(dir.appendingPathComponent("train"))
        #expect(lines.map { $0["text"] as! String } == ["the capital A", "the capital E", "the capital K", "the capital X"].flatMap { [$0] }
            + ["the capital A", "the capital E", "the capital K", "the capital X"])
        #expect(lines.allSatisfy { ["gradient", "stripes", "checker", "clouds"].contains($0["background"] as! String) })
        let image = try PNGDecoder.decode(contentsOf: dir.appendingPathComponent("train/00000.png"))
        #expect(image.width == 32 && image.channels == 3)
        let colours = Set(stride(from: 0, to: image.samples.count, by: 3).map { image.samples[$0..<($0 + 3)].map(Int.init) })
        #expect(colours.count > 100, "a textured colour image, \(colours.count) colours")
    }

    @Test func trainAndTestFontsCanDiffer() throws {
        let dir = try glyphs(["--per-class", "3", "--test-per-class", "3", "--fonts", "DejaVu", "--test-fonts", "Liberation Serif"])
        #expect(try metadata(dir.appendingPathComponent("train")).allSatisfy { ($0["font"] as! String).hasPrefix("DejaVu") })
        #expect(try metadata(dir.appendingPathComponent("test")).allSatisfy { ($0["font"] as! String).hasPrefix("Liberation Serif") })
    }

    @Test func errorsNameWhatIsWrong() throws {
        let dir = try glyphs(["--per-class", "1", "--test-per-class", "0"])
        let again = try Tool.tfs(["glyphs", dir.path, "--per-class", "1"])
        #expect(again.status == 1 && again.stderr.contains("\(dir.path)/train exists already"), "\(again.both)")
        let twice = try Tool.tfs(["glyphs", dir.path + "-2", "--classes", "ABA"])
        #expect(twice.status == 1 && twice.stderr.contains("names 'A' twice"), "\(twice.both)")
        let font = try Tool.tfs(["glyphs", dir.path + "-3", "--fonts", "Comic"])
        #expect(font.status == 1 && font.stderr.contains("--fonts 'Comic' matches no face"), "\(font.both)")
        let script = dir.deletingLastPathComponent().appendingPathComponent("load.tfs")
        try "images(\"\(dir.path)\", size=16)\n".write(to: script, atomically: true, encoding: .utf8)
        let root = try Tool.tfs(["run", script.path])
        #expect(root.stderr.contains("has no metadata.jsonl") && root.stderr.contains("its splits are image folders: '\(dir.path)/train'"), "\(root.both)")
        let size = try Tool.tfs(["glyphs", dir.path + "-4", "--size", "4"])
        #expect(size.status != 0 && size.stderr.contains("--size must be from 8 to 512"), "\(size.both)")
    }
}
