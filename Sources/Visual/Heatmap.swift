import Foundation
import TensorGraph

/// A matrix as a picture: each value a square of a perceptual colour scale (viridis: dark
/// blue for the lowest, yellow for the highest; NaN and infinities grey), scaled up so the
/// longer side is about 256 pixels; and an [H, W, 3] tensor as an RGB image.
public enum Heatmap {
    /// Viridis at nine stops, from the lowest value to the highest.
    static let stops: [(Float, Float, Float)] = [
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
        (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    ]

    /// The colour of `t` in [0, 1].
    static func color(_ t: Float) -> (UInt8, UInt8, UInt8) {
        let x = max(0, min(1, t)) * Float(stops.count - 1)
        let i = min(stops.count - 2, Int(x)), f = x - Float(i)
        let (a, b) = (stops[i], stops[i + 1])
        func mix(_ p: Float, _ q: Float) -> UInt8 { UInt8((p + (q - p) * f).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    /// Pixels per value: the longer side near 256, at least 1, at most 32.
    static func scale(width: Int, height: Int) -> Int { max(1, min(32, 256 / max(width, height, 1))) }

    public static func png(_ values: [Float], width: Int, height: Int, low: Float, high: Float) -> Data {
        let s = scale(width: width, height: height)
        var image = RGBImage(width: width * s, height: height * s)
        for y in 0..<height {
            for x in 0..<width {
                let v = values[y * width + x]
                let c = v.isFinite ? color(high > low ? (v - low) / (high - low) : 0.5) : (128, 128, 128)
                image.fill(x: x * s, y: y * s, w: s, h: s, c)
            }
        }
        return image.png
    }

    /// An [H, W, 3] tensor with values in [0, 1] (clamped) as an RGB picture.
    public static func rgb(_ data: TensorData) -> Data {
        let (height, width) = (data.shape[0], data.shape[1]), s = scale(width: width, height: height)
        var image = RGBImage(width: width * s, height: height * s)
        func byte(_ v: Float) -> UInt8 { v.isFinite ? UInt8(max(0, min(255, (v * 255).rounded()))) : 128 }
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                image.fill(x: x * s, y: y * s, w: s, h: s, (byte(data.values[i]), byte(data.values[i + 1]), byte(data.values[i + 2])))
            }
        }
        return image.png
    }
}
