import Foundation
import Testing
import TensorGraph
@testable import Transfusion

/// Attention with the Transfusion mask: skipping the tiles the mask removes must not change a
/// single bit of the output or the gradients, and the result must match a naive computation.
@Suite struct MaskedAttentionTests {
    func run(layout: SequenceLayout, skip: Bool) throws -> [TensorData] {
        let n = layout.count, (b, h, d) = (1, 2, 16)
        var rng = RNG(seed: 9)
        func param() -> Tensor { .parameter(TensorData(shape: [b, h, n, d], values: rng.normal(b * h * n * d))) }
        let (q, k, v) = (param(), param(), param())
        let mask = Tensor.constant(MaskMatrix(.transfusion, layout).tensorData)
        let out = try Tensor.attention(q, k, v, mask: mask, skipTiles: skip)
        let weights = Tensor.constant(TensorData(shape: out.shape, values: rng.normal(out.count)))
        let loss = try (out * weights).sum()
        let grads = try loss.gradients(wrt: [q, k, v])
        return try Plan([out.node] + grads.map(\.node)).run([:])
    }

    @Test func skippingTilesChangesNothing() throws {
        let layout = try SequenceLayout(parsing: "text:40 image:8x8 text:30 image:10x10 text:20")
        let m = MaskMatrix(.transfusion, layout)
        #expect(m.skippedShare() > 0.2)  // the layout really has empty tiles
        let tiled = try run(layout: layout, skip: true), dense = try run(layout: layout, skip: false)
        #expect(tiled == dense)
    }

    @Test func matchesNaiveAttention() throws {
        let layout = try SequenceLayout(parsing: "image:9 text:70 image:4x4")
        let n = layout.count, d = 8
        var rng = RNG(seed: 3)
        let qv = rng.normal(n * d), kv = rng.normal(n * d), vv = rng.normal(n * d)
        let m = MaskMatrix(.transfusion, layout)
        let out = try Tensor.attention(.constant(TensorData(shape: [1, 1, n, d], values: qv)),
                                       .constant(TensorData(shape: [1, 1, n, d], values: kv)),
                                       .constant(TensorData(shape: [1, 1, n, d], values: vv)),
                                       mask: .constant(m.tensorData)).realize()
        let scale = 1 / Double(d).squareRoot()
        for i in 0..<n {
            var scores = (0..<n).map { j -> Double in
                m[i, j] ? (0..<d).reduce(0) { $0 + Double(qv[i * d + $1]) * Double(kv[j * d + $1]) } * scale : -.infinity
            }
            let top = scores.max()!
            scores = scores.map { Foundation.exp($0 - top) }
            let total = scores.reduce(0, +)
            for c in 0..<d {
                let expected = (0..<n).reduce(0.0) { $0 + scores[$1] / total * Double(vv[$1 * d + c]) }
                #expect(abs(Double(out.values[i * d + c]) - expected) < 1e-4)
            }
        }
    }
}
