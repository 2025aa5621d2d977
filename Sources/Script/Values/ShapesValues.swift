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
    var memberNames: [String] { ["take", "size"] }

    func member(_ name: String) throws -> Value? {
        switch name {
        case "size": return .int(shapes.side)
        case "take": return .builtin(takeMethod(example: "shapes(size=16).take(4)"))
        default: return nil
        }
    }
}
