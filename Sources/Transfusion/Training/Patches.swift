/// Images (side × side × channels, channels last, values in [0, 1]) to patches and back:
/// p×p patches left-to-right, top-to-bottom, each flattened row by row, values scaled to [-1, 1].
/// With `scaled: false` the values are VAE latents: copied as they are, never rescaled nor clipped.
public struct Patchifier: Sendable {
    public let side: Int, patch: Int, channels: Int
    public let scaled: Bool
    public init(side: Int, patch: Int, channels: Int = 3, scaled: Bool = true) {
        precondition(side % patch == 0, "patch \(patch) must divide the image side \(side)")
        self.side = side; self.patch = patch; self.channels = channels; self.scaled = scaled
    }
    public var patchCount: Int { (side / patch) * (side / patch) }
    public var patchValues: Int { patch * patch * channels }

    public func patches(_ image: [Float]) -> [Float] {
        var out = [Float](); out.reserveCapacity(image.count)
        let n = side / patch
        for py in 0..<n { for px in 0..<n { for y in 0..<patch { for x in 0..<patch { for c in 0..<channels {
            let v = image[((py * patch + y) * side + px * patch + x) * channels + c]
            out.append(scaled ? v * 2 - 1 : v)
        } } } } }
        return out
    }

    public func image(_ patches: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: side * side * channels)
        let n = side / patch
        var i = 0
        for py in 0..<n { for px in 0..<n { for y in 0..<patch { for x in 0..<patch { for c in 0..<channels {
            out[((py * patch + y) * side + px * patch + x) * channels + c] = scaled ? min(1, max(0, (patches[i] + 1) / 2)) : patches[i]; i += 1
        } } } } }
        return out
    }
}
