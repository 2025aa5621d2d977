import TensorGraph

/// Interleaved documents drawn from `shapes`: text, an image, more text, another image —
/// "a small red circle on the left" [image] "then a large blue square at the top" [image].
/// They teach a model to go back to text after an image, which captioned pairs never show.
public struct ShapesStories: Dataset {
    public let shapes: Shapes
    public init(_ shapes: Shapes) { self.shapes = shapes }

    public var imageSide: Int? { shapes.side }
    public var imagesPerItem: Int { 2 }
    public var count: Int? { nil }
    public var description: String { "\(shapes).stories()" }

    public func draw(_ rng: inout RNG) -> DatasetItem {
        let first = shapes.sample(&rng), second = shapes.sample(&rng)
        return .document([.text(first.caption), .image(first.pixels), .text("then " + second.caption), .image(second.pixels)])
    }

    public func fitted(length: Int, patches: Int) throws -> any Dataset {
        // BOS, two captions ("then " before the second), two images with BOI and EOI, EOS.
        let needed = 2 * shapes.longestCaption + 5 + 2 * (patches + 2) + 2
        guard needed <= length else {
            throw TensorGraphError("a shapes story needs up to \(needed) positions (two captions and two images of \(patches) patches), more than the sequence length \(length); raise length=")
        }
        return self
    }

    /// Fresh draws are already unseen examples.
    public func split(heldOut fraction: Double, seed: UInt64) throws -> (train: any Dataset, heldOut: any Dataset) { (self, self) }
}
