/// Gray images as datasets hold them, RGB with three equal values per pixel, and as a gray
/// model sees them, one value per pixel: the mean of the three.
public enum GrayPixels {
    /// One value per pixel of RGB values (channels last): each pixel's mean.
    public static func mean(_ rgb: [Float]) -> [Float] {
        stride(from: 0, to: rgb.count - 2, by: 3).map { (i: Int) -> Float in (rgb[i] + rgb[i + 1] + rgb[i + 2]) / 3 }
    }

    /// RGB values (channels last) with each gray value in all three.
    public static func rgb(_ gray: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: gray.count * 3)
        for (i, v) in gray.enumerated() { out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v }
        return out
    }
}
