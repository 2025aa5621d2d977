import Foundation

/// The shape of a Transfusion model: a Llama-style transformer (pre-norm RMSNorm, SwiGLU,
/// RoPE, no biases) over text tokens and image patches, with a linear or U-Net patch
/// encoder/decoder, and the diffusion process its patch decoder was trained for. Saved in
/// checkpoints as JSON.
public struct ModelConfig: Equatable, Sendable, Codable {
    public var dim = 128
    public var layers = 4
    public var heads = 4
    /// Text tokens: bytes and specials, and a BPE vocabulary's merges if it has one.
    public var tokenizer = Tokenizer()
    /// Token ids: the tokenizer's, then a codebook's codes.
    public var vocabulary: Int { tokenizer.vocabularySize + (codebook?.size ?? 0) }
    /// The id of a codebook's first code.
    public var firstCode: Int { tokenizer.vocabularySize }
    /// Values per patch (p·p·channels).
    public var patchSize = 48
    /// Width of the sinusoidal timestep features.
    public var timeFeatures = 64
    /// The images the model draws: side × side × channels (patches of `patchSide`).
    public var imageSide = 16
    public var channels = 3
    /// Whether the "images" are VAE latents (`channels` unscaled values per position, drawn
    /// without clipping) rather than RGB pixels in [0, 1].
    public var latent = false
    /// The noise schedule and what the patch head predicts.
    public var schedule: NoiseSchedule = .cosine(steps: 1000)
    public var objective: DiffusionObjective = .epsilon
    /// How patches enter and leave the transformer.
    public var encoder: PatchEncoder = .linear
    /// A Chameleon baseline's codebook: images are then discrete tokens (ids from
    /// `firstCode` on) learned with the LM loss alone, and the model has no patch encoder,
    /// decoder or diffusion. Nil for Transfusion.
    public var codebook: Codebook?
    /// Pieces written in a script, by slot ("encoder", "decoder", "norm", "mlp") → the function's name: a model
    /// with them is rebuilt only where those functions are defined. Nil for built-in pieces.
    public var pieces: [String: String]?

    /// SwiGLU hidden width.
    public var hidden: Int { (8 * dim / 3 + 31) / 32 * 32 }
    public var headDim: Int { dim / heads }
    /// Pixels (or latent positions) per patch side, when patches are square blocks of the
    /// image's `channels` (nil otherwise).
    public var patchSide: Int? {
        let p = Int(Double(patchSize / max(channels, 1)).squareRoot().rounded())
        return p * p * channels == patchSize && p > 0 && imageSide % p == 0 ? p : nil
    }
    /// Patches per image.
    public var patchesPerImage: Int? { patchSide.map { (imageSide / $0) * (imageSide / $0) } }

    public init(dim: Int = 128, layers: Int = 4, heads: Int = 4, patchSize: Int = 48, timeFeatures: Int = 64,
                imageSide: Int = 16, schedule: NoiseSchedule = .cosine(steps: 1000), objective: DiffusionObjective = .epsilon,
                encoder: PatchEncoder = .linear) {
        self.dim = dim; self.layers = layers; self.heads = heads
        self.patchSize = patchSize; self.timeFeatures = timeFeatures
        self.imageSide = imageSide; self.schedule = schedule; self.objective = objective
        self.encoder = encoder
    }

    /// Why this config cannot make a model (nil when it can), naming the field. A saved config
    /// is untrusted input: every size is bounded before anything is allocated from it.
    public var problem: String? {
        func outside(_ field: String, _ value: Int, _ range: ClosedRange<Int>) -> String? {
            range.contains(value) ? nil : "the model config's \(field) must be from \(range.lowerBound) to \(range.upperBound), got \(value)"
        }
        if let p = outside("dim", dim, 2...Self.maxDim) ?? outside("layers", layers, 1...Self.maxLayers)
            ?? outside("heads", heads, 1...dim) ?? outside("patchSize", patchSize, 1...Self.maxPatchSize)
            ?? outside("timeFeatures", timeFeatures, 1...Self.maxDim) ?? outside("imageSide", imageSide, 1...Self.maxImageSide)
            ?? outside("channels", channels, 1...Self.maxChannels)
            ?? outside("schedule steps", schedule.steps, 1...Self.maxDiffusionSteps)
            ?? outside("tokenizer merges", tokenizer.merges.count, 0...Self.maxMerges) { return p }
        guard dim % heads == 0, headDim % 2 == 0 else { return "the model config's dim \(dim) must split into \(heads) heads of an even size" }
        if let problem = schedule.problem { return "the model config's noise schedule: \(problem)" }
        if case .cosine(_, let offset) = schedule, !(0..<1).contains(offset) {
            return "the model config's cosine schedule offset must be in [0, 1), got \(offset)"
        }
        if let n = patchesPerImage, n > Self.maxPatchesPerImage {
            return "the model config's imageSide \(imageSide) makes \(n) patches per image (at most \(Self.maxPatchesPerImage))"
        }
        if let codebook, let problem = codebook.problem { return "the model config's codebook: \(problem)" }
        if encoder == .unet, let problem = UNet.problem(self) { return "the model config: \(problem)" }
        return nil
    }

    /// Bounds of a valid config (far above any model tfs trains on a CPU).
    public static let maxDim = 16_384, maxLayers = 1024, maxPatchSize = 65_536, maxImageSide = 4096, maxPatchesPerImage = 16_384
    public static let maxChannels = 1024, maxDiffusionSteps = 100_000, maxMerges = 1 << 20

    /// The first field (of those that shape the weights) where `self` differs from `other`.
    public func firstDifference(from other: ModelConfig) -> (name: String, saved: String, current: String)? {
        let fields: [(String, String, String)] = [
            ("dim", "\(dim)", "\(other.dim)"), ("layers", "\(layers)", "\(other.layers)"), ("heads", "\(heads)", "\(other.heads)"),
            ("vocabulary", "\(vocabulary)", "\(other.vocabulary)"), ("patchSize", "\(patchSize)", "\(other.patchSize)"),
            ("timeFeatures", "\(timeFeatures)", "\(other.timeFeatures)"), ("imageSide", "\(imageSide)", "\(other.imageSide)"),
            ("channels", "\(channels)", "\(other.channels)"), ("encoder", encoder.rawValue, other.encoder.rawValue),
        ]
        return fields.first { $0.1 != $0.2 }.map { (name: $0.0, saved: $0.1, current: $0.2) }
    }

    enum CodingKeys: String, CodingKey {
        case dim, layers, heads, vocabulary, tokenizer, patchSize, timeFeatures, imageSide, channels, latent, schedule, objective, encoder, codebook, pieces
    }

    /// Fields added after a checkpoint was written take their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ModelConfig()
        dim = try c.decode(Int.self, forKey: .dim)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        tokenizer = try c.decodeIfPresent(Tokenizer.self, forKey: .tokenizer) ?? d.tokenizer
        patchSize = try c.decode(Int.self, forKey: .patchSize)
        timeFeatures = try c.decodeIfPresent(Int.self, forKey: .timeFeatures) ?? d.timeFeatures
        imageSide = try c.decodeIfPresent(Int.self, forKey: .imageSide) ?? d.imageSide
        channels = try c.decodeIfPresent(Int.self, forKey: .channels) ?? d.channels
        latent = try c.decodeIfPresent(Bool.self, forKey: .latent) ?? d.latent
        schedule = try c.decodeIfPresent(NoiseSchedule.self, forKey: .schedule) ?? d.schedule
        objective = try c.decodeIfPresent(DiffusionObjective.self, forKey: .objective) ?? d.objective
        encoder = try c.decodeIfPresent(PatchEncoder.self, forKey: .encoder) ?? d.encoder
        codebook = try c.decodeIfPresent(Codebook.self, forKey: .codebook)
        pieces = try c.decodeIfPresent([String: String].self, forKey: .pieces)
        if let slot = pieces?.keys.first(where: { !ModelPieces.slots.contains($0) }) {
            throw DecodingError.dataCorruptedError(forKey: .pieces, in: c, debugDescription: "unknown piece '\(slot)' (tfs has \(ModelPieces.slots.joined(separator: ", ")) pieces)")
        }
        // Written for readers of the file; a checkpoint whose count disagrees is damaged.
        if let saved = try c.decodeIfPresent(Int.self, forKey: .vocabulary), saved != vocabulary {
            throw DecodingError.dataCorruptedError(forKey: .vocabulary, in: c, debugDescription: "the vocabulary is \(saved) but the tokenizer and codebook make \(vocabulary)")
        }
    }

    public func encode(to out: Encoder) throws {
        var c = out.container(keyedBy: CodingKeys.self)
        try c.encode(dim, forKey: .dim); try c.encode(layers, forKey: .layers); try c.encode(heads, forKey: .heads)
        try c.encode(vocabulary, forKey: .vocabulary); try c.encode(tokenizer, forKey: .tokenizer)
        try c.encode(patchSize, forKey: .patchSize); try c.encode(timeFeatures, forKey: .timeFeatures)
        try c.encode(imageSide, forKey: .imageSide); try c.encode(channels, forKey: .channels); try c.encode(latent, forKey: .latent)
        try c.encode(schedule, forKey: .schedule); try c.encode(objective, forKey: .objective); try c.encode(encoder, forKey: .encoder)
        try c.encodeIfPresent(codebook, forKey: .codebook)
        try c.encodeIfPresent(pieces, forKey: .pieces)
    }
}
