import TensorGraph
import Transfusion
import Visual

/// The `shapes` dataset in the language: `take(n)` draws examples, `judge(image, caption)`
/// scores an image against a caption's objects.
final class ShapesValue: ScriptObject {
    let shapes: Shapes
    var rng: RNG
    let two: Bool

    init(side: Int, seed: UInt64, two: Bool) { shapes = Shapes(side: side); rng = RNG(seed: seed); self.two = two }

    var typeName: String { "dataset" }
    var description: String { "shapes(size=\(shapes.side)\(two ? ", two=True" : ""))" }
    var memberNames: [String] { ["take", "size"] }

    func member(_ name: String) throws -> Value? {
        switch name {
        case "size": return .int(shapes.side)
        case "take":
            return .builtin(Builtin("take", "n", help: "The next n examples (each with .caption and .image).",
                                    example: "shapes(size=16).take(4)") { a in
                let n = try MaskBuiltins.positive(a, "n")
                let examples = (0..<n).map { _ in self.shapes.sample(&self.rng, two: self.two) }
                return .object(ExamplesValue(examples, side: self.shapes.side))
            })
        default: return nil
        }
    }
}

/// Examples of `shapes`: shown as a grid of images with their captions.
final class ExamplesValue: ScriptObject {
    let examples: [Shapes.Example]
    let side: Int
    init(_ examples: [Shapes.Example], side: Int) { self.examples = examples; self.side = side }

    var typeName: String { "examples" }
    var description: String { examples.enumerated().map { "\($0.offset): \($0.element.caption)" }.joined(separator: "\n") }
    var memberNames: [String] { ["captions", "images", "count"] }

    func member(_ name: String) throws -> Value? {
        switch name {
        case "captions": return .list(ListRef(examples.map { .string($0.caption) }))
        case "count": return .int(examples.count)
        case "images":
            return .tensor(.constant(TensorData(shape: [examples.count, side, side, 3], values: examples.flatMap(\.pixels))))
        default: return nil
        }
    }

    func output() throws -> Output? {
        .png(ImageGrid.png(examples.map(\.pixels), side: side), caption: examples.map(\.caption).joined(separator: " · "))
    }
}
