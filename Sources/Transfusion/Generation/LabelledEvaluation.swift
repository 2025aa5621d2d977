import TensorGraph

/// A model judged on a captioned image folder whose captions are its classes (glyphs of a
/// letter, photos of a kind): images drawn from held-out captions are read back by a classifier
/// trained on the real data, and a caption written for a held-out image is right when it is that
/// image's caption (compared without case, surrounding spaces or a final full stop).
public struct LabelledEvaluation {
    /// The held-out examples judged: `count` of them spread evenly over the folder's order, so a
    /// folder written class by class gives every class its share.
    public let examples: [ImageTextDataset.Pair]
    public let batch: Int

    public init(_ folder: ImageTextDataset, count: Int, batch: Int = 50) throws {
        guard count >= 1, count <= folder.pairs.count else {
            throw TensorGraphError("\(folder.name) holds \(folder.pairs.count) images; cannot judge \(count)")
        }
        if let edit = folder.pairs.first(where: { $0.edited != nil }) {
            throw TensorGraphError("\(folder.name) holds edits (\(edit.source)); judge captioned images")
        }
        examples = (0..<count).map { folder.pairs[$0 * folder.pairs.count / count] }
        self.batch = batch
    }

    /// Draws an image per held-out caption and reads it back with `classifier` (a label
    /// classifier of the folder's captions): the share read as the caption asked, that share
    /// per class, and the images.
    public func images(_ generator: Generator, classifier: ImageClassifier) throws -> (share: Double, perClass: [(String, Double)], images: [[Float]]) {
        guard let labels = classifier.config.labels else {
            throw TensorGraphError("the classifier reads shapes attributes; judging a folder needs one trained on its captions")
        }
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        if let unknown = examples.first(where: { index[$0.caption] == nil }) {
            throw TensorGraphError("\(unknown.source) has the caption '\(unknown.caption)', which is none of the classifier's \(labels.count) classes")
        }
        let images = try batched(examples, batch) { try generator.images(for: $0.map(\.caption)) }
        let read = try classifier.predict(images).map { $0[0] }
        let right = zip(read, examples).map { $0 == index[$1.caption]! }
        return (Self.share(right), Self.perClass(right, examples.map(\.caption)), images)
    }

    /// Captions each held-out image: the share captioned right, that share per class, how many
    /// distinct captions were written (a model naming one class for every image writes one),
    /// CIDEr-D against each image's caption, and the captions.
    public func captions(_ generator: Generator) throws -> (share: Double, perClass: [(String, Double)], distinct: Int, cider: Double, captions: [String]) {
        let captions = try batched(examples, batch) { try generator.captions(for: $0.map(\.pixels)) }
        let right = zip(captions, examples).map { Self.normalized($0) == Self.normalized($1.caption) }
        let cider = try CIDEr.score(candidates: captions, references: examples.map { [$0.caption] }).mean
        return (Self.share(right), Self.perClass(right, examples.map(\.caption)), Set(captions.map(Self.normalized)).count, cider, captions)
    }

    /// A caption as compared: lowercased, without surrounding spaces or a final full stop, runs
    /// of spaces as one.
    static func normalized(_ caption: String) -> String {
        var s = caption.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
        while s.hasSuffix(".") { s.removeLast() }
        return s
    }

    static func share(_ right: [Bool]) -> Double { Double(right.filter { $0 }.count) / Double(max(right.count, 1)) }

    static func perClass(_ right: [Bool], _ classes: [String]) -> [(String, Double)] {
        Array(Set(classes)).sorted().map { c in (c, share(zip(right, classes).filter { $0.1 == c }.map(\.0))) }
    }
}
