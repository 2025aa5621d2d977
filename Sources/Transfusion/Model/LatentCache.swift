/// The latents of images already encoded, by their pixels: encoding an image is deterministic
/// (the posterior mean), so an image met again gets the very latents it got the first time.
/// Bounded: once the pixels and latents it holds reach `capacity` bytes it keeps what it has
/// and encodes anything new afresh (a generated data set, such as shapes, seldom repeats).
/// @unchecked Sendable: used by `LatentDataset`'s draws, which run on the training thread only.
public final class LatentCache: @unchecked Sendable {
    /// 512 MB: the pixels and latents (factor 4) of about 10,000 64×64 RGB images.
    public static let defaultBytes = 512 << 20
    public let capacity: Int
    private var table: [[Float]: [Float]] = [:]
    private(set) var bytes = 0
    /// How many lookups found their latents (for tests and curiosity).
    private(set) var hits = 0

    public init(bytes: Int = LatentCache.defaultBytes) { capacity = max(0, bytes) }

    public func latents(of pixels: [Float], encode: () -> [Float]) -> [Float] {
        if let known = table[pixels] { hits += 1; return known }
        let latents = encode()
        let size = (pixels.count + latents.count) * MemoryLayout<Float>.size
        if bytes + size <= capacity { table[pixels] = latents; bytes += size }
        return latents
    }
}
