import Foundation
import TensorGraph

/// The background a glyph is drawn over: one colour, or a texture between two colours of
/// like brightness (a gradient, stripes, a checkerboard, or smooth "clouds" of value noise).
enum GlyphTexture {
    typealias Colour = (r: Float, g: Float, b: Float)

    case flat(Colour)
    case gradient(Colour, Colour, angle: Float)
    case stripes(Colour, Colour, angle: Float, period: Float, phase: Float)
    case checker(Colour, Colour, cell: Float, angle: Float)
    /// Value noise: a grid × grid lattice of weights in [0, 1], bilinearly interpolated.
    case clouds(Colour, Colour, grid: Int, weights: [Float])

    static let kinds = ["gradient", "stripes", "checker", "clouds"]

    var kind: String {
        switch self {
        case .flat: "flat"; case .gradient: "gradient"; case .stripes: "stripes"; case .checker: "checker"; case .clouds: "clouds"
        }
    }

    /// A texture of a random kind between `a` and `b` for a side × side image.
    static func random(_ a: Colour, _ b: Colour, side: Int, _ rng: inout RNG) -> GlyphTexture {
        let angle = rng.uniform() * .pi, s = Float(side)
        switch kinds[rng.int(kinds.count)] {
        case "gradient": return .gradient(a, b, angle: angle * 2)
        case "stripes": return .stripes(a, b, angle: angle, period: s * (0.12 + 0.3 * rng.uniform()), phase: rng.uniform() * 2 * .pi)
        case "checker": return .checker(a, b, cell: s * (0.08 + 0.17 * rng.uniform()), angle: angle)
        default:
            let grid = 3 + rng.int(4)
            return .clouds(a, b, grid: grid, weights: rng.uniform(grid * grid))
        }
    }

    /// side × side × 3 values in [0, 1], channels last.
    func pixels(side: Int) -> [Float] {
        var out = [Float](repeating: 0, count: side * side * 3)
        let s = Float(side)
        for y in 0..<side {
            for x in 0..<side {
                // Pixel centres, with the image centre at 0.
                let u = Float(x) + 0.5 - s / 2, v = Float(y) + 0.5 - s / 2
                let (a, b, t) = mix(u, v, s)
                let i = (y * side + x) * 3
                out[i] = a.r + (b.r - a.r) * t; out[i + 1] = a.g + (b.g - a.g) * t; out[i + 2] = a.b + (b.b - a.b) * t
            }
        }
        return out
    }

    /// The two colours and how far towards the second one the point (u, v) lies.
    private func mix(_ u: Float, _ v: Float, _ s: Float) -> (Colour, Colour, Float) {
        switch self {
        case .flat(let c): return (c, c, 0)
        case .gradient(let a, let b, let angle):
            return (a, b, min(1, max(0, 0.5 + (u * cos(angle) + v * sin(angle)) / s)))
        case .stripes(let a, let b, let angle, let period, let phase):
            return (a, b, 0.5 + 0.5 * sin(2 * .pi * (u * cos(angle) + v * sin(angle)) / period + phase))
        case .checker(let a, let b, let cell, let angle):
            let p = (u * cos(angle) + v * sin(angle)) / cell, q = (v * cos(angle) - u * sin(angle)) / cell
            return (a, b, (Int(floor(p)) + Int(floor(q))) & 1 == 0 ? 0 : 1)
        case .clouds(let a, let b, let grid, let w):
            let g = Float(grid - 1), px = (u / s + 0.5) * g, py = (v / s + 0.5) * g
            let x0 = min(grid - 2, Int(px)), y0 = min(grid - 2, Int(py)), fx = px - Float(x0), fy = py - Float(y0)
            let top = w[y0 * grid + x0] * (1 - fx) + w[y0 * grid + x0 + 1] * fx
            let bottom = w[(y0 + 1) * grid + x0] * (1 - fx) + w[(y0 + 1) * grid + x0 + 1] * fx
            return (a, b, top * (1 - fy) + bottom * fy)
        }
    }
}
