import Foundation
import Testing
import TensorGraph
@testable import Transfusion

/// The block mask: built once per layout by the feeder (and per step by the step plans), then
/// consumed by every attention run, head and layer — and the same bits as classifying the mask
/// in each run.
@Suite struct BlockMaskTests {
    /// The tile classes of a dense mask, the obvious way: any and all over each tile's entries.
    static func naiveClasses(_ m: MaskMatrix, rows: Int, cols: Int) -> [Float] {
        var out: [Float] = []
        for i in stride(from: 0, to: m.count, by: rows) {
            for j in stride(from: 0, to: m.count, by: cols) {
                let entries = (i..<min(m.count, i + rows)).flatMap { q in (j..<min(m.count, j + cols)).map { m[q, $0] } }
                out.append(entries.allSatisfy { $0 } ? 2 : entries.contains(true) ? 1 : 0)
            }
        }
        return out
    }

    @Test func classesMatchANaiveTiling() throws {
        for spec in ["text:5 image:2x2 text:3", "text:40 image:8x8 text:30 image:10x10 text:20", "image:16x16 / text:70"] {
            let layout = try SequenceLayout(parsing: spec)
            for mask in [Mask.transfusion, .causal & .sameDocument, .window(40), ~Mask.sameImage] {
                let m = MaskMatrix(mask, layout), n = layout.count
                let classes = m.tensorData.values.withUnsafeBufferPointer { BlockMask.classes($0, queries: n, keys: n) }
                #expect(classes == Self.naiveClasses(m, rows: min(32, n), cols: 64), "\(mask) on \(spec)")
                #expect(BlockMask.shape(queries: n, keys: n) == [(n + min(32, n) - 1) / min(32, n), (n + 63) / 64])
            }
        }
    }

    @Test func attentionWithTheBlockMaskGivesTheSameBitsAsClassifyingEachRun() throws {
        let layouts = try ["text:40 image:8x8 text:30 image:10x10 text:20", "image:9 text:70 image:4x4 text:50 / text:109"].map(SequenceLayout.init(parsing:))
        let n = layouts[0].count, (b, h, d) = (2, 3, 8)
        #expect(layouts[1].count == n)
        let masks = LayoutMasks(.transfusion & .sameDocument)
        let dense = Tensor.constant(TensorData(shape: [b, n, n], values: try layouts.flatMap { (try masks.entry($0)).dense }))
        let blocks = Tensor.constant(TensorData(shape: [b] + BlockMask.shape(queries: n, keys: n), values: try layouts.flatMap { (try masks.entry($0)).blocks }))
        func run(_ blocks: Tensor?) throws -> [TensorData] {
            var rng = RNG(seed: 5)
            func param() -> Tensor { .parameter(TensorData(shape: [b, h, n, d], values: rng.normal(b * h * n * d))) }
            let (q, k, v) = (param(), param(), param())
            let out = try Tensor.attention(q, k, v, mask: dense, blocks: blocks)
            let loss = try (out * Tensor.constant(TensorData(shape: out.shape, values: rng.normal(out.count)))).sum()
            return try Plan([out.node] + (try loss.gradients(wrt: [q, k, v])).map(\.node)).run([:])
        }
        #expect(try run(blocks) == run(nil))
    }

    /// Many attention runs over one batch's layouts (3 layers × 4 heads, forward and backward,
    /// five runs) classify each layout's tiles once: when the feeder evaluates the layout.
    @Test func aLayoutsTileMapIsBuiltOnceForAllRunsHeadsAndLayers() throws {
        var o = Trainer.Options()
        o.batch = 2; o.length = 64; o.steps = 1; o.lr = .constant(1e-3)
        let model = TransfusionModel(ModelConfig(dim: 32, layers: 3, heads: 4, patchSize: 48, timeFeatures: 16), seed: 1)
        let trainer = try Trainer(model: model, data: Shapes(side: 16), options: o)
        let counter = BlockMask.Classifications()
        try BlockMask.$classifications.withValue(counter) {
            try trainer.feedBatch()
            let built = counter.count
            #expect(built >= 1 && built <= 2 && built == trainer.feeder.masks.builds)
            for _ in 0..<5 { try trainer.plan.run() }
            #expect(counter.count == built)
        }
        // Without a block mask, attention classifies in every run (what the counter would show).
        let plain = BlockMask.Classifications()
        let x = Tensor.constant(TensorData(shape: [1, 2, 8, 4], values: (0..<64).map { Float($0 % 7) }))
        let plan = try Plan([try Tensor.attention(x, x, x, mask: .constant(MaskMatrix(.causal, try SequenceLayout(parsing: "text:8")).tensorData)).node])
        try BlockMask.$classifications.withValue(plain) { for _ in 0..<3 { _ = try plan.run([:]) } }
        #expect(plain.count == 3)
    }

    @Test func aLayoutMetAgainIsNotEvaluatedAgain() throws {
        let masks = LayoutMasks(.transfusion, capacity: 2)
        let a = try SequenceLayout(parsing: "text:5 image:2x2"), b = try SequenceLayout(parsing: "text:9"), c = try SequenceLayout(parsing: "image:9")
        for layout in [a, b, a, b, a] { _ = try masks.entry(layout) }
        #expect(masks.builds == 2)
        #expect((try masks.entry(a)).dense == MaskMatrix(.transfusion, a).tensorData.values)
        _ = try masks.entry(c)   // past capacity: the cache starts over
        _ = try masks.entry(a)
        #expect(masks.builds == 4)
        let small = LayoutMasks(.causal, maxValues: 100)   // 81 values fit, 81 more do not
        for layout in [b, b, c, b] { _ = try small.entry(layout) }
        #expect(small.builds == 3)
    }
}
