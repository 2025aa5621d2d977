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
        /// The forward and forward+backward plans, with tiles skipped or every tile computed.
        func plans(skipTiles: Bool) throws -> (forward: Plan, both: Plan) {
            let out = try Tensor.attention(q, k, v, mask: .constant(matrix.tensorData), skipTiles: skipTiles)
            let loss = try out.square().sum()
            return (try Plan([out.node]), try Plan([loss.node] + (try loss.gradients(wrt: [q, k, v])).map(\.node)))
        }
        var lines = [
            "layout: \(spec) (\(n) tokens, 4 images), mask causal | same_image, \(heads) heads × \(headDim)",
            String(format: "tiles of %d queries × %d keys skipped: %.0f%%", BlockMask.queryTile, BlockMask.keyTile, 100 * matrix.skippedShare()),
            "", "| pass | threads | dense ms | tiled ms | speed-up |", "|---|---|---|---|---|",
        ]
        lines += try timings(tiled: try plans(skipTiles: true), dense: try plans(skipTiles: false))
        lines += ["", "The training bench's attention (`tfs bench --transfusion`): rows of 128 positions (text:48 image:8x8 text:14,",
                  "BOI and EOI included), mask (causal | same_image) per row, head size 32; batch × heads as in its dim-256 and dim-512 models.", ""]
        lines += try stepShapes()
        return lines.joined(separator: "\n")
    }

    /// Forward and forward+backward of the training step's attention, per model size.
    func stepShapes() throws -> [String] {
        let layout = try SequenceLayout(parsing: "text:48 image:8x8 text:14")
        let row = MaskMatrix(.transfusion, layout).tensorData.values
        var lines = ["| batch × heads | threads | forward ms | forward + backward ms |", "|---|---|---|---|"]
        for (batch, heads) in [(16, 8), (8, 16)] {
            var rng = RNG(seed: 2)
            func p() -> Tensor { .parameter(TensorData(shape: [batch, heads, 128, 32], values: rng.normal(batch * heads * 128 * 32))) }
            let (q, k, v) = (p(), p(), p())
            let mask = Tensor.constant(TensorData(shape: [batch, 128, 128], values: Array([[Float]](repeating: row, count: batch).joined())))
            let out = try Tensor.attention(q, k, v, mask: mask)
            let loss = try out.square().sum()
            let forward = try Plan([out.node]), both = try Plan([loss.node] + (try loss.gradients(wrt: [q, k, v])).map(\.node))
            let suite = BenchSuite(size: 0)
            for threads in [1, 2] {
                BLAS.setThreads(threads)
                let f = suite.time { try! forward.run() }, fb = suite.time { try! both.run() }
                lines.append(String(format: "| %d × %d | %d | %.2f | %.2f |", batch, heads, threads, f * 1e3, fb * 1e3))
            }
        }
        return lines
    }

    /// Dense against tiled, alternated to even out drift.
    func timings(tiled: (forward: Plan, both: Plan), dense: (forward: Plan, both: Plan)) throws -> [String] {
        var lines: [String] = []
        let suite = BenchSuite(size: 0)
        for threads in [1, 2] {
            BLAS.setThreads(threads)
            for (name, tiledPlan, densePlan) in [("forward", tiled.forward, dense.forward), ("forward + backward", tiled.both, dense.both)] {
                var dense = 0.0, tiled = 0.0
                for _ in 0..<2 {  // alternate to even out drift
                    dense += suite.time { try! densePlan.run() }
                    tiled += suite.time { try! tiledPlan.run() }
                }
                lines.append(String(format: "| %@ | %d | %.2f | %.2f | %.2f× |", name, threads, dense * 500, tiled * 500, dense / tiled))
            }
        }
        return lines
    }
}
