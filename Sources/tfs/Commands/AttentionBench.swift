import Foundation
import Script
import TensorGraph
import Transfusion

/// Masked attention with tile skipping against the same op computing every tile (dense masked
/// attention), forward and forward+backward, on a Transfusion layout. Measured side by side.
struct AttentionBench {
    let spec = "text:100 image:16x16 text:60 image:8x8 text:80 image:12x12 text:50 image:14x14 text:40"
    let heads = 4, headDim = 32

    func report() throws -> String {
        let layout = try SequenceLayout(parsing: spec)
        let matrix = MaskMatrix(.transfusion, layout)
        let n = layout.count
        var rng = RNG(seed: 1)
        func p() -> Tensor { .parameter(TensorData(shape: [1, heads, n, headDim], values: rng.normal(heads * n * headDim))) }
        let (q, k, v) = (p(), p(), p())
        let out = try Tensor.attention(q, k, v, mask: .constant(matrix.tensorData))
        let loss = try out.square().sum()
        let forward = Plan([out.node]), both = Plan([loss.node] + (try loss.gradients(wrt: [q, k, v])).map(\.node))
        var lines = [
            "layout: \(spec) (\(n) tokens, 4 images), mask causal | same_image, \(heads) heads × \(headDim)",
            String(format: "tiles of 32 queries × 64 keys skipped: %.0f%%", 100 * matrix.skippedShare()),
            "", "| pass | threads | dense ms | tiled ms | speed-up |", "|---|---|---|---|---|",
        ]
        let suite = BenchSuite(size: 0)
        for threads in [1, 2] {
            BLAS.setThreads(threads)
            for (name, plan) in [("forward", forward), ("forward + backward", both)] {
                var dense = 0.0, tiled = 0.0
                for _ in 0..<2 {  // alternate to even out drift
                    AttentionTiles.skipTiles = false
                    dense += suite.time { try! plan.run() }
                    AttentionTiles.skipTiles = true
                    tiled += suite.time { try! plan.run() }
                }
                lines.append(String(format: "| %@ | %d | %.2f | %.2f | %.2f× |", name, threads, dense * 500, tiled * 500, dense / tiled))
            }
        }
        return lines.joined(separator: "\n")
    }
}
