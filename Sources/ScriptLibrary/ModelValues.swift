import Script
import Foundation
import TensorGraph
import Transfusion

/// A Transfusion model in the language: its configuration, its parameters (built and
/// initialised when the value is made) and its pieces, starting with the attention mask.
final class ModelValue: ScriptObject {
    let model: TransfusionModel
    let loss: LossWeights
    /// The VAE whose latents the model works in (nil: pixels).
    let vae: VAE?
    var mask: Mask { model.mask }
    /// The side of the pictures the model takes and draws (latents are smaller by the VAE's factor).
    var pixelSide: Int { model.config.imageSide * (vae?.config.factor ?? 1) }

    init(_ model: TransfusionModel, loss: LossWeights, vae: VAE? = nil) { self.model = model; self.loss = loss; self.vae = vae }

    static let type: ValueType = {
        let m = Members<ModelValue>("model")
        return ValueType("model", help: "A Transfusion (or Chameleon) model: its configuration, its weights and its pieces, starting with the attention mask.", fields: [
            m.field("mask_expression", "The mask it trains with on packed rows (its mask, within each example), as a mask value.") { .object(MaskValue($0.trainingMask)) },
            m.field("parameters", "Its weights by name (a per-layer summary when printed; .count is how many weights).") { .object(ParametersValue($0.model.parameters)) },
            m.field("dim", "The width of its hidden states.") { .int($0.model.config.dim) },
            m.field("layers", "How many transformer blocks.") { .int($0.model.config.layers) },
            m.field("heads", "How many attention heads.") { .int($0.model.config.heads) },
            m.field("tokenizer", "Its text tokenizer.") { .object(TokenizerValue($0.model.config.tokenizer)) },
        ], methods: [
            m.method("mask", "sample",
                     "The attention mask this model uses on a packed row (or a layout): its mask, within each example.",
                     example: "m = transfusion(dim=32, layers=1, heads=2, patch=4)\nm.mask(pack([[\"hi\", 4]], length=16)[0])") { model, a in
                let layout: SequenceLayout
                if case .object(let o) = a["sample"], let packed = o as? PackedValue { layout = packed.sequence.layout }
                else { layout = try MaskBuiltins.layout(a, "sample") }
                return .object(MaskViewValue(MaskMatrix(model.trainingMask, layout)))
            },
        ])
    }()

    var description: String {
        let c = model.config
        if let book = c.codebook {
            return "chameleon(dim=\(c.dim), layers=\(c.layers), heads=\(c.heads), image=\(c.imageSide), codebook=\(book.size) codes of \(book.patch)×\(book.patch) patches\(tokenizerText), mask=\(mask)) — \(model.parameters.count) parameters"
        }
        let latent = vae.map { "image=\(pixelSide), latent=\(c.imageSide)×\(c.imageSide)×\(c.channels) (VAE factor \($0.config.factor))" }
        let patch = c.patchSide.map { (latent ?? "image=\(c.imageSide)") + ", patch=\($0)" } ?? "patch_values=\(c.patchSize)"
        return "transfusion(dim=\(c.dim), layers=\(c.layers), heads=\(c.heads), \(patch), encoder=\"\(c.encoder.rawValue)\"\(tokenizerText), mask=\(mask), noise=\"\(c.schedule)\", predict=\"\(c.objective.rawValue)\", loss=\(loss)) — \(model.parameters.count) parameters"
    }
    /// `, tokenizer=bpe(vocab=N)` for a BPE model; nothing for bytes (the default).
    var tokenizerText: String {
        let t = model.config.tokenizer
        return t.merges.isEmpty ? "" : ", tokenizer=bpe(vocab=\(t.vocabularySize))"
    }
    /// Packed rows hold several examples: attention never crosses from one to another.
    var trainingMask: Mask { mask & .sameDocument }
}

enum ModelBuiltins {
    static let all: [Builtin] = [
        Builtin("transfusion", "dim=128, layers=4, heads=4, image=16, patch=4, encoder='linear', time_features=64, mask=None, loss=None, noise='cosine', predict='eps', latent=None, tokenizer=None, seed=0",
                help: "A Transfusion model: a Llama-style transformer (RMSNorm, SwiGLU, RoPE) over text tokens and the patch×patch RGB patches of image×image images, with the given attention mask (default causal | same_image), loss (default lm + 5 * diffusion), noise schedule ('cosine' or 'linear', optionally with T: 'linear(500)'; default T = 1000) and patch prediction ('eps', 'v' or 'flow' for flow matching). encoder='linear' embeds each patch with one matrix (the timestep embedding added first); encoder='unet' runs U-Net down blocks on each whole image before the transformer and up blocks after it (skip connections, timestep embedding inside each block, GroupNorm; patch 1, 2, 4 or 8, dim divisible by patch). Text is bytes unless tokenizer= gives a BPE vocabulary from bpe(...).",
                example: "model = transfusion(dim=64, layers=2, heads=2, image=16, patch=4)\nprint(model)") { a in
            let (dim, heads) = try ModelBuiltins.dimAndHeads(a)
            let vae = try latentVAE(a)
            var side = try a.size("image", atMost: maxWidth)
            let patch = try a.size("patch")
            if let vae {
                guard side % vae.config.factor == 0 else { throw a.error("latent", "the VAE shrinks images by \(vae.config.factor), which must divide the image side \(side)") }
                side /= vae.config.factor
            }
            guard side % patch == 0 else { throw a.error("patch", "must divide the \(vae == nil ? "image" : "latent") side \(side)") }
            guard let objective = DiffusionObjective(rawValue: try a.string("predict")) else {
                throw a.error("predict", "must be 'eps', 'v' or 'flow'")
            }
            guard let encoder = PatchEncoder(rawValue: try a.string("encoder")) else {
                throw a.error("encoder", "must be 'linear' or 'unet'")
            }
            let channels = vae?.config.channels ?? 3
            var config = ModelConfig(dim: dim, layers: try a.size("layers", atMost: maxLayers), heads: heads,
                                     patchSize: patch * patch * channels, timeFeatures: try a.size("time_features", atMost: maxWidth),
                                     imageSide: side, schedule: try schedule(a, "noise"), objective: objective, encoder: encoder)
            config.channels = channels; config.latent = vae != nil
            config.tokenizer = try TokenizerBuiltins.tokenizer(a)
            if encoder == .unet, let problem = TransfusionModel.unetProblem(config) { throw a.error("encoder", problem) }
            try checkParameters(config, a)
            let model = TransfusionModel(config, mask: try maskArgument(a) ?? .transfusion, seed: UInt64(max(0, try a.int("seed"))))
            return .object(ModelValue(model, loss: try lossArgument(a), vae: vae))
        },
        Builtin("load_model", "path, mask=None, loss=None, latent=None",
                help: "The model saved in a checkpoint (written by train(..., checkpoint=...)): its config and weights, with the mask the checkpoint names unless mask= is given.",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nrun = train(m, shapes(size=16), steps=1, batch=2, checkpoint=\"/tmp/tfs-tiny.safetensors\")\nprint(load_model(\"/tmp/tfs-tiny.safetensors\"))") { a in
            let path = try a.path("path")
            var mask = try maskArgument(a) ?? .transfusion
            if !a.has("mask"), let saved = try RuntimeError.located({ try Safetensors.read(path: path).metadata["mask"] }) {
                mask = try savedMask(saved, a)
            }
            let loss = try lossArgument(a)
            let model = try RuntimeError.located { try TransfusionModel.load(path, mask: mask) }
            let vae = try latentVAE(a)
            guard model.config.latent == (vae != nil) else {
                throw a.error("latent", model.config.latent ? "this model works in VAE latents: give latent=load_vae(...)" : "this model works in pixels; it takes no VAE")
            }
            return .object(ModelValue(model, loss: loss, vae: vae))
        },
    ]
}

extension ModelBuiltins {
    /// The most blocks, and the widest dim, time features or image side, a model may have.
    static let maxLayers = 1024, maxWidth = 1 << 16

    /// Refuses a model whose weights alone would not fit in memory, before any is allocated
    /// (a count in floating point: each block's attention and SwiGLU, the embeddings and heads).
    static func checkParameters(_ c: ModelConfig, _ a: Arguments) throws {
        let d = Double(c.dim)
        let count = Double(c.layers) * (4 * d * d + 3 * d * Double(c.hidden))
            + d * (2 * Double(c.vocabulary) + 2 * Double(c.patchSize) + Double(c.timeFeatures))
        try a.fits(values: count < 1e18 ? Int(count) : nil, "dim", "a model of \(String(format: "%.3g", count)) parameters")
    }

    /// `dim=` and `heads=`: the width must split into heads of an even size (RoPE rotates pairs).
    static func dimAndHeads(_ a: Arguments) throws -> (dim: Int, heads: Int) {
        let dim = try a.size("dim", atMost: maxWidth), heads = try a.size("heads")
        guard dim % heads == 0, (dim / heads) % 2 == 0 else {
            throw a.error("heads", "dim \(dim) must split into \(heads) heads of an even size")
        }
        return (dim, heads)
    }

    /// The mask of `mask=`, if given.
    static func maskArgument(_ a: Arguments) throws -> Mask? {
        guard a.has("mask") else { return nil }
        guard case .object(let o) = a["mask"], let m = o as? MaskValue else { throw a.error("mask", "must be a mask, e.g. causal | same_image") }
        return m.mask
    }

    /// The loss weights of `loss=` (default lm + 5 * diffusion).
    static func lossArgument(_ a: Arguments) throws -> LossWeights {
        guard a.has("loss") else { return LossWeights() }
        guard case .object(let o) = a["loss"], let l = o as? LossValue else { throw a.error("loss", "must combine lm and diffusion, e.g. lm + 5 * diffusion") }
        return l.weights
    }

    /// The VAE of `latent=`, if given.
    static func latentVAE(_ a: Arguments) throws -> VAE? {
        guard a.has("latent") else { return nil }
        guard case .object(let o) = a["latent"], let v = o as? VAEValue else { throw a.error("latent", "must be a VAE from vae(...) or load_vae(...)") }
        return v.vae
    }

    /// The mask a checkpoint's metadata holds (JSON, or text in older checkpoints), read by
    /// Transfusion without the language: the text is untrusted and is never evaluated.
    static func savedMask(_ text: String, _ a: Arguments) throws -> Mask {
        do { return try Mask(saved: text) } catch let e as TensorGraphError {
            throw a.error("path", "names a mask that does not read back: \(e.message)")
        }
    }

    /// A noise schedule written as 'cosine', 'linear', or with its step count: 'cosine(500)'.
    static func schedule(_ a: Arguments, _ p: String) throws -> NoiseSchedule {
        let text = try a.string(p).replacingOccurrences(of: " ", with: "")
        let parts = text.split(whereSeparator: { $0 == "(" || $0 == ")" }).map(String.init)
        let steps = parts.count > 1 ? Int(parts[1]) : 1000
        guard let steps, steps >= 2, parts.count <= 2 else { throw a.error(p, "must be 'cosine' or 'linear', optionally with a step count: 'cosine(1000)'") }
        switch parts.first {
        case "cosine": return .cosine(steps: steps)
        case "linear": return .linear(steps: steps)
        default: throw a.error(p, "must be 'cosine' or 'linear', optionally with a step count: 'cosine(1000)'")
        }
    }
}
