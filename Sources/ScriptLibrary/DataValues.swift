import Script
import Foundation
import TensorGraph
import Transfusion
import Visual

/// A script value `train` can learn from: it holds a dataset, and a generator of its own
/// for `take` (training draws with the trainer's generator, so `take` never shifts a run).
protocol TrainingData: ScriptObject {
    var dataset: any Dataset { get }
    var rng: RNG { get set }
}

extension Members where T: TrainingData {
    /// `data.take(n)`: the next n items, shown as images with captions or as texts.
    func take(example: String) -> Builtin {
        method("take", "n", "n examples drawn as training draws them (at random, with replacement): captioned images (show them as a grid) or texts.",
               example: example) { data, a in
            let n = try a.size("n")
            guard n <= 10_000 else { throw a.error("n", "takes at most 10000 examples at once, got \(n)") }
            // An indexed dataset draws its item as its own draw does (one int), keeping the metadata.
            let items = (0..<n).map { _ in
                if let indexed = data.dataset as? IndexedDataset { return indexed.example(data.rng.int(indexed.length)) }
                return Example(data.dataset.draw(&data.rng))
            }
            return .object(ExamplesValue(items, side: data.dataset.imageSide, channels: data.dataset.imageChannels))
        }
    }
}

/// A dataset loaded from files or mixed from others: `images(...)`, `text(...)`, `mixture(...)`.
/// One that holds its items (an image folder, a text corpus) is also a sequence: `len(d)`, `d[i]` (an
/// example with its metadata fields), `d[a:b]` (a dataset), `for ex in d`.
final class DatasetValue: TrainingData, ScriptSequence {
    let dataset: any Dataset
    var rng: RNG

    init(_ dataset: any Dataset, seed: UInt64 = 0) { self.dataset = dataset; rng = RNG(seed: seed) }

    static let type: ValueType = {
        let m = Members<DatasetValue>("dataset")
        return ValueType("dataset", help: "A dataset loaded from files or mixed from others: images(...), text(...), mixture(...). An image folder or a text corpus is also a sequence: len(d), d[i] (an example: ex.text, ex.image, ex.label, …), d[a:b] (a dataset), for ex in d. show(d) draws an image folder's first 64 images as a captioned grid.", fields: [
            m.field("size", "The side of its images in pixels (None for text).") { $0.dataset.imageSide.map(Value.int) ?? Value.none } ,
            m.field("count", "How many items it holds (None when it is unbounded, as a mixture).") { $0.dataset.count.map(Value.int) ?? Value.none },
        ], methods: [
            m.take(example: "shapes(size=16).take(8).save(\"/tmp/tfs-folder\")\nimages(\"/tmp/tfs-folder\").take(2)"),
            m.method("split", "fraction=0.1, seed=0",
                     "Two datasets with no item in common, (train, held_out), the second with about `fraction` of the items.",
                     example: "shapes(size=16).take(8).save(\"/tmp/tfs-folder\")\ntrain_part, held = images(\"/tmp/tfs-folder\").split(0.25)") { data, a in
                let fraction = try a.double("fraction")
                let parts = try RuntimeError.located { try data.dataset.split(heldOut: fraction, seed: UInt64(max(0, try a.int("seed")))) }
                return .tuple([.object(DatasetValue(parts.train)), .object(DatasetValue(parts.heldOut))])
            },
            ImageSaving.method(m, example: "shapes(size=16).take(8).save(\"/tmp/tfs-folder\")\nimages(\"/tmp/tfs-folder\")[2:5].save(\"/tmp/tfs-three/\")") { data in
                let indexed = try data.indexed()
                return ((0..<indexed.length).map(indexed.example), data.dataset.imageSide, data.dataset.imageChannels)
            },
        ])
    }()

    var description: String { dataset.description }

    func indexed() throws -> IndexedDataset {
        guard let indexed = dataset as? IndexedDataset else {
            throw RuntimeError("\(dataset.description) is drawn at random, with no length or order; take(n) draws examples of it")
        }
        return indexed
    }
    /// An image folder (or a slice of one) shows its first images as a captioned grid, at most
    /// `DatasetValue.shown`, under its description; anything else shows as text.
    func output() throws -> Output? {
        guard let indexed = dataset as? IndexedDataset, indexed.length > 0, dataset.imageSide != nil else { return nil }
        let first = (0..<min(indexed.length, DatasetValue.shown)).map(indexed.example)
        guard case .png(let png, let captions)? = try ExamplesValue(first, side: dataset.imageSide, channels: dataset.imageChannels).output() else { return nil }
        let which = indexed.length > first.count ? "the first \(first.count)" : "all"
        return .png(png, caption: "\(dataset.description) (\(which)): " + (captions ?? ""))
    }
    static let shown = 64

    func length() throws -> Int { try indexed().length }
    func item(_ i: Int) throws -> Value { .object(ExampleValue(try indexed().example(i), side: dataset.imageSide, channels: dataset.imageChannels)) }
    func items(_ indices: [Int]) throws -> Value {
        let part = try indexed()
        guard !indices.isEmpty else { throw RuntimeError("the slice selects no item of \(dataset.description); a dataset holds at least one") }
        return .object(DatasetValue(try RuntimeError.located { try part.subset(indices) }))
    }
}

/// Examples drawn by `take`: captioned images shown as a grid, texts shown as text;
/// `save` writes them as an image folder or a text corpus. A sequence of examples.
final class ExamplesValue: ScriptSequence {
    let examples: [Example]
    let side: Int?
    /// 1 for gray images (saved as gray PNGs), else 3.
    let channels: Int
    init(_ examples: [Example], side: Int?, channels: Int = 3) { self.examples = examples; self.side = side; self.channels = channels }
    var items: [DatasetItem] { examples.map(\.item) }

    static let type: ValueType = {
        let m = Members<ExamplesValue>("examples")
        return ValueType("examples", help: "Examples drawn by take(n): captioned images shown as a grid, texts shown as text. A sequence: len(e), e[i] (an example), e[a:b], for ex in e.", fields: [
            m.field("captions", "The captions of the images, a list of strings.") { .list(ListRef($0.pairs.map { .string($0.caption) })) },
            m.field("texts", "The text of every example (a caption, a document or an edit instruction).") { .list(ListRef($0.items.map { .string($0.text) })) },
            m.field("count", "How many examples.") { .int($0.items.count) },
            m.field("images", "The images as a [n, side, side, 3] tensor in [0, 1] (None for texts).") { e in
                guard let side = e.side else { return Value.none }
                return .tensor(.constant(TensorData(shape: [e.pairs.count, side, side, 3], values: e.pairs.flatMap(\.pixels))))
            },
        ], methods: [
            ImageSaving.method(m, example: "shapes(size=16).take(8).save(\"/tmp/tfs-folder\")\nshapes(size=16).take(1).save(\"/tmp/tfs-one-shape.png\")") { ($0.examples, $0.side, $0.channels) },
        ])
    }()

    var description: String { items.enumerated().map { "\($0.offset): \($0.element.text)" }.joined(separator: "\n") }
    var pairs: [(pixels: [Float], caption: String)] {
        items.compactMap { item in item.pixels.map { ($0, item.text) } }
    }

    func length() -> Int { examples.count }
    func item(_ i: Int) -> Value { .object(ExampleValue(examples[i], side: side, channels: channels)) }
    func items(_ indices: [Int]) -> Value { .object(ExamplesValue(indices.map { examples[$0] }, side: side, channels: channels)) }

    func output() throws -> Output? {
        guard let side, !pairs.isEmpty else { return .text(description) }
        let texts = items.filter { $0.pixels == nil }.map { "text: " + String($0.text.prefix(60)) }
        return .png(try ImageGrid.png(pairs.map(\.pixels), side: side, captions: pairs.map(\.caption)),
                    caption: (pairs.map(\.caption) + texts).joined(separator: " · "))
    }
}

/// Loading datasets and mixing them.
enum DatasetBuiltins {
    static let all: [Builtin] = [
        Builtin("images", "folder, size=16",
                help: "Captioned images from a Hugging Face style image folder: metadata.jsonl with a file_name and a text per line, PNG files beside it. Images must be square: size×size is used as it is, a multiple of size (e.g. 64×64 for size=16) is shrunk by averaging each block of pixels, any other size is an error naming the file and its line.",
                example: "shapes(size=16).take(8).save(\"/tmp/tfs-folder\")\ndata = images(\"/tmp/tfs-folder\", size=16)\nshow(data.take(4))") { a in
            let size = try a.size("size", atMost: 1024)
            let dataset = try RuntimeError.located {
                try ImageFolder.load(try a.path("folder"), size: size) { url in
                    let image = try PNGDecoder.decode(contentsOf: url)
                    return (image.width, image.height, image.rgb)
                }
            }
            return .object(DatasetValue(dataset))
        },
        Builtin("text", "path",
                help: "A text corpus for the LM loss: a .txt file (documents separated by blank lines) or a .jsonl file (a text field per line). Documents longer than a training sequence are cut into chunks that fit.",
                example: "shapes(size=16).take(6).save(\"/tmp/tfs-notes.txt\")\nnotes = text(\"/tmp/tfs-notes.txt\")\nprint(notes.count)") { a in
            .object(DatasetValue(try RuntimeError.located { try TextCorpus.load(try a.path("path")) }))
        },
        Builtin("mixture", "*datasets, weights=None",
                help: "Draws from several datasets in proportion to weights (equal by default): each training item first picks a dataset, then an item of it, deterministically by the run's seed. Image datasets must share one size.",
                example: "shapes(size=16).take(6).save(\"/tmp/tfs-notes.txt\")\nmix = mixture(shapes(size=16), text(\"/tmp/tfs-notes.txt\"), weights=[3, 1])\nprint(mix)") { a in
            guard !a.rest.isEmpty else { throw a.error("datasets", "give at least one dataset") }
            let parts = try a.rest.enumerated().map { i, value -> any Dataset in
                guard case .object(let o) = value, let data = o as? TrainingData else {
                    throw a.error("datasets", "argument \(i + 1) must be a dataset, not '\(value.typeName)'")
                }
                return data.dataset
            }
            let weights = try a.has("weights") ? a.list("weights").map { w -> Double in
                guard let d = w.number else { throw a.error("weights", "must be numbers, found \(w.typeName)") }
                return d
            } : nil
            return .object(DatasetValue(try RuntimeError.located { try Mixture(parts, weights: weights) }))
        },
    ]

    /// The dataset of a `data` argument (`shapes(...)`, `images(...)`, `text(...)`, `mixture(...)`).
    static func dataset(_ a: Arguments, _ p: String) throws -> any Dataset {
        guard case .object(let o) = a[p], let data = o as? TrainingData else {
            throw a.error(p, "must be a dataset: shapes(...), images(...), text(...) or mixture(...)")
        }
        return data.dataset
    }
}
