import Foundation

/// A grid of small RGB images (values in [0, 1], channels last), scaled up with nearest
/// pixels and separated by a gutter: how datasets and samples are shown.
public enum ImageGrid {
    public static func png(_ images: [[Float]], side: Int, scale: Int = 4, columns: Int = 8) -> Data {
        let columns = max(1, min(columns, images.count)), rows = (images.count + columns - 1) / columns
        let cell = side * scale, gutter = 2
        var canvas = RGBImage(width: columns * (cell + gutter) + gutter, height: max(1, rows) * (cell + gutter) + gutter,
                              fill: (60, 60, 60))
        for (n, pixels) in images.enumerated() {
            let (ox, oy) = (gutter + (n % columns) * (cell + gutter), gutter + (n / columns) * (cell + gutter))
            for y in 0..<side {
                for x in 0..<side {
                    let i = (y * side + x) * 3
                    func byte(_ v: Float) -> UInt8 { UInt8(max(0, min(255, (v * 255).rounded()))) }
                    canvas.fill(x: ox + x * scale, y: oy + y * scale, w: scale, h: scale,
                                (byte(pixels[i]), byte(pixels[i + 1]), byte(pixels[i + 2])))
                }
            }
        }
        return canvas.png
    }
}
