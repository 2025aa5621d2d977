import TensorGraph
import Transfusion

/// The `shapes` dataset in the language: `take(n)` draws examples to look at; `train` draws
/// its own with the run's seed.
final class ShapesValue: TrainingData {
    let shapes: Shapes
    var rng: RNG
    var two: Bool { shapes.two }

    init(side: Int, seed: UInt64, two: Bool) { shapes = Shapes(side: side, two: two); rng = RNG(seed: seed) }

    var dataset: any Dataset { shapes }
    var typeName: String { "dataset" }
    var description: String { shapes.description }
    var memberNames: [String] { ["take", "size", "edits", "stories"] }

    func member(_ name: String) throws -> Value? {
        switch name {
        case "size": return .int(shapes.side)
        case "take": return .builtin(takeMethod(example: "shapes(size=16).take(4)"))
        case "edits":
            return .builtin(Builtin("edits", "n=None, seed=0",
                                    help: "Edit triples from these shapes (recolour, move, reshape, add, remove): a source image, an instruction and the edited image; n of them fixed by seed (the paper fine-tunes on 8000), or endless fresh ones. take(k) shows the edited images with their instructions.",
                                    example: "shapes(size=16).edits(n=8000).take(4)") { a in
                let n = a.has("n") ? try a.size("n", atMost: 1 << 20) : nil
                return .object(DatasetValue(ShapesEdits(self.shapes, count: n, seed: UInt64(max(0, try a.int("seed"))))))
            })
        case "stories":
            return .builtin(Builtin("stories", "", help: "Interleaved documents from these shapes: a caption, its image, \"then\" another caption and its image — they teach a model to write text after an image (mix them with the pairs).",
                                    example: "shapes(size=16).stories().take(2)") { _ in
                .object(DatasetValue(ShapesStories(self.shapes)))
            })
        default: return nil
        }
    }
}
