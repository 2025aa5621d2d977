import Foundation
import Testing
@testable import TensorGraph

/// The transformer's one-pass ops — RMSNorm, head layout with RoPE, SwiGLU — against the same
/// computations composed from primitives, and their gradients against finite differences.
@Suite struct TransformerOpsTests {
    typealias T = NNOpsTests

    /// RoPE as the model wrote it before the op: slices, a negation, a concatenation.
    static func composedRope(_ v: Tensor, cos: Tensor, sin: Tensor) throws -> Tensor {
        let half = v.shape[3] / 2
        let rotated = try Tensor.concat([-v.slice(axis: 3, half, 2 * half), v.slice(axis: 3, 0, half)], axis: 3)
        return try v * cos + rotated * sin
    }

    static func maxDifference(_ a: Tensor, _ b: Tensor) throws -> Float {
        let (x, y) = (try a.realize(), try b.realize())
        #expect(x.shape == y.shape)
        return zip(x.values, y.values).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    @Test(arguments: [true, false])
    func splitHeadsWithRopeMatchesPermuteAndComposedRope(batchedTables: Bool) throws {
        let (b, t, h, d) = (2, 5, 3, 6)
        let x = Tensor.constant(T.rand([b, t, h * d], 1))
        let tableShape = [batchedTables ? b : 1, 1, t, d]
        let cos = Tensor.constant(T.rand(tableShape, 2)), sin = Tensor.constant(T.rand(tableShape, 3))
        let permuted = try x.reshape([b, t, h, d]).permute([0, 2, 1, 3])
        #expect(try Self.maxDifference(x.splitHeads(h), permuted) == 0)
        #expect(try Self.maxDifference(x.splitHeads(h, rope: (cos, sin)), Self.composedRope(permuted, cos: cos, sin: sin)) < 1e-6)
        #expect(try Self.maxDifference(permuted.mergeHeads(), x) == 0)
    }

    @Test func headLayoutGradients() throws {
        let (b, t, h, d) = (2, 3, 2, 4)
        let cos = Tensor.constant(T.rand([b, 1, t, d], 4)), sin = Tensor.constant(T.rand([b, 1, t, d], 5))
        try T.gradCheck([T.rand([b, t, h * d], 6)]) { try $0[0].splitHeads(h, rope: (cos, sin)) }
        try T.gradCheck([T.rand([b, t, h * d], 7)]) { try $0[0].splitHeads(h) }
        try T.gradCheck([T.rand([b, h, t, d], 8)]) { try $0[0].mergeHeads() }
        // The transposed rotation's own gradient (a gradient of a gradient).
        try T.gradCheck([T.rand([b, t, h * d], 9)]) { x in
            let y = try x[0].splitHeads(h, rope: (cos, sin))
            let w = Tensor.constant(T.rand(y.shape, 10))
            return try (y * y * w).sum().gradients(wrt: [x[0]])[0]
        }
    }

    @Test func headLayoutShapeErrors() throws {
        let x = Tensor.constant(T.rand([2, 3, 10], 11))
        #expect(throws: TensorGraphError.self) { try x.splitHeads(3) }
        #expect(throws: TensorGraphError.self) { try x.splitHeads(2, rope: (x, x)) }
        #expect(throws: TensorGraphError.self) { try x.mergeHeads() }
    }

    /// Rows across several weight-gradient chunks, a width that is not a multiple of 8.
    @Test func rmsNormMatchesComposedOnManyRows() throws {
        let x = Tensor.constant(T.rand([70, 13], 12, scale: 2)), w = Tensor.constant(T.rand([13], 13))
        #expect(try Self.maxDifference(x.rmsNorm(weight: w), x.rmsNormComposed(weight: w, eps: 1e-6)) < 1e-5)
        let g = Tensor.constant(T.rand([70, 13], 14))
        let op = try x.rmsNorm(weight: w), composed = try x.rmsNormComposed(weight: w, eps: 1e-6)
        let mine = try Autodiff.gradients(of: op.node, wrt: [x.node, w.node], seed: g.node)
        let reference = try Autodiff.gradients(of: composed.node, wrt: [x.node, w.node], seed: g.node)
        for (a, r) in zip(mine, reference) { #expect(try Self.maxDifference(Tensor(a), Tensor(r)) < 1e-4) }
    }

    @Test func rmsNormGradientsAndTheirGradients() throws {
        try T.gradCheck([T.rand([40, 9], 15), T.rand([9], 16)]) { try $0[0].rmsNorm(weight: $0[1]) }
        try T.gradCheck([T.rand([3, 9], 17), T.rand([9], 18)]) { p in
            let y = try p[0].rmsNorm(weight: p[1])
            let w = Tensor.constant(T.rand(y.shape, 19))
            let g = try (y * y * w).sum().gradients(wrt: [p[0], p[1]])
            return try g[0].sum(axes: [0]) * g[1]
        }
    }

    /// Attention's gradients have gradients too (through the composed formula), and the op
    /// agrees with that formula.
    @Test func attentionGradientsOfGradients() throws {
        let (b, h, t, d) = (1, 2, 5, 3)
        let mask = Tensor.constant(TensorData(shape: [b, t, t], values: NNOpsTests.causalWithBlock(t, 1..<3)))
        let (q, k, v) = (Tensor.constant(T.rand([b, h, t, d], 24)), Tensor.constant(T.rand([b, h, t, d], 25)), Tensor.constant(T.rand([b, h, t, d], 26)))
        #expect(try Self.maxDifference(Tensor.attention(q, k, v, mask: mask, scale: 0.8),
                                       Tensor.attentionComposed(q, k, v, mask: mask, scale: 0.8)) < 1e-5)
        try T.gradCheck([T.rand([b, h, t, d], 27), T.rand([b, h, t, d], 28), T.rand([b, h, t, d], 29)]) { p in
            let y = try Tensor.attention(p[0], p[1], p[2], mask: mask)
            let w = Tensor.constant(T.rand(y.shape, 30))
            let g = try (y * y * w).sum().gradients(wrt: p)
            return try g[0] + g[1] * 0.5 + g[2] * 0.25
        }
    }

    @Test func swigluMatchesSiluTimesUpWithBroadcasting() throws {
        let a = Tensor.constant(T.rand([4, 11], 20, scale: 3)), b = Tensor.constant(T.rand([11], 21))
        #expect(try Self.maxDifference(a.swiglu(b), a.silu() * b) < 1e-6)
        try T.gradCheck([T.rand([4, 11], 22, scale: 2), T.rand([11], 23)]) { try $0[0].swiglu($0[1]) }
    }

    /// Same shapes take the one-pass backward (SwiGLUBackward): the same bits as the composed
    /// rule it replaces, on one thread and on all; 3·37·29 values leave a tail of 3 and are
    /// enough to split across threads.
    @Test func swigluBackwardKernelIsBitIdenticalToComposedRule() throws {
        let shape = [3, 37, 29]
        let a = Tensor.parameter(T.rand(shape, 24, scale: 4)), b = Tensor.parameter(T.rand(shape, 25))
        let w = Tensor.constant(T.rand(shape, 26))
        let y = try a.swiglu(b)
        let grads = try (y * w).sum().gradients(wrt: [a, b])
        let composed = [try w * b * a.unary(.siluGrad), try w * a.silu()]   // y's upstream gradient is w
        func values(threads: Int?) throws -> [[Float]] {
            try Parallel.$limit.withValue(threads) {
                let plan = try Plan((grads + composed).map(\.node))
                #expect(plan.steps.contains { $0.node.op is SwiGLUBackward })
                #expect(!plan.steps.contains { $0.node.op is Slice })   // the halves are views
                try plan.run()
                return plan.outputs.indices.map { plan.output($0).values }
            }
        }
        let one = try values(threads: 1), many = try values(threads: nil)
        #expect(one == many)
        #expect(one[0] == one[2])
        #expect(one[1] == one[3])
    }

    /// The one-pass backward's gradients by finite differences, first and second order.
    @Test func swigluGradientsOfSameShapes() throws {
        try T.gradCheck([T.rand([5, 13], 31, scale: 3), T.rand([5, 13], 32)]) { try $0[0].swiglu($0[1]) }
        try T.gradCheck([T.rand([5, 13], 33, scale: 3), T.rand([5, 13], 34)]) { p in
            let y = try p[0].swiglu(p[1])
            let w = Tensor.constant(T.rand(y.shape, 35))
            let g = try (y * y * w).sum().gradients(wrt: p)
            return try g[0] + g[1] * 0.5
        }
    }
}
