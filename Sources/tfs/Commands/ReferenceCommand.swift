import ArgumentParser
import Foundation
import TensorGraph
import Transfusion

/// `tfs reference step …` (hidden): the numbers the PyTorch bridge (`python/tfs_torch`) is
/// pinned to. It draws random examples (text, caption → image, image → caption with its step
/// capped, an edit's clean source before its target), packs them several to a row, feeds them
/// through tfs's `BatchFeeder`, runs the model's losses and gradients and one AdamW step, and
/// writes everything — the examples, the packed rows, each image's drawn step and noise, the
/// feeder's inputs, the outputs, the gradients and the weights after the step — to one
/// safetensors file for the Python tests to recompute on their own.
struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Reference numbers for the PyTorch bridge's tests (writes a safetensors file).",
        shouldDisplay: false)

    @Option(help: "A model config as JSON (ModelConfig); the model is made with --seed.") var config: String?
    @Option(help: "Load this checkpoint instead of making a model from --config.") var load: String?
    @Option(help: "The model's mask as JSON (default: the checkpoint's, else causal | same_image).") var mask: String?
    @Option(help: "Seed of the model's weights.") var seed: UInt64 = 0
    @Option(help: "Seed of the examples and the feeder's draws.") var dataSeed: UInt64 = 1
    @Option(help: "Examples to draw.") var examples = 6
    @Option(help: "Positions per packed row.") var length = 64
    @Option(help: "Cap on the step of an image before its caption.") var cap = 500
    @Option(help: "Loss weight of the LM loss.") var lm: Float = 1
    @Option(help: "Loss weight of the diffusion loss.") var diffusion: Float = 5
    @Option(help: "AdamW's learning rate for the one step.") var lr: Float = 1e-3
    @Option(help: "AdamW's gradient clip (0: none).") var clip: Float = 1
    @Option(help: "Also write the model as a checkpoint here.") var checkpoint: String?
    @Option(name: .shortAndLong, help: "The safetensors file of reference numbers.") var output: String
    @Option(help: "Also draw an image for each of these captions (a JSON list), then caption the drawn images.") var draw: String?
    @Option(help: "The sampler of --draw: ddpm, ddim, euler or midpoint.") var sampler = "ddim"
    @Option(help: "Denoising steps of --draw.") var samplerSteps = 10
    @Option(help: "DDIM's eta.") var eta: Double = 0
    @Option(help: "Classifier-free guidance scale of --draw.") var cfg: Double = 1
    @Option(help: "Seed of --draw's generator.") var drawSeed: UInt64 = 0
    @Flag(help: "Draw without the KV cache (every step recomputes whole rows).") var uncached = false

    func run() throws {
        let model = try makeModel()
        if let checkpoint { try model.saveCheckpoint(to: checkpoint) }
        // Drawn first: the AdamW step below changes the weights.
        var sampled: [(String, TensorData)] = [], metadata: [String: String] = [:]
        if let draw { try drawReference(model, captions: draw, into: &sampled, metadata: &metadata) }
        var rng = RNG(seed: dataSeed)
        let drawn = try ReferenceExamples.draw(examples, config: model.config, length: length, cap: cap, rng: &rng)
        let rows = try Packer(length: length, tokenizer: model.config.tokenizer).pack(drawn.segments)
        var images: [[[Float]]] = [], limits: [[Int]] = [], order: [Int] = []
        for row in rows {
            let ids = row.images.map { drawn.imageIndex[$0.example][$0.image] }
            order += ids
            images.append(ids.map { drawn.patches[$0] }); limits.append(ids.map { drawn.limits[$0] })
        }
        let c = model.config
        let inputs = try BatchInputs(batch: rows.count, length: length, imageSlots: max(1, order.count), config: c)
        let feeder = BatchFeeder(model: model)
        // The feeder's draws, replayed from a copy of its generator: each image's step and noise.
        var replay = rng
        var steps: [Float] = [], noise: [Float] = []
        for (r, row) in images.enumerated() {
            for (i, image) in row.enumerated() {
                let limit = limits[r][i], T = model.process.steps
                steps.append(Float(limit < T ? replay.int(limit + 1) : 1 + replay.int(T)))
                noise += replay.normal(image.count)
            }
        }
        let feeds = try feeder.values(rows, images: images, inputs: inputs, stepLimits: limits, rng: &rng)

        let losses = try model.losses(inputs, weights: LossWeights(lm: lm, diffusion: diffusion))
        let f = try model.forward(inputs)
        let logits = try model.tokenLogits(f.hidden), prediction = try model.patchPrediction(f, inputs)
        let params = model.parameters.all
        let grads = try losses.total.gradients(wrt: params)
        let plan = try Plan([losses.total.node, losses.lm.node, losses.diffusion.node, logits.node, prediction.node] + grads.map(\.node))
        for (node, value) in feeds where plan.buffer(node) != nil { try plan.set(node, value) }
        try plan.run()

        var out = sampled
        let named: [(String, Tensor?)] = [
            ("tokens", inputs.tokens), ("targets", inputs.targets), ("patches", inputs.patches), ("noise", inputs.noise),
            ("is_patch", inputs.isPatch), ("diffusion_mask", inputs.learned), ("time", inputs.time), ("rope_cos", inputs.cos),
            ("rope_sin", inputs.sin), ("mask", inputs.mask), ("image_positions", inputs.imagePositions), ("patch_sources", inputs.patchSources),
        ]
        for (name, tensor) in named { if let tensor, let value = feeds[tensor.node] { out.append(("feed." + name, value)) } }
        func ints(_ values: [Int], _ shape: [Int]) -> TensorData { TensorData(shape: shape, values: values.map(Float.init)) }
        let (b, t) = (rows.count, length)
        out.append(("row.tokens", ints(rows.flatMap(\.tokens), [b, t])))
        out.append(("row.targets", ints(rows.flatMap { $0.lmTarget.map { $0 ?? -1 } }, [b, t])))
        out.append(("row.positions", ints(rows.flatMap(\.positions), [b, t])))
        out.append(("row.kind", ints(rows.flatMap { r in (0..<t).map { TokenKind.allCases.firstIndex(of: r.layout[$0].kind)! } }, [b, t])))
        out.append(("row.image", ints(rows.flatMap { r in (0..<t).map { r.layout[$0].image ?? -1 } }, [b, t])))
        out.append(("row.document", ints(rows.flatMap { r in (0..<t).map { r.layout[$0].document } }, [b, t])))
        if !order.isEmpty {
            let values = c.patchSize * (c.patchesPerImage ?? 0)
            out.append(("image.order", ints(order, [order.count])))
            out.append(("image.step", TensorData(shape: [order.count], values: steps)))
            out.append(("image.noise", TensorData(shape: [order.count, values], values: noise)))
        }
        if !drawn.patches.isEmpty {
            out.append(("image.clean", TensorData(shape: [drawn.patches.count, drawn.patches[0].count], values: drawn.patches.flatMap { $0 })))
            out.append(("image.limit", ints(drawn.limits.map { min($0, 1 << 24) }, [drawn.limits.count])))
        }
        let alphaBars = c.objective == .flow ? [] : c.schedule.alphaBars.map(Float.init)
        if !alphaBars.isEmpty { out.append(("schedule.alpha_bar", TensorData(shape: [alphaBars.count], values: alphaBars))) }
        for (i, name) in ["loss", "lm", "diffusion"].enumerated() { out.append(("out." + name, plan.output(i))) }
        out.append(("out.logits", plan.output(3))); out.append(("out.patches", plan.output(4)))
        for (i, name) in model.parameters.names.enumerated() {
            out.append(("weight." + name, params[i].node.storage!.data))
            out.append(("grad." + name, plan.output(5 + i)))
        }
        let optimizer = AdamW(params.map { $0.node.storage! }, clip: clip > 0 ? clip : nil)
        let norm = optimizer.step((0..<params.count).map { plan.outputBuffer(5 + $0) }, lr: lr)
        out.append(("adamw.norm", TensorData(shape: [], values: [norm])))
        for (i, name) in model.parameters.names.enumerated() {
            out.append(("adamw.weight." + name, params[i].node.storage!.data))
            out.append(("adamw.m." + name, optimizer.m[i].data)); out.append(("adamw.v." + name, optimizer.v[i].data))
        }
        let examplesJSON = String(decoding: try JSONSerialization.data(withJSONObject: drawn.json), as: UTF8.self)
        try Safetensors.write(out, metadata: [
            "config": String(decoding: try JSONEncoder().encode(c), as: UTF8.self), "mask": model.mask.json,
            "examples": examplesJSON, "kinds": TokenKind.allCases.map(\.rawValue).joined(separator: ","),
        ].merging(metadata) { a, _ in a }, to: output)
    }

    /// Images drawn for captions (with the generator's starting noise, replayed from its seed:
    /// the prompts all end in BOI, so its first draw is every image's noise), then greedy
    /// captions of the drawn images.
    func drawReference(_ model: TransfusionModel, captions json: String, into out: inout [(String, TensorData)],
                       metadata: inout [String: String]) throws {
        let captions = try JSONDecoder().decode([String].self, from: Data(json.utf8))
        var options = GenerationOptions()
        options.seed = drawSeed; options.cfg = cfg; options.maxTokens = 12; options.cached = !uncached
        switch sampler {
        case "ddpm": options.sampler = .ddpm(steps: samplerSteps)
        case "ddim": options.sampler = .ddim(steps: samplerSteps, eta: eta)
        case "euler": options.sampler = .euler(steps: samplerSteps)
        case "midpoint": options.sampler = .midpoint(steps: samplerSteps)
        default: throw ValidationError("--sampler must be ddpm, ddim, euler or midpoint")
        }
        let c = model.config, size = c.patchSize * (c.patchesPerImage ?? 0)
        let images = try Generator(model: model, options: options).images(for: captions)
        var rng = RNG(seed: drawSeed)
        out.append(("draw.noise", TensorData(shape: [captions.count, size], values: rng.normal(captions.count * size))))
        out.append(("draw.pixels", TensorData(shape: [captions.count, c.imageSide, c.imageSide, c.channels], values: images.flatMap { $0 })))
        var greedy = GenerationOptions()
        greedy.maxTokens = 12; greedy.cfg = cfg
        let written = try Generator(model: model, options: greedy).captions(for: images)
        metadata["draw.captions"] = String(decoding: try JSONEncoder().encode(written), as: UTF8.self)
    }

    func makeModel() throws -> TransfusionModel {
        let mask = try self.mask.map { try Mask(json: $0) }
        if let load {
            return try TransfusionModel.load(load, mask: mask ?? TransfusionModel.savedMask(load) ?? .transfusion)
        }
        guard let config else { throw ValidationError("give --config or --load") }
        let c = try JSONDecoder().decode(ModelConfig.self, from: Data(config.utf8))
        if let problem = c.problem { throw ValidationError(problem) }
        return TransfusionModel(c, mask: mask ?? .transfusion, seed: seed)
    }
}

/// Random training examples over a model's images: what `tfs reference` packs.
struct ReferenceExamples {
    var segments: [[Segment]] = []
    /// Per example, per image in it: the index of its patches in `patches`.
    var imageIndex: [[Int]] = []
    var patches: [[Float]] = [], limits: [Int] = []
    var json: [[[String: Any]]] = []

    static func draw(_ count: Int, config c: ModelConfig, length: Int, cap: Int, rng: inout RNG) throws -> ReferenceExamples {
        let words = ["a", "red", "blue", "circle", "square", "on", "the", "left", "right", "big", "é"]
        func caption(_ rng: inout RNG) -> String { (0..<rng.int(4)).map { _ in words[rng.int(words.count)] }.joined(separator: " ") }
        guard length >= 43 else { throw ValidationError("--length must be at least 43 (two captions, BOS and EOS)") }
        var out = ReferenceExamples()
        let k = c.patchesPerImage ?? 0, values = k * c.patchSize
        for _ in 0..<count {
            var segments: [Segment] = [], ids: [Int] = [], json: [[String: Any]] = []
            func text(_ s: String) { segments.append(.text(s)); json.append(["text": s]) }
            func image(_ limit: Int, _ rng: inout RNG) {
                // Pixels scaled to [-1, 1] as the patchifier does; latents are unscaled normals.
                let v = c.latent ? rng.normal(values) : rng.uniform(values).map { $0 * 2 - 1 }
                ids.append(out.patches.count); out.patches.append(v); out.limits.append(limit)
                json.append(["image": out.patches.count - 1]); segments.append(.image(patches: k))
            }
            // A caption is at most 20 bytes (3 words of at most 6, 2 spaces); BOS and EOS take 2.
            let one = 22 + k + 2, two = one + k + 2
            switch k == 0 || length < one ? 0 : rng.int(length >= two ? 4 : 3) {
            case 0: text(caption(&rng) + " " + caption(&rng))
            case 1: text(caption(&rng)); image(Int.max, &rng)
            case 2: image(cap, &rng); text(caption(&rng))
            default: text(caption(&rng)); image(0, &rng); image(Int.max, &rng)
            }
            out.segments.append(segments); out.imageIndex.append(ids); out.json.append(json)
        }
        return out
    }
}
