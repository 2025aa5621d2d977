import Foundation
import TensorGraph
import Transfusion

/// Generation speed with and without the KV cache, side by side in one run: time per image
/// (a caption prompt, then 50 DDIM steps over the image's patches) and text tokens per second,
/// for an untrained model of the shapes example's size (speed does not depend on the weights).
struct GenerationBench {
    var rounds = 2

    func report() throws -> String {
        var lines = ["| model | image | what | batch | with cache | without cache | speed-up |", "|---|---|---|---|---|---|---|"]
        for (dim, layers, side) in [(128, 4, 16), (256, 6, 32)] {
            let config = ModelConfig(dim: dim, layers: layers, heads: dim / 32, patchSize: 48, timeFeatures: 64, imageSide: side)
            let model = TransfusionModel(config, seed: 0)
            let captions = Array(repeating: "a large yellow triangle in the center", count: 8)
            let image = try measure(model, batch: captions.count) { g in _ = try g.images(for: captions) }
            let text = try measure(model, batch: 8, tokens: 64) { g in _ = try g.generate(Array(repeating: "a", count: 8)) }
            let name = "dim \(dim), \(layers) layers", size = "\(side)×\(side), \(config.patchesPerImage ?? 0) patches"
            lines.append(String(format: "| %@ | %@ | ms per image (50 DDIM steps) | 8 | %.1f | %.1f | %.1f× |",
                                name, size, image.cached * 1e3 / 8, image.uncached * 1e3 / 8, image.uncached / image.cached))
            lines.append(String(format: "| %@ | %@ | text tokens/s | 8 | %.0f | %.0f | %.1f× |",
                                name, size, 8 * 64 / text.cached, 8 * 64 / text.uncached, text.uncached / text.cached))
        }
        return lines.joined(separator: "\n")
    }

    /// Best seconds of `rounds` runs of `body`, with and without the cache, alternated.
    func measure(_ model: TransfusionModel, batch: Int, tokens: Int = 64,
                 _ body: (Generator) throws -> Void) throws -> (cached: Double, uncached: Double) {
        var best = (cached: Double.infinity, uncached: Double.infinity)
        for _ in 0..<rounds {
            for cached in [true, false] {
                var o = GenerationOptions()
                o.cached = cached; o.maxTokens = tokens; o.maxImages = 0
                o.stopAtEOS = false   // every row writes exactly `tokens` tokens
                let g = try Generator(model: model, options: o)
                let start = DispatchTime.now().uptimeNanoseconds
                try body(g)
                let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if cached { best.cached = min(best.cached, s) } else { best.uncached = min(best.uncached, s) }
            }
        }
        return best
    }
}
