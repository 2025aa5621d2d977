import Script
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
    static let type: ValueType = {
        let m = Members<ShapesValue>("shapes")
        return ValueType("shapes", help: "The procedural shapes dataset (shapes(...)): captioned images of coloured shapes, with their judge.", fields: [
            m.field("size", "The side of its images in pixels.") { .int($0.shapes.side) },
        ], methods: [
            m.take(example: "shapes(size=16).take(4)"),
            m.method("edits", "n=None, seed=0",
                     "Edit triples from these shapes (recolour, move, reshape, add, remove): a source image, an instruction and the edited image; n of them fixed by seed (the paper fine-tunes on 8000), or endless fresh ones. take(k) shows the edited images with their instructions.",
                     example: "shapes(size=16).edits(n=8000).take(4)") { data, a in
                let n = a.has("n") ? try a.size("n", atMost: 1 << 20) : nil
                return .object(DatasetValue(ShapesEdits(data.shapes, count: n, seed: UInt64(max(0, try a.int("seed"))))))
            },
            m.method("stories", "",
                     "Interleaved documents from these shapes: a caption, its image, \"then\" another caption and its image — they teach a model to write text after an image (mix them with the pairs).",
                     example: "shapes(size=16).stories().take(2)") { data, _ in
                .object(DatasetValue(ShapesStories(data.shapes)))
            },
        ])
    }()

    var description: String { shapes.description }
}
