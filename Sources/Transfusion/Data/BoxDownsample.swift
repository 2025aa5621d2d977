/// Shrinks a square image by an integer factor: each output pixel is the mean of the
/// factor × factor block it covers (a box filter, exact for integer factors; no resampling
/// artefacts to learn).
public enum BoxDownsample {
    /// `pixels` is side × side × 3, channels last; `side` must be a multiple of `to`.
    public static func rgb(_ pixels: [Float], side: Int, to target: Int) -> [Float] {
        values(pixels, side: side, to: target, channels: 3)
    }

    /// `pixels` is side × side × channels, channels last; `side` must be a multiple of `to`.
    public static func values(_ pixels: [Float], side: Int, to target: Int, channels: Int) -> [Float] {
        precondition(side % target == 0 && pixels.count == side * side * channels, "box downsampling needs an integer factor")
        let k = side / target, scale = 1 / Float(k * k)
        var out = [Float](repeating: 0, count: target * target * channels)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<side {
                    for x in 0..<side {
                        let o = ((y / k) * target + x / k) * channels, i = (y * side + x) * channels
                        for c in 0..<channels { dst[o + c] += src[i + c] }
                    }
                }
                for i in 0..<dst.count { dst[i] *= scale }
            }
        }
        return out
    }
}
