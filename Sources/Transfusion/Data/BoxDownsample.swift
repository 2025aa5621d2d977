/// Shrinks a square RGB image by an integer factor: each output pixel is the mean of the
/// factor × factor block it covers (a box filter, exact for integer factors; no resampling
/// artefacts to learn).
public enum BoxDownsample {
    /// `pixels` is side × side × 3, channels last; `side` must be a multiple of `to`.
    public static func rgb(_ pixels: [Float], side: Int, to target: Int) -> [Float] {
        precondition(side % target == 0 && pixels.count == side * side * 3, "box downsampling needs an integer factor")
        let k = side / target, scale = 1 / Float(k * k)
        var out = [Float](repeating: 0, count: target * target * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<side {
                    for x in 0..<side {
                        let o = ((y / k) * target + x / k) * 3, i = (y * side + x) * 3
                        dst[o] += src[i]; dst[o + 1] += src[i + 1]; dst[o + 2] += src[i + 2]
                    }
                }
                for i in 0..<dst.count { dst[i] *= scale }
            }
        }
        return out
    }
}
