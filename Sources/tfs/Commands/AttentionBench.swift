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
                  "BOI and EOI included), mask (causal | same_image) per row, head size 32; batch × heads as in its dim-256 and dim-512 models,",
                  "from the projections' [B, T, H·D] to the output in that layout, heads permuted around attention or read in place.", ""]
        lines += try stepShapes()
        return lines.joined(separator: "\n")
    }

    /// Forward and forward+backward of the training step's attention, per model size, from
    /// the projections' [B, T, H·D] to the output in that layout: with the heads permuted around
    /// attention (split_heads with RoPE, split_heads, attention, merge_heads) against attention
    /// reading them in place (RoPE in that layout, attention(heads:)), alternated in one run.
    func stepShapes() throws -> [String] {
        let layout = try SequenceLayout(parsing: "text:48 image:8x8 text:14")
        let row = MaskMatrix(.transfusion, layout).tensorData.values
        var lines = ["| batch × heads | threads | pass | permuted ms | in place ms | speed-up |", "|---|---|---|---|---|---|"]
        for (batch, heads) in [(16, 8), (8, 16)] {
            var rng = RNG(seed: 2)
            let width = heads * 32
            func p() -> Tensor { .parameter(TensorData(shape: [batch, 128, width], values: rng.normal(batch * 128 * width))) }
            let (q, k, v) = (p(), p(), p())
            let cos = Tensor.constant(TensorData(shape: [1, 1, 128, 32], values: rng.normal(128 * 32)))
            let sin = Tensor.constant(TensorData(shape: [1, 1, 128, 32], values: rng.normal(128 * 32)))
            let mask = Tensor.constant(TensorData(shape: [batch, 128, 128], values: Array([[Float]](repeating: row, count: batch).joined())))
            let permuted = try Tensor.attention(q.splitHeads(heads, rope: (cos, sin)), k.splitHeads(heads, rope: (cos, sin)),
                                                v.splitHeads(heads), mask: mask).mergeHeads()
            let inPlace = try Tensor.attention(q.rope(heads: heads, cos: cos, sin: sin), k.rope(heads: heads, cos: cos, sin: sin),
                                               v, mask: mask, heads: heads)
            func plans(_ out: Tensor) throws -> (forward: Plan, both: Plan) {
                let loss = try out.square().sum()
                return (try Plan([out.node]), try Plan([loss.node] + (try loss.gradients(wrt: [q, k, v])).map(\.node)))
            }
            let (old, new) = (try plans(permuted), try plans(inPlace))
            let suite = BenchSuite(size: 0)
            for threads in [1, 2] {
                BLAS.setThreads(threads)
                for (name, a, b) in [("forward", old.forward, new.forward), ("forward + backward", old.both, new.both)] {
                    var before = 0.0, after = 0.0
                    for _ in 0..<3 {  // alternate to even out drift
                        before += suite.time { try! a.run() }
                        after += suite.time { try! b.run() }
                    }
                    lines.append(String(format: "| %d × %d | %d | %@ | %.2f | %.2f | %.2f× |", batch, heads, threads, name,
                                        before * 1e3 / 3, after * 1e3 / 3, before / after))
                }
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
