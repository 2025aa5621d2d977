import Foundation
import TensorGraph

/// A trained VAE's latents in place of pixels: images (side × side × 3 in [0, 1], channels
/// last, as datasets hold them) to latent grids (side/f × side/f × channels, channels last,
/// multiplied by the VAE's `scale` so they have about unit variance, as Stable Diffusion
/// does) and back. Latents are never rescaled nor clipped; decoded pixels are clipped to [0, 1].
public struct Latents {
    public let vae: VAE
    public init(_ vae: VAE) { self.vae = vae }

    public var channels: Int { vae.config.channels }
    public func side(forImage side: Int) throws -> Int { try vae.latentSide(side) }

    /// Scaled latents of images of `side`: the posterior means, or with `rng` a sample from
    /// the posterior N(μ, σ²).
    public func encode(_ images: [[Float]], side: Int, rng: inout RNG?) throws -> [[Float]] {
        guard !images.isEmpty else { return [] }
        let gray = vae.config.imageChannels == 1
        let pixels = TensorData(shape: [images.count, side, side, gray ? 1 : 3],
                                values: images.flatMap { (gray ? GrayPixels.mean($0) : $0).map { $0 * 2 - 1 } })
        let (mean, logVariance) = try vae.encode(pixels)
        var values = mean.values
        if rng != nil {
            let noise = rng!.normal(values.count)
            for i in values.indices { values[i] += Foundation.exp(0.5 * logVariance.values[i]) * noise[i] }
        }
        let per = values.count / images.count
        return (0..<images.count).map { i in values[i * per..<(i + 1) * per].map { $0 * vae.scale } }
    }

    /// The posterior means of images, scaled.
    public func encode(_ images: [[Float]], side: Int) throws -> [[Float]] {
        var none: RNG? = nil
        return try encode(images, side: side, rng: &none)
    }

    /// Pixels in [0, 1] decoded from scaled latents of `latentSide`.
    public func decode(_ latents: [[Float]], latentSide: Int) throws -> [[Float]] {
        guard !latents.isEmpty else { return [] }
        let data = TensorData(shape: [latents.count, latentSide, latentSide, channels],
                              values: latents.flatMap { $0.map { $0 / vae.scale } })
        let images = try vae.decode(data).values
        let per = images.count / latents.count
        return (0..<latents.count).map { i in
            let pixels = images[i * per..<(i + 1) * per].map { Swift.min(1, Swift.max(0, ($0 + 1) / 2)) }
            return vae.config.imageChannels == 1 ? GrayPixels.rgb(pixels) : pixels
        }
    }
}

/// A dataset whose images are replaced by their VAE latents (posterior means, scaled): a
/// Transfusion model made with `ModelConfig.latent` trains on these as if they were images of
/// side/factor with `channels` channels. Each draw encodes its image (one small conv pass),
/// once: the latents of images seen before come from a cache (an image folder's images recur
/// every epoch; at 64 pixels the model's step ran 14,000 tokens a second encoding every draw and
/// 36,000 with the cache).
/// @unchecked Sendable: the VAE caches its plans; draws happen on the training thread only.
public struct LatentDataset: Dataset, @unchecked Sendable {
    public let base: any Dataset
    public let latents: Latents
    let cache: LatentCache

    public init(_ base: any Dataset, vae: VAE, cacheBytes: Int = LatentCache.defaultBytes) throws {
        guard let side = base.imageSide else { throw TensorGraphError("\(base) holds no images to encode") }
        _ = try vae.latentSide(side)
        self.base = base; latents = Latents(vae); cache = LatentCache(bytes: cacheBytes)
    }

    public var imageSide: Int? { base.imageSide.map { $0 / latents.vae.config.factor } }
    public var count: Int? { base.count }
    public var imagesPerItem: Int { base.imagesPerItem }
    public var channels: Int { latents.channels }
    public var description: String { "latents(\(base.description), \(channels) channels)" }

    public func draw(_ rng: inout RNG) -> DatasetItem {
        let side = base.imageSide!
        func encode(_ pixels: [Float]) -> [Float] {
            cache.latents(of: pixels) {
                // The side was checked at init: encoding this dataset's images cannot fail.
                do { return try latents.encode([pixels], side: side)[0] } catch { preconditionFailure("encoding a \(side)×\(side) image: \(error)") }
            }
        }
        switch base.draw(&rng) {
        case .pair(let pixels, let caption): return .pair(pixels: encode(pixels), caption: caption)
        case .text(let s): return .text(s)
        case .edit(let source, let instruction, let target): return .edit(source: encode(source), instruction: instruction, target: encode(target))
        case .document(let parts):
            return .document(parts.map { part -> DocumentPart in if case .image(let p) = part { .image(encode(p)) } else { part } })
        }
    }

    public func fitted(length: Int, patches: Int) throws -> any Dataset {
        try LatentDataset(base.fitted(length: length, patches: patches), vae: latents.vae, cacheBytes: cache.capacity)
    }

    public func split(heldOut fraction: Double, seed: UInt64) throws -> (train: any Dataset, heldOut: any Dataset) {
        let parts = try base.split(heldOut: fraction, seed: seed)
        return (try LatentDataset(parts.train, vae: latents.vae, cacheBytes: cache.capacity),
                try LatentDataset(parts.heldOut, vae: latents.vae, cacheBytes: cache.capacity))
    }

    /// Why `data` cannot train a model that does (or does not) draw latents; nil when it can.
    static func mismatch(_ data: any Dataset, latentModel: Bool) -> String? {
        let isLatent = data is LatentDataset
        if latentModel && !isLatent { return "the model draws VAE latents: train it on a LatentDataset of its VAE, not on the pixels of \(data)" }
        if !latentModel && isLatent { return "\(data) holds VAE latents, but the model draws pixels (make it with latent channels)" }
        return nil
    }
}
