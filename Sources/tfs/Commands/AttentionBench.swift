import Foundation
import Script
import TensorGraph
import Transfusion

/// Masked attention with tile skipping against the same op computing every tile (dense masked
/// attention), and the BLAS kernel against the flash kernel at each SIMD level, forward and
/// forward+backward, on Transfusion layouts. Measured side by side, alternated in one run.
struct AttentionBench {
    let spec = "text:100 image:16x16 text:60 image:8x8 text:80 image:12x12 text:50 image:14x14 text:40"
    let heads = 4, headDim = 32

    /// The kernels compared: BLAS, then flash at each level this CPU runs.
    var kernels: [AttentionKernel] { [.blas] + SIMDLevel.available.map(AttentionKernel.flash) }

    func report() throws -> String {
        let layout = try SequenceLayout(parsing: spec)
        let matrix = MaskMatrix(.transfusion, layout)
        let n = layout.count
        var rng = RNG(seed: 1)
        func p() -> Tensor { .parameter(TensorData(shape: [1, heads, n, headDim], values: rng.normal(heads * n * headDim))) }
        let (q, k, v) = (p(), p(), p())
        /// The forward and forward+backward plans of one way of computing attention.
        func plans(skipTiles: Bool, kernel: AttentionKernel) throws -> (forward: Plan, both: Plan) {
            let out = try Tensor.attention(q, k, v, mask: .constant(matrix.tensorData), skipTiles: skipTiles, kernel: kernel)
            let loss = try out.square().sum()
            return (try Plan([out.node]), try Plan([loss.node] + (try loss.gradients(wrt: [q, k, v])).map(\.node)))
        }
        let names = ["dense (BLAS)"] + kernels.map { "tiled \($0)" }
        var lines = [
            "layout: \(spec) (\(n) tokens, 4 images), mask causal | same_image, \(heads) heads × \(headDim)",
            String(format: "tiles of %d queries × %d keys skipped: %.0f%%", BlockMask.queryTile, BlockMask.keyTile, 100 * matrix.skippedShare()),
            "SIMD level in use: \(SIMDLevel.chosen.rawValue) (TFS_SIMD=baseline|avx2|avx512 forces one; this CPU runs up to \(SIMDLevel.supported.rawValue))",
            "", "| pass | threads | " + names.map { "\($0) ms" }.joined(separator: " | ") + " |",
            "|---|---|" + String(repeating: "---|", count: names.count),
        ]
        lines += try timings(try [plans(skipTiles: false, kernel: .blas)] + kernels.map { try plans(skipTiles: true, kernel: $0) },
                             label: { pass, threads in "\(pass) | \(threads)" })
        lines += ["", "The training bench's attention (`tfs bench --transfusion`): rows of 128 positions (text:48 image:8x8 text:14,",
                  "BOI and EOI included), mask (causal | same_image) per row, q, k, v in the projections' [B, T, H·D] layout",
                  "(read in place); batch × heads × head size as in its dim-256 (16 × 8 × 32) and dim-512 (8 × 16 × 32) models,",
                  "and the dim-256 width cut into heads of 64 and 128.", ""]
        lines += try stepShapes()
        return lines.joined(separator: "\n")
    }

    /// Forward and forward+backward of the training step's attention per kernel, from q, k, v
    /// in the projections' layout to the output in that layout.
    func stepShapes() throws -> [String] {
        let layout = try SequenceLayout(parsing: "text:48 image:8x8 text:14")
        let row = MaskMatrix(.transfusion, layout).tensorData.values
        var lines = ["| batch × heads × head size | pass | threads | " + kernels.map { "\($0) ms" }.joined(separator: " | ") + " |",
                     "|---|---|---|" + String(repeating: "---|", count: kernels.count)]
        for (batch, heads, size) in [(16, 8, 32), (8, 16, 32), (16, 4, 64), (16, 2, 128)] {
            var rng = RNG(seed: 2)
            let width = heads * size
            func p() -> Tensor { .parameter(TensorData(shape: [batch, 128, width], values: rng.normal(batch * 128 * width))) }
            let (q, k, v) = (p(), p(), p())
            let mask = Tensor.constant(TensorData(shape: [batch, 128, 128], values: Array([[Float]](repeating: row, count: batch).joined())))
            let plans = try kernels.map { kernel in
                let out = try Tensor.attention(q, k, v, mask: mask, heads: heads, kernel: kernel)
                let loss = try out.square().sum()
                return (forward: try Plan([out.node]), both: try Plan([loss.node] + (try loss.gradients(wrt: [q, k, v])).map(\.node)))
            }
            lines += try timings(plans, label: { pass, threads in "\(batch) × \(heads) × \(size) | \(pass) | \(threads)" })
        }
        return lines
    }

    /// One table row per pass and thread count: each plan's median ms, the plans alternated
    /// (three rounds) to even out drift.
    func timings(_ plans: [(forward: Plan, both: Plan)], label: (String, Int) -> String) throws -> [String] {
        var lines: [String] = []
        let suite = BenchSuite(size: 0)
        for threads in [1, 2] {
            BLAS.setThreads(threads)
            for pass in ["forward", "forward + backward"] {
                var total = [Double](repeating: 0, count: plans.count)
                for _ in 0..<3 {
                    for (i, plan) in plans.enumerated() {
                        let chosen = pass == "forward" ? plan.forward : plan.both
                        total[i] += suite.time { try! chosen.run() }
                    }
                }
                lines.append("| \(label(pass, threads)) | " + total.map { String(format: "%.2f", $0 * 1e3 / 3) }.joined(separator: " | ") + " |")
            }
        }
        return lines
    }
}
