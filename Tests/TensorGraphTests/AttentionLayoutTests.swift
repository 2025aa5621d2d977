import Foundation
import Testing
@testable import TensorGraph

/// Attention reading q, k, v in the projections' layout [B, T, H·D] (`heads:`) and RoPE in that
/// layout, against the head-major op with explicit head permutes and the naive reference.
@Suite struct AttentionLayoutTests {
    typealias T = NNOpsTests

    /// [B, T, H·D] data of a [B, H, T, D] tensor (the head permute, computed by hand).
    static func timeMajor(_ x: TensorData) -> TensorData {
        let (b, h, t, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var out = [Float](repeating: 0, count: x.values.count)
        for bi in 0..<b { for hi in 0..<h { for ti in 0..<t { for c in 0..<d {
            out[((bi * t + ti) * h + hi) * d + c] = x.values[((bi * h + hi) * t + ti) * d + c]
        }}}}
        return TensorData(shape: [b, t, h * d], values: out)
    }

    /// Several query and key tiles, T ≠ S, a per-batch mask with skipped, partial and full tiles.
    static func problem() -> (q: TensorData, k: TensorData, v: TensorData, mask: TensorData, h: Int) {
        let (b, h, t, s, d) = (2, 3, 70, 150, 8)
        var m = [Float](repeating: 0, count: b * t * s)
        for bi in 0..<b { for i in 0..<t { for j in 0..<s where j <= i + 60 * bi || j % 7 == 3 { m[(bi * t + i) * s + j] = 1 } } }
        return (T.rand([b, h, t, d], 90), T.rand([b, h, s, d], 91), T.rand([b, h, s, d], 92), TensorData(shape: [b, t, s], values: m), h)
    }

    @Test func inPlaceLayoutMatchesNaiveReference() throws {
        let p = Self.problem()
        let y = try Tensor.attention(.constant(Self.timeMajor(p.q)), .constant(Self.timeMajor(p.k)), .constant(Self.timeMajor(p.v)),
                                     mask: .constant(p.mask), heads: p.h).realize()
        let want = T.naiveAttention(p.q, p.k, p.v, mask: p.mask, scale: 1 / Double(p.q.shape[3]).squareRoot())
        let (b, h, t, d) = (p.q.shape[0], p.q.shape[1], p.q.shape[2], p.q.shape[3])
        let wantTimeMajor = Self.timeMajor(TensorData(shape: [b, h, t, d], values: want.map(Float.init)))
        T.expectClose(y, wantTimeMajor.values.map(Double.init), shape: [b, t, h * d])
    }

    /// The same products on the same numbers, only with the rows H·D apart: bit-identical to the
    /// head-major op between head permutes, forward and backward, on one thread and on all.
    @Test func inPlaceLayoutIsBitIdenticalToHeadMajorAcrossThreads() throws {
        let p = Self.problem()
        let q = Tensor.parameter(Self.timeMajor(p.q)), k = Tensor.parameter(Self.timeMajor(p.k)), v = Tensor.parameter(Self.timeMajor(p.v))
        let mask = Tensor.constant(p.mask), w = Tensor.constant(T.rand([2, 70, 24], 93))
        let inPlace = try Tensor.attention(q, k, v, mask: mask, heads: p.h)
        let permuted = try Tensor.attention(q.splitHeads(p.h), k.splitHeads(p.h), v.splitHeads(p.h), mask: mask).mergeHeads()
        let gradsInPlace = try (inPlace * w).sum().gradients(wrt: [q, k, v])
        let gradsPermuted = try (permuted * w).sum().gradients(wrt: [q, k, v])
        func values(threads: Int?) throws -> [[Float]] {
            try Parallel.$limit.withValue(threads) {
                let plan = try Plan([inPlace.node, permuted.node] + (gradsInPlace + gradsPermuted).map(\.node))
                try plan.run()
                return plan.outputs.indices.map { plan.output($0).values }
            }
        }
        let one = try values(threads: 1), many = try values(threads: nil)
        #expect(one == many)
        #expect(one[0] == one[1])
        for i in 0..<3 { #expect(one[2 + i] == one[5 + i]) }
    }

    @Test func inPlaceLayoutGradients() throws {
        let (b, h, t, s, d) = (2, 2, 35, 70, 3)
        var m = [Float](repeating: 0, count: t * s)
        for i in 0..<t { for j in 0..<s where j <= 2 * i || j % 5 == 0 { m[i * s + j] = 1 } }
        let mask = Tensor.constant(TensorData(shape: [t, s], values: m))
        try T.gradCheck([T.rand([b, t, h * d], 94), T.rand([b, s, h * d], 95), T.rand([b, s, h * d], 96)]) {
            try Tensor.attention($0[0], $0[1], $0[2], mask: mask, scale: 0.7, heads: h)
        }
    }

    @Test func ropeInPlaceMatchesSplitHeadsWithRope() throws {
        let (b, t, h, d) = (2, 5, 3, 6)
        let x = Tensor.constant(T.rand([b, t, h * d], 97))
        let cos = Tensor.constant(T.rand([1, 1, t, d], 98)), sin = Tensor.constant(T.rand([1, 1, t, d], 99))
        let inPlace = try x.rope(heads: h, cos: cos, sin: sin).realize()
        let split = try x.splitHeads(h, rope: (cos, sin)).mergeHeads().realize()
        #expect(inPlace.values == split.values)
        try T.gradCheck([T.rand([b, t, h * d], 100)]) { try $0[0].rope(heads: h, cos: cos, sin: sin) }
    }

    @Test func inPlaceLayoutShapeErrors() throws {
        let q = Tensor.constant(T.rand([1, 4, 6], 101))
        #expect(throws: TensorGraphError.self) { try Tensor.attention(q, q, q, mask: .full([4, 4], 1), heads: 4) }
        #expect(throws: TensorGraphError.self) { try Tensor.attention(q, Tensor.full([1, 4, 4], 1), q, mask: .full([4, 4], 1), heads: 2) }
        #expect(throws: TensorGraphError.self) { try Tensor.attention(q, q, q, mask: .full([4, 5], 1), heads: 2) }
        #expect(throws: TensorGraphError.self) { try q.rope(heads: 4, cos: .full([1, 1, 4, 1], 1), sin: .full([1, 1, 4, 1], 1)) }
        _ = try Tensor.attention(q, q, q, mask: .full([1, 4, 4], 1), heads: 2)
    }
}
