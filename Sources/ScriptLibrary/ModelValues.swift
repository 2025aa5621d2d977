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
    /// The values per pixel of the pictures it draws: 1 for a gray pixel model, else 3.
    var pixelChannels: Int {
        if let vae { return vae.config.imageChannels == 1 ? 1 : 3 }
        return model.config.codebook == nil && model.config.channels == 1 ? 1 : 3
    }

    init(_ model: TransfusionModel, loss: LossWeights, vae: VAE? = nil) { self.model = model; self.loss = loss; self.vae = vae }

    static let type: ValueType = {
        let m = Members<ModelValue>("model")
        return ValueType("model", help: "A Transfusion (or Chameleon) model: its configuration, its weights and its pieces, starting with the attention mask.", fields: [
            m.field("mask_expression", "The mask it trains with on packed rows (its mask, within each example), as a mask value.") { .object(MaskValue($0.trainingMask)) },
            m.field("parameters", "Its weights by name (a per-layer summary when printed; .count is how many weights).") { .object(ParametersValue($0.model.parameters)) },
            m.field("dim", "The width of its hidden states.") { .int($0.model.config.dim) },
            m.field("layers", "How many transformer blocks.") { .int($0.model.config.layers) },
            m.field("heads", "How many attention heads.") { .int($0.model.config.heads) },
            m.field("channels", "The values per pixel it draws: 3 (RGB) or 1 (gray); a latent model's latent channels.") { .int($0.model.config.channels) },
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
        let gray = !c.latent && c.channels == 1 ? ", channels=1" : ""
        let patch = c.patchSide.map { (latent ?? "image=\(c.imageSide)") + gray + ", patch=\($0)" } ?? "patch_values=\(c.patchSize)"
        return "transfusion(dim=\(c.dim), layers=\(c.layers), heads=\(c.heads), \(patch), \(encoderText)\(tokenizerText), mask=\(mask), noise=\"\(c.schedule)\", predict=\"\(c.objective.rawValue)\", loss=\(loss)) — \(model.parameters.count) parameters"
    }
    /// `encoder="linear"`, or the script pieces' names: `encoder=my_encoder, decoder=my_decoder`.
    var encoderText: String {
        let names = model.pieces.names
        return ModelPieces.slots.compactMap { slot in
            if let name = names[slot] { return "\(slot)=\(name)" }
            return slot == "encoder" ? "encoder=\"\(model.config.encoder.rawValue)\"" : nil
        }.joined(separator: ", ")
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
        Builtin("transfusion", "dim=128, layers=4, heads=4, image=16, patch=4, encoder='linear', decoder=None, norm=None, mlp=None, rope=None, time_features=64, mask=None, loss=None, noise='cosine', predict='eps', latent=None, tokenizer=None, channels=3, seed=0",
                help: "A Transfusion model: a Llama-style transformer (RMSNorm, SwiGLU, RoPE) over text tokens and the patch×patch RGB patches of image×image images (gray with channels=1: each pixel one value, the mean of its three, and the images it draws gray), with the given attention mask (default causal | same_image), loss (default lm + 5 * diffusion), noise schedule ('cosine' or 'linear', optionally with T: 'linear(500)'; default T = 1000; or a function of t in (0, 1] giving ᾱ, the signal left, tabulated once over T = 1000 steps) and patch prediction ('eps', 'v' or 'flow' for flow matching). encoder='linear' embeds each patch with one matrix (the timestep embedding added first); encoder='unet' runs U-Net down blocks on each whole image before the transformer and up blocks after it (skip connections, timestep embedding scaling and shifting each block's second GroupNorm; patch 1, 2, 4 or 8, dim divisible by patch). Text is bytes unless tokenizer= gives a BPE vocabulary from bpe(...). encoder= and decoder= also take script functions f(x, time) (see Writing pieces in the guide): the encoder maps noisy patches [b, t, patch values] to [b, t, dim], the decoder final hidden states [b, t, dim] to the prediction [b, t, patch values]; time is the timestep embedding [b, t, dim]; param(...) inside them makes the model's weights (encoder.NAME). norm= and mlp= take functions f(x, time) on [b, t, dim] that replace every RMSNorm and each block's SwiGLU MLP (weights block0.mlp.NAME, block0.attn_norm.NAME, final_norm.NAME). rope= takes a function f(pos) giving each position's RoPE angles [n, head_dim / 2] (e.g. 2-D RoPE for patches from pos.row and pos.col), evaluated once per layout.",
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
            var pieces = ModelPieces()
            pieces.encoder = try Pieces.piece(a, "encoder")
            pieces.decoder = try Pieces.piece(a, "decoder")
            pieces.norm = try Pieces.piece(a, "norm")
            pieces.mlp = try Pieces.piece(a, "mlp")
            pieces.rope = RotaryPieces.piece(a, "rope", pairs: dim / heads / 2)
            for slot in ["decoder", "norm", "mlp", "rope"] where a.has(slot) && pieces[slot] == nil && (slot != "rope" || pieces.rope == nil) {
                throw a.error(slot, "must be a function f(x, time)")
            }
            guard let encoder = pieces.encoder != nil ? .linear : PatchEncoder(rawValue: try a.string("encoder")) else {
                throw a.error("encoder", "must be 'linear', 'unet' or a function f(patches, time)")
            }
            if encoder == .unet && pieces.decoder != nil { throw a.error("decoder", "a U-Net model decodes with its up path; a script decoder needs encoder='linear' or a script encoder") }
            let pixelChannels = try a.int("channels")
            guard pixelChannels == 1 || pixelChannels == 3 else { throw a.error("channels", "must be 1 (gray) or 3 (RGB), got \(pixelChannels)") }
            if vae != nil && pixelChannels != 3 { throw a.error("channels", "a latent model's channels are its VAE's latent channels; give the VAE gray images instead") }
            let channels = vae?.config.channels ?? pixelChannels
            var config = ModelConfig(dim: dim, layers: try a.size("layers", atMost: maxLayers), heads: heads,
                                     patchSize: patch * patch * channels, timeFeatures: try a.size("time_features", atMost: maxWidth),
                                     imageSide: side, schedule: try schedule(a, "noise"), objective: objective, encoder: encoder)
            config.channels = channels; config.latent = vae != nil
            config.tokenizer = try TokenizerBuiltins.tokenizer(a)
            if encoder == .unet, let problem = TransfusionModel.unetProblem(config) { throw a.error("encoder", problem) }
            try checkParameters(config, a)
            let mask = try maskArgument(a) ?? .transfusion, seed = UInt64(max(0, try a.int("seed")))
            let model = try RuntimeError.located { try TransfusionModel(config, mask: mask, seed: seed, pieces: pieces) }
            return .object(ModelValue(model, loss: try lossArgument(a), vae: vae))
        },
        Builtin("load_model", "path, mask=None, loss=None, latent=None, pieces=None",
                help: "The model saved in a checkpoint (written by train(..., checkpoint=...)): its config and weights, with the mask the checkpoint names unless mask= is given. A model with script pieces needs their functions: the session's functions of the names the checkpoint saved, or pieces={\"encoder\": f, \"decoder\": g}.",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nrun = train(m, shapes(size=16), steps=1, batch=2, checkpoint=\"/tmp/tfs-tiny.safetensors\")\nprint(load_model(\"/tmp/tfs-tiny.safetensors\"))") { a in
            let path = try a.path("path")
            var mask = try maskArgument(a) ?? .transfusion
            if !a.has("mask"), let saved = try RuntimeError.located({ try Safetensors.read(path: path).metadata["mask"] }) {
                mask = try savedMask(saved, a)
            }
            let loss = try lossArgument(a)
            let names = try RuntimeError.located { try TransfusionModel.savedPieceNames(path) }
            let config = try RuntimeError.located { try TransfusionModel.savedConfig(path) }
            let pieces = try Pieces.saved(names, pairs: config.map { $0.dim / $0.heads / 2 } ?? 1, a)
            let model = try RuntimeError.located { try TransfusionModel.load(path, mask: mask, pieces: pieces) }
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
        if let predicate = MaskPredicates.mask(a, "mask") { return predicate }
        guard case .object(let o) = a["mask"], let m = o as? MaskValue else { throw a.error("mask", "must be a mask, e.g. causal | same_image, or a function f(q, k)") }
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
        let predicates: (String) throws -> MaskPredicate = { name in
            guard case .function(let f)? = a.interpreter.global(name) else {
                throw TensorGraphError("the mask uses the script function '\(name)': define it before loading (or give mask=)")
            }
            return MaskPredicates.predicate(f, a.interpreter, span: a.span)
        }
        do { return try Mask(saved: text, predicates: predicates) } catch let e as TensorGraphError {
            throw a.error("path", "names a mask that does not read back: \(e.message)")
        }
    }

    /// A noise schedule written as a function of t in (0, 1] (t = step / T, T = 1000) giving ᾱ,
    /// the share of signal left: called once with all T steps as one tensor, and kept as a table.
    static func tabulated(_ f: Function, _ a: Arguments, _ p: String) throws -> NoiseSchedule {
        let steps = 1000
        let t = Tensor.constant(TensorData(shape: [steps], values: (1...steps).map { Float($0) / Float(steps) }))
        let out = try a.interpreter.call(.function(f), CallArguments(positional: [.tensor(t)], span: a.span))
        guard case .tensor(let x) = out else { throw a.error(p, "'\(f.name)' must return a tensor of ᾱ for each t, not '\(out.typeName)'") }
        let values = try RuntimeError.located { try x.realize() }
        guard values.count == steps else { throw a.error(p, "'\(f.name)' returns \(Shape.describe(values.shape)) for t of shape [\(steps)]") }
        let schedule = NoiseSchedule.table(name: f.name, alphaBars: values.values.map(Double.init))
        if let problem = schedule.problem { throw a.error(p, "'\(f.name)': \(problem)") }
        return schedule
    }

    /// A noise schedule written as 'cosine', 'linear', or with its step count: 'cosine(500)'.
    static func schedule(_ a: Arguments, _ p: String) throws -> NoiseSchedule {
        if case .function(let f) = a[p] { return try tabulated(f, a, p) }
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
