import TensorGraph
import Transfusion

/// A Transfusion model in the language: its configuration, its parameters (built and
/// initialised when the value is made) and its pieces, starting with the attention mask.
final class ModelValue: ScriptObject {
    let model: TransfusionModel
    let mask: Mask
    let loss: LossWeights

    init(_ model: TransfusionModel, mask: Mask, loss: LossWeights) { self.model = model; self.mask = mask; self.loss = loss }

    var typeName: String { "model" }
    var description: String {
        let c = model.config
        return "transfusion(dim=\(c.dim), layers=\(c.layers), heads=\(c.heads), patch=\(c.patchSize), mask=\(mask), loss=\(loss)) — \(model.parameters.count) parameters"
    }
    var memberNames: [String] { ["mask", "mask_expression", "parameters", "dim", "layers", "heads"] }

    func member(_ name: String) throws -> Value? {
        let c = model.config
        switch name {
        case "mask":
            return .builtin(Builtin("mask", "sample",
                                    help: "The attention mask this model uses on a packed row (or a layout): its mask, within each example.",
                                    example: "m = transfusion(dim=32, layers=1, heads=2, patch=4)\nm.mask(pack([[\"hi\", 4]], length=16)[0])") { a in
                let layout: SequenceLayout
                if case .object(let o) = a["sample"], let packed = o as? PackedValue { layout = packed.sequence.layout }
                else { layout = try MaskBuiltins.layout(a, "sample") }
                return .object(MaskViewValue(MaskMatrix(self.trainingMask, layout)))
            })
        case "mask_expression": return .object(MaskValue(trainingMask))
        case "parameters": return .int(model.parameters.count)
        case "dim": return .int(c.dim)
        case "layers": return .int(c.layers)
        case "heads": return .int(c.heads)
        default: return nil
        }
    }

    /// Packed rows hold several examples: attention never crosses from one to another.
    var trainingMask: Mask { mask & .sameDocument }
}

enum ModelBuiltins {
    static let all: [Builtin] = [
        Builtin("transfusion", "dim=128, layers=4, heads=4, patch=48, time_features=64, mask=None, loss=None, seed=0",
                help: "A Transfusion model: a Llama-style transformer (RMSNorm, SwiGLU, RoPE) over text tokens and image patches of `patch` values, with the given attention mask (default causal | same_image) and loss (default lm + 5 * diffusion).",
                example: "model = transfusion(dim=64, layers=2, heads=2, patch=12)\nprint(model)") { a in
            let dim = try MaskBuiltins.positive(a, "dim"), heads = try MaskBuiltins.positive(a, "heads")
            guard dim % heads == 0, (dim / heads) % 2 == 0 else {
                throw a.error("heads", "dim \(dim) must split into \(heads) heads of an even size")
            }
            let config = ModelConfig(dim: dim, layers: try MaskBuiltins.positive(a, "layers"), heads: heads,
                                     patchSize: try MaskBuiltins.positive(a, "patch"),
                                     timeFeatures: try MaskBuiltins.positive(a, "time_features"))
            var mask = Mask.transfusion
            if a.has("mask") {
                guard case .object(let o) = a["mask"], let m = o as? MaskValue else { throw a.error("mask", "must be a mask, e.g. causal | same_image") }
                mask = m.mask
            }
            var loss = LossWeights()
            if a.has("loss") {
                guard case .object(let o) = a["loss"], let l = o as? LossValue else { throw a.error("loss", "must combine lm and diffusion, e.g. lm + 5 * diffusion") }
                loss = l.weights
            }
            return .object(ModelValue(TransfusionModel(config, seed: UInt64(max(0, try a.int("seed")))), mask: mask, loss: loss))
        },
    ]
}
