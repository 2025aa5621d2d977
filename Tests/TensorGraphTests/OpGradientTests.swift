import Testing
@testable import TensorGraph

/// Every op's gradient against central finite differences (see GradCheck for the tolerance).
@Suite struct OpGradientTests {
    func check(_ shapes: [[Int]], positive: Bool = false, seed: UInt64 = 1,
               _ f: ([Tensor]) throws -> Tensor) throws {
        let inputs = shapes.enumerated().map { i, s in
            positive ? GradCheck.random(s, seed: seed + UInt64(i), scale: 0.3, offset: 1.5)
                     : GradCheck.random(s, seed: seed + UInt64(i))
        }
        let err = try GradCheck.error(inputs: inputs, f)
        #expect(err < GradCheck.tolerance)
    }

    @Test(arguments: Unary.Kind.allCases.filter { ![.geluGrad, .step, .sign].contains($0) })
    func unary(_ kind: Unary.Kind) throws {
        let positive = [.log, .sqrt, .rsqrt].contains(kind)
        try check([[3, 4]], positive: positive) { try $0[0].unary(kind) }
    }

    @Test(arguments: [Binary.Kind.maximum, .minimum])
    func maxMinAwayFromTies(_ kind: Binary.Kind) throws {
        // max/min have a kink where the operands tie: keep every pair ≥ 5h apart.
        var rng = RNG(seed: 3)
        let a = TensorData(shape: [2, 3, 4], values: (0..<24).map { _ in Float(rng.int(20)) * 0.1 + 0.05 })
        let b = TensorData(shape: [3, 1], values: [0.3, 1.0, 1.5])
        #expect(try GradCheck.error(inputs: [a, b]) { try $0[0].binary(kind, $0[1]) } < GradCheck.tolerance)
    }

    @Test(arguments: [Binary.Kind.add, .sub, .mul, .div])
    func binaryWithBroadcast(_ kind: Binary.Kind) throws {
        let positive = kind == .div
        try check([[2, 3, 4], [3, 1]], positive: positive) { try $0[0].binary(kind, $0[1]) }
        try check([[4], [2, 3, 4]], positive: positive) { try $0[0].binary(kind, $0[1]) }
    }

    @Test func power() throws {
        try check([[3, 4], [3, 4]], positive: true) { try $0[0].pow($0[1]) }
        try check([[5]], positive: true) { try $0[0].pow(2.5) }
    }

    @Test func select() throws {
        let cond = Tensor.constant(TensorData(shape: [3, 1], values: [1, 0, 1]))
        try check([[3, 4], [4]]) { try Tensor.select(cond, $0[0], $0[1]) }
    }

    @Test func reductions() throws {
        try check([[2, 3, 4]]) { try $0[0].sum(axes: [1]) }
        try check([[2, 3, 4]]) { try $0[0].sum(axes: [0, 2], keepDims: true) }
        try check([[2, 3, 4]]) { try $0[0].mean(axes: [-1]) }
        try check([[2, 3, 4]]) { try $0[0].max(axes: [1]) }
        try check([[2, 3, 4]]) { try $0[0].sum() }
    }

    /// A tensor split into slices that are all used: the gradient is the parts' gradients
    /// concatenated (no pads, no sums); slices that overlap or leave a gap still sum.
    @Test func splitGradientsConcatenate() throws {
        try check([[3, 7]]) { t in
            let x = t[0]
            return try x.slice(axis: 1, 0, 2).exp() + x.slice(axis: 1, 2, 4) * x.slice(axis: 1, 4, 6).sigmoid()
                + x.slice(axis: 1, 5, 7).square()
        }
        try check([[2, 6]]) { t in try t[0].slice(axis: 1, 0, 2).square().sum() + t[0].slice(axis: 1, 2, 6).exp().sum() }
        let x = Tensor.parameter(GradCheck.random([2, 6], seed: 4))
        let loss = try x.slice(axis: 1, 4, 6).square().sum() + x.slice(axis: 1, 0, 4).exp().sum()
        let g = try loss.gradients(wrt: [x])[0]
        #expect(g.node.op is Concat)
    }

    @Test func softmaxFamily() throws {
        try check([[3, 5]]) { try $0[0].softmax() }
        try check([[3, 5, 2]]) { try $0[0].softmax(axis: 1) }
        try check([[3, 5]]) { try $0[0].logSoftmax() }
    }

    @Test func shapeOps() throws {
        try check([[2, 3, 4]]) { try $0[0].reshape([6, 4]).square() }
        try check([[2, 3, 4]]) { try $0[0].permute([2, 0, 1]) }
        try check([[2, 5, 3]]) { try $0[0].slice(axis: 1, 1, 4) }
        try check([[2, 2, 3], [2, 4, 3]]) { try Tensor.concat([$0[0], $0[1]], axis: 1) }
        try check([[3, 1]]) { try $0[0].broadcast(to: [2, 3, 4]) }
    }

    @Test func gatherScatter() throws {
        let idx = Tensor.constant(TensorData(shape: [2, 3], values: [0, 4, 2, 4, 4, 1]))
        try check([[5, 3]]) { try $0[0].gather(idx) }
        // scatter_add (gather's gradient) has its own rule: rows 4 and 2 collect several values,
        // row 3 none.
        try check([[2, 3, 3]]) { try Tensor.make(ScatterAdd(rows: 5), [$0[0], idx]) }
        // So gradients of gradients go through gather: d/dtable of Σ w·(∂Σ(gather(table)²)/∂table).
        try check([[5, 3]]) { p in
            let inner = try (p[0].gather(idx).square()).sum()
            return try inner.gradients(wrt: [p[0]])[0]
        }
    }

    /// An op with a rule that refuses, and one whose rule gives the wrong number of gradients:
    /// autodiff throws an error located where the node was made, and never crashes or zeroes.
    struct Refuses: Operation {
        var wrongCount = false
        var label: String { wrongCount ? "miscounts" : "refuses" }
        func shape(_ s: [[Int]]) throws -> [Int] { s[0] }
        func run(_ k: Kernel) { k.output.update(from: k.input(0), count: k.node.count) }
        func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
            if wrongCount { return [g, g] }
            throw notDifferentiable(node, "a test op")
        }
    }

    @Test(arguments: [false, true])
    func aRuleThatFailsIsALocatedError(_ wrongCount: Bool) throws {
        let x = Tensor.parameter(TensorData(shape: [3], values: [1, 2, 3]))
        let span = SourceSpan(file: "rule.tfs", line: 4, column: 2, length: 5)
        let y = try BuildContext.with(span) { try Tensor.make(Refuses(wrongCount: wrongCount), [x]) }
        let error = #expect(throws: TensorGraphError.self) { try y.sum().gradients(wrt: [x]) }
        #expect(error?.span == span)
        #expect(error?.message.contains(wrongCount ? "miscounts gave 2 gradients for 1 inputs" : "refuses is not differentiable (a test op)") == true,
                "\(error?.message ?? "")")
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmul(_ t: (Bool, Bool)) throws {
        let a = t.0 ? [4, 3] : [3, 4], b = t.1 ? [5, 4] : [4, 5]
        try check([a, b]) { try $0[0].matmul($0[1], transA: t.0, transB: t.1) }
        try check([[2] + a, [2] + b]) { try $0[0].matmul($0[1], transA: t.0, transB: t.1) }
        try check([[2] + a, b]) { try $0[0].matmul($0[1], transA: t.0, transB: t.1) }
    }

    @Test func composedChain() throws {
        // A tiny attention-like block: fused elementwise, reductions and products together.
        try check([[4, 6], [6, 6], [6]]) { p in
            let h = try (p[0].matmul(p[1]) + p[2]).silu()
            return try h.softmax().matmul(p[1], transB: true).tanh()
        }
    }
}
