/// Images (side × side × channels, channels last, values in [0, 1]) to patches and back:
/// p×p patches left-to-right, top-to-bottom, each flattened row by row, values scaled to [-1, 1].
/// With `scaled: false` the values are VAE latents: copied as they are, never rescaled nor clipped.
///
/// Pixel images are RGB (side × side × 3) as datasets hold them whatever the model's channels:
/// a one-channel (gray) model's patches hold the mean of each pixel's three values, and its
/// images come back with that value in all three, so gray stays gray.
public struct Patchifier: Sendable {
    public let side: Int, patch: Int, channels: Int
    public let scaled: Bool
    public init(side: Int, patch: Int, channels: Int = 3, scaled: Bool = true) {
        precondition(side % patch == 0, "patch \(patch) must divide the image side \(side)")
        self.side = side; self.patch = patch; self.channels = channels; self.scaled = scaled
    }
    public var patchCount: Int { (side / patch) * (side / patch) }
    public var patchValues: Int { patch * patch * channels }
    /// Whether images are gray pixels held as RGB (a one-channel pixel model).
    var gray: Bool { scaled && channels == 1 }

    public func patches(_ image: [Float]) -> [Float] {
        var out = [Float](); out.reserveCapacity(patchCount * patchValues)
        let n = side / patch
        for py in 0..<n { for px in 0..<n { for y in 0..<patch { for x in 0..<patch {
            let pixel = (py * patch + y) * side + px * patch + x
            if gray { out.append((image[3 * pixel] + image[3 * pixel + 1] + image[3 * pixel + 2]) * (2 / 3) - 1); continue }
            for c in 0..<channels {
                let v = image[pixel * channels + c]
                out.append(scaled ? v * 2 - 1 : v)
            }
        } } } }
        return out
    }

    public func image(_ patches: [Float]) -> [Float] {
        let stored = gray ? 3 : channels
        var out = [Float](repeating: 0, count: side * side * stored)
        let n = side / patch
        var i = 0
        for py in 0..<n { for px in 0..<n { for y in 0..<patch { for x in 0..<patch { for c in 0..<channels {
            let pixel = (py * patch + y) * side + px * patch + x
            let v = scaled ? min(1, max(0, (patches[i] + 1) / 2)) : patches[i]; i += 1
            for k in 0..<(gray ? 3 : 1) { out[pixel * stored + c + k] = v }
        } } } } }
        return out
    }
}
