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

    enum CodingKeys: String, CodingKey {
        case dim, layers, heads, vocabulary, tokenizer, patchSize, timeFeatures, imageSide, channels, latent, schedule, objective, encoder, codebook
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
    }
}
