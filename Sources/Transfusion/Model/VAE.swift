import Foundation
import TensorGraph

/// The shape of a `VAE`: latent channels, downsampling factor (2, 4 or 8), base width and the KL
/// weight it trains with. Saved in the checkpoint's metadata as JSON.
public struct VAEConfig: Equatable, Sendable, Codable, CheckedConfig {
    /// Latent channels (means and log-variances each have this many).
    public var channels = 4
    /// Image side / latent side: 2, 4 or 8 (one, two or three stride-2 convolutions).
    public var factor = 2
    /// Channels of the first level; each downsampling doubles them.
    public var width = 32
    /// Weight of the KL term: loss = MSE + beta · KL.
    public var beta: Float = 1e-4
    /// Channels of the images (RGB).
    public var imageChannels = 3

    public init(channels: Int = 4, factor: Int = 2, width: Int = 32, beta: Float = 1e-4) {
        self.channels = channels; self.factor = factor; self.width = width; self.beta = beta
    }

    /// Why a config cannot make a VAE (nil when it can).
    public var problem: String? {
        if ![2, 4, 8].contains(factor) { return "the VAE's factor must be 2, 4 or 8, got \(factor)" }
        if channels < 1 { return "the VAE needs at least one latent channel, got \(channels)" }
        if !(1...256).contains(width) { return "the VAE's width must be from 1 to 256, got \(width)" }
        if channels > 1024 { return "the VAE's latent channels must be at most 1024, got \(channels)" }
        if !(1...64).contains(imageChannels) { return "the VAE's imageChannels must be from 1 to 64, got \(imageChannels)" }
        if !(beta.isFinite && beta >= 0) { return "the VAE's beta must be finite and not negative, got \(beta)" }
        return nil
    }
}

/// A small convolutional VAE over RGB images in [-1, 1] that tfs trains itself (`VAETrainer`):
/// its latents (a `factor`× smaller grid of `channels` values) can replace pixels.
///
/// Level i works at side/2^i with w_i = width·2^i channels (L = log2 factor levels):
///   encoder: stem conv3×3 → for i in 0..<L: res(w_i), conv3×3 stride 2 → w_{i+1};
///            res(w_L), GroupNorm, SiLU, conv3×3 (+ bias) → 2·channels (means, log-variances)
///   decoder: conv3×3 channels → w_L, res(w_L); for i in L−1…0: nearest ×2, conv3×3 → w_i, res(w_i);
///            GroupNorm, SiLU, conv3×3 (+ bias) → 3
/// A residual block is GroupNorm → SiLU → conv3×3 → GroupNorm → SiLU → conv3×3, plus its input
/// (the U-Net's block without the timestep). Images enter and leave channels last
/// ([n, side, side, 3], as `Patchifier` lays them out); latents are [n, side/f, side/f, channels].
/// Loss = MSE(decode(z), x) + β·KL, z = μ + σ·ε, KL = mean over latent values of
/// ½(μ² + σ² − 1 − log σ²) (per value, like the MSE, so β is independent of the sizes).
public final class VAE {
    public let config: VAEConfig
    public let parameters: Parameters
    /// Multiplies latents so they have about unit variance (set by `calibrate`, saved).
    public var scale: Float = 1
    /// Encode and decode plans by input shape, built on first use.
    private var encoders: [[Int]: (plan: Plan, input: Node)] = [:]
    private var decoders: [[Int]: (plan: Plan, input: Node)] = [:]

    public init(_ config: VAEConfig = VAEConfig(), seed: UInt64 = 0) {
        precondition(config.problem == nil, config.problem ?? "")
        self.config = config
        parameters = Parameters(seed: seed)
        makeParameters()
    }

    var levels: Int { config.factor.trailingZeroBitCount }
    func width(_ level: Int) -> Int { config.width << level }

    // MARK: Parameters

    private func makeParameters() {
        let c = config
        conv("vae.encoder.stem", width(0), c.imageChannels)
        for i in 0..<levels {
            resBlock("vae.encoder.down\(i)", width(i))
            conv("vae.encoder.down\(i).downsample", width(i + 1), width(i))
        }
        resBlock("vae.encoder.mid", width(levels))
        norm("vae.encoder.out.norm", width(levels))
        conv("vae.encoder.out", 2 * c.channels, width(levels))
        parameters.make("vae.encoder.out.bias", [2 * c.channels], fill: 0)

        conv("vae.decoder.in", width(levels), c.channels)
        resBlock("vae.decoder.mid", width(levels))
        for i in (0..<levels).reversed() {
            conv("vae.decoder.up\(i).upsample", width(i), width(i + 1))
            resBlock("vae.decoder.up\(i)", width(i))
        }
        norm("vae.decoder.out.norm", width(0))
        conv("vae.decoder.out", c.imageChannels, width(0))
        parameters.make("vae.decoder.out.bias", [c.imageChannels], fill: 0)
    }

    private func conv(_ name: String, _ out: Int, _ input: Int) {
        parameters.make(name, [out, input, 3, 3], std: 1 / Float(input * 9).squareRoot())
    }
    private func norm(_ name: String, _ c: Int) {
        parameters.make("\(name).weight", [c], fill: 1)
        parameters.make("\(name).bias", [c], fill: 0)
    }
    private func resBlock(_ name: String, _ c: Int) {
        norm("\(name).norm1", c); conv("\(name).conv1", c, c)
        norm("\(name).norm2", c); conv("\(name).conv2", c, c)
    }

    // MARK: Graph (NCHW inside)

    /// Means and log-variances [n, channels, s/f, s/f] of images [n, 3, s, s] in [-1, 1].
    public func encoder(_ images: Tensor) throws -> (mean: Tensor, logVariance: Tensor) {
        let P = parameters
        var h = try images.conv2d(P["vae.encoder.stem"], padding: 1)
        for i in 0..<levels {
            h = try resBlock("vae.encoder.down\(i)", h)
            h = try h.conv2d(P["vae.encoder.down\(i).downsample"], stride: 2, padding: 1)
        }
        h = try resBlock("vae.encoder.mid", h)
        h = try normalized("vae.encoder.out.norm", h).silu().conv2d(P["vae.encoder.out"], padding: 1)
        h = try h + bias("vae.encoder.out.bias")
        let c = config.channels
        return (try h.slice(axis: 1, 0, c), try h.slice(axis: 1, c, 2 * c))
    }

    /// Images [n, 3, s, s] (in [-1, 1] once trained) from latents [n, channels, s/f, s/f].
    public func decoder(_ latents: Tensor) throws -> Tensor {
        let P = parameters
        var h = try latents.conv2d(P["vae.decoder.in"], padding: 1)
        h = try resBlock("vae.decoder.mid", h)
        for i in (0..<levels).reversed() {
            h = try h.upsample(2).conv2d(P["vae.decoder.up\(i).upsample"], padding: 1)
            h = try resBlock("vae.decoder.up\(i)", h)
        }
        h = try normalized("vae.decoder.out.norm", h).silu().conv2d(P["vae.decoder.out"], padding: 1)
        return try h + bias("vae.decoder.out.bias")
    }

    /// The KL divergence of N(μ, σ²) from N(0, 1), averaged over every value.
    public static func kl(mean: Tensor, logVariance: Tensor) throws -> Tensor {
        try ((mean.square() + logVariance.exp() - logVariance - 1) * 0.5).mean()
    }

    /// The training losses for images [n, s, s, 3] (channels last, in [-1, 1]) and noise
    /// ε [n, channels, s/f, s/f]: total = reconstruction + β·KL.
    public func losses(images: Tensor, noise: Tensor) throws -> (total: Tensor, reconstruction: Tensor, kl: Tensor) {
        let x = try images.permute([0, 3, 1, 2])
        let (mean, logVariance) = try encoder(x)
        let z = try mean + (logVariance * 0.5).exp() * noise
        let reconstruction = try Tensor.mse(decoder(z), x)
        let kl = try Self.kl(mean: mean, logVariance: logVariance)
        return (try reconstruction + kl * config.beta, reconstruction, kl)
    }

    private func bias(_ name: String) throws -> Tensor {
        let b = parameters[name]
        return try b.reshape([1, b.shape[0], 1, 1])
    }
    private func normalized(_ name: String, _ x: Tensor) throws -> Tensor {
        try x.groupNorm(groups: gcd(x.shape[1], 8), weight: parameters["\(name).weight"], bias: parameters["\(name).bias"])
    }
    private func resBlock(_ name: String, _ x: Tensor) throws -> Tensor {
        let h = try normalized("\(name).norm1", x).silu().conv2d(parameters["\(name).conv1"], padding: 1)
        return try normalized("\(name).norm2", h).silu().conv2d(parameters["\(name).conv2"], padding: 1) + x
    }
    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    // MARK: Encoding and decoding values

    /// The latent side for images of `side` (which the factor must divide).
    public func latentSide(_ side: Int) throws -> Int {
        guard side > 0, side % config.factor == 0 else {
            throw TensorGraphError("the VAE's factor \(config.factor) must divide the image side \(side)")
        }
        return side / config.factor
    }

    /// Latent means and log-variances [n, s/f, s/f, channels] (unscaled) of images [n, s, s, 3] in [-1, 1].
    public func encode(_ images: TensorData) throws -> (mean: TensorData, logVariance: TensorData) {
        guard images.rank == 4, images.shape[1] == images.shape[2], images.shape[3] == config.imageChannels else {
            throw TensorGraphError("the VAE encodes images [n, side, side, \(config.imageChannels)], got \(Shape.describe(images.shape))")
        }
        _ = try latentSide(images.shape[1])
        if encoders[images.shape] == nil {
            let input = Tensor.input("images", images.shape)
            let (m, v) = try encoder(input.permute([0, 3, 1, 2]))
            encoders[images.shape] = (try Plan([try m.permute([0, 2, 3, 1]).node, try v.permute([0, 2, 3, 1]).node]), input.node)
        }
        let (plan, input) = encoders[images.shape]!
        let out = try plan.run([input: images])
        return (out[0], out[1])
    }

    /// Images [n, s, s, 3] (about [-1, 1]; not clipped) from unscaled latents [n, s/f, s/f, channels].
    public func decode(_ latents: TensorData) throws -> TensorData {
        guard latents.rank == 4, latents.shape[1] == latents.shape[2], latents.shape[3] == config.channels else {
            throw TensorGraphError("the VAE decodes latents [n, side, side, \(config.channels)], got \(Shape.describe(latents.shape))")
        }
        if decoders[latents.shape] == nil {
            let input = Tensor.input("latents", latents.shape)
            decoders[latents.shape] = (try Plan([try decoder(input.permute([0, 3, 1, 2])).permute([0, 2, 3, 1]).node]), input.node)
        }
        let (plan, input) = decoders[latents.shape]!
        return try plan.run([input: latents])[0]
    }

    /// Sets `scale` to 1 / the standard deviation of the latent means of these images
    /// [n, s, s, 3] in [-1, 1], so scaled latents have about unit variance.
    public func calibrate(_ images: TensorData) throws {
        let m = try encode(images).mean.values
        let mean = m.reduce(0, +) / Float(m.count)
        let variance = m.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(m.count)
        scale = variance > 0 ? 1 / variance.squareRoot() : 1
    }

    // MARK: Checkpoints

    /// Weights, config and scale in one safetensors file, written atomically.
    public func save(_ path: String) throws {
        let config = String(decoding: try JSONEncoder().encode(self.config), as: UTF8.self)
        try Safetensors.write(parameters.names.map { ($0, parameters[$0].node.storage!.data) },
                              metadata: ["format": "tfs-vae-1", "config": config, "scale": String(scale.bitPattern)], to: path)
    }

    /// A VAE saved by `save`.
    public static func load(_ path: String) throws -> VAE {
        let file = try Safetensors.read(path: path)
        let config = try file.savedConfig(VAEConfig.self, format: "tfs-vae-1", what: "VAE", path: path)
        guard let bits = file.metadata["scale"].flatMap(UInt32.init) else {
            throw TensorGraphError("\(path) is not a tfs VAE (missing scale metadata)")
        }
        let vae = VAE(config)
        try vae.parameters.assign(from: file, path: path)
        vae.scale = Float(bitPattern: bits)
        return vae
    }
}
