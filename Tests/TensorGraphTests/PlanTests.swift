import Testing
import Foundation
import TensorGraph

@Suite struct PlanTests {
    /// Sums and maxima over every pattern of axes (contiguous, around the kept axes, scattered)
    /// against a naive walk over the input.
    @Test(arguments: [[1], [0, 1], [2, 3], [0, 2, 3], [0, 3], [1, 3], [0, 1, 3], [0, 2]])
    func reductionsMatchANaiveWalk(_ axes: [Int]) throws {
        let shape = [3, 4, 5, 6]
        let x = GradCheck.random(shape, seed: 7)
        let kept = shape.indices.filter { !axes.contains($0) }
        let outCount = kept.map { shape[$0] }.reduce(1, *)
        var sums = [Double](repeating: 0, count: outCount), maxima = [Float](repeating: -.infinity, count: outCount)
        for i in 0..<x.count {
            var rest = i, index = [Int](repeating: 0, count: 4)
            for a in (0..<4).reversed() { index[a] = rest % shape[a]; rest /= shape[a] }
            let o = kept.reduce(0) { $0 * shape[$1] + index[$1] }
            sums[o] += Double(x.values[i]); maxima[o] = max(maxima[o], x.values[i])
        }
        let t = Tensor.constant(x)
        let sum = try t.sum(axes: axes).realize(), largest = try t.max(axes: axes).realize()
        for o in 0..<outCount {
            #expect(abs(Double(sum.values[o]) - sums[o]) < 1e-5 * (1 + abs(sums[o])))
            #expect(largest.values[o] == maxima[o])
        }
    }

    func randomParam(_ shape: [Int], _ seed: UInt64) -> Tensor {
        Tensor.parameter(GradCheck.random(shape, seed: seed))
    }

    @Test func lazyUntilObserved() throws {
        let x = Tensor.input("x", [2, 2])
        let y = try (x * 2 + 1).exp()
        #expect(y.shape == [2, 2])  // built, nothing computed: x has no value yet
        let out = try y.realize([x.node: TensorData(shape: [2, 2], values: [0, 1, 2, 3])])
        for (v, e) in zip(out.values, [0, 1, 2, 3].map { Float($0) * 2 + 1 }) {
            #expect(abs(v - Foundation.exp(e)) < 1e-3 * Foundation.exp(e))
        }
    }

    @Test func shapeErrorsNameOpsAndShapes() throws {
        let a = Tensor.full([2, 3], 1), b = Tensor.full([4, 5], 1)
        #expect(throws: TensorGraphError.self) { try a + b }
        do { _ = try a.matmul(b); Issue.record("expected an error") } catch let e as TensorGraphError {
            #expect(e.message.contains("matmul") && e.message.contains("[2, 3]") && e.message.contains("[4, 5]"))
        }
    }

    @Test func errorsCarryTheBuildSpan() throws {
        let span = SourceSpan(file: "t.tfs", line: 3, column: 7, length: 5)
        do {
            _ = try BuildContext.with(span) { try Tensor.full([2], 1) + Tensor.full([3], 1) }
            Issue.record("expected an error")
        } catch let e as TensorGraphError { #expect(e.span == span) }
    }

    @Test func identicalNodesAreShared() throws {
        let x = Tensor.input("x", [3])
        let a = try x.exp() + 1, b = try x.exp() + 1
        #expect(a.node === b.node)
    }

    @Test func fusionMakesOneKernelOfAnElementwiseChain() throws {
        let x = Tensor.input("x", [1000])
        let y = try ((x * 2 + 1).tanh() * x).sigmoid()
        let fused = try Plan([y.node]), unfused = try Plan([y.node], fuse: false)
        #expect(fused.steps.count == 1)
        #expect(unfused.steps.count == 5)
        let feed = TensorData(shape: [1000], values: (0..<1000).map { Float($0) / 500 - 1 })
        #expect(try fused.run([x.node: feed]) == unfused.run([x.node: feed]))
        #expect(fused.peakBytes < unfused.peakBytes)
    }

    @Test func buffersAreReusedByLifetime() throws {
        // A long chain of products: only two intermediates are alive at a time.
        let w = randomParam([64, 64], 3)
        var h = Tensor.input("x", [64, 64])
        for _ in 0..<10 { h = try h.matmul(w) }
        let plan = try Plan([h.node])
        #expect(plan.steps.count == 10)
        #expect(plan.peakBytes <= 3 * 64 * 64 * 4)
    }

    @Test func resultsDoNotDependOnThreadCount() throws {
        let x = randomParam([64, 300], 5), w = randomParam([300, 257], 6)
        let y = try (x.matmul(w).softmax() * 3).sum(axes: [0]).log()
        let loss = try y.sum()
        let g = try loss.gradients(wrt: [x, w])
        var results: [[TensorData]] = []
        for t in [1, 2] {
            let plan = try Plan([loss.node] + g.map(\.node))
            results.append(try Parallel.$limit.withValue(t) { try plan.run([:]) })
        }
        #expect(results[0] == results[1])
    }

    /// Sums run as one kernel, products (beta = 1) and RMSNorm's dx accumulating into the sum:
    /// a residual add, a sum of three products alone, a batched product among other terms, the
    /// gradient of a residual stream through RMSNorm. A product used elsewhere too, in a group
    /// with other ops, or broadcast into the sum, stays a kernel of its own. Against the
    /// unfused plan (kernel, then add), and the same bits on one thread and on all.
    @Test func sumsAccumulateIntoTheirTermsKernels() throws {
        let x = randomParam([256, 64], 50), h = randomParam([256, 96], 51), w = randomParam([96, 64], 52)
        let g = [randomParam([256, 48], 53), randomParam([256, 48], 54), randomParam([256, 48], 55)]
        let v = [randomParam([48, 64], 56), randomParam([48, 64], 57), randomParam([48, 64], 58)]
        let ba = randomParam([4, 64, 32], 59), bb = randomParam([4, 32, 64], 60), bx = randomParam([4, 64, 64], 61)
        let residual = try x + h.matmul(w)
        let three = try g[0].matmul(v[0]) + g[1].matmul(v[1]) + g[2].matmul(v[2])
        let batched = try bx + ba.matmul(bb) + randomParam([4, 64, 64], 62)
        let p = try h.matmul(randomParam([96, 64], 66)), q = try x.matmul(randomParam([64, 64], 63))
        let usedTwice = try x + p + p
        let notOnlyAdds = try x + q.exp() + x.matmul(randomParam([64, 64], 64))
        let broadcast = try x.matmul(randomParam([64, 1], 65)) + x
        let stream = randomParam([100, 37], 67)   // 37: rows with a tail of 5
        let normed = try stream.rmsNorm(weight: randomParam([37], 68))
        // The residual stream's gradient: what flows past the block plus RMSNorm's dx.
        let dx = try Autodiff.gradients(of: normed.node, wrt: [stream.node], seed: randomParam([100, 37], 69).node)[0]
        let streamGradient = try randomParam([100, 37], 70) + Tensor(dx)
        let outputs = [residual, three, batched, usedTwice, notOnlyAdds, broadcast, streamGradient].map(\.node)
        let plan = try Plan(outputs)
        let sums = plan.steps.filter { $0.members.count > 1 && $0.members.contains { !($0.op is any Elementwise) } }
        #expect(sums.map { $0.members.filter { !($0.op is any Elementwise) }.map(\.op.label) }.sorted { $0.count < $1.count }
                == [["matmul"], ["matmul"], ["rms_norm_dx"], ["matmul", "matmul", "matmul"]])
        let reference = try Plan(outputs, fuse: false).run([:])
        for (got, want) in zip(try plan.run([:]), reference) {
            #expect(zip(got.values, want.values).allSatisfy { Swift.abs($0 - $1) <= 1e-5 * (1 + Swift.abs($1)) })
        }
        let one = try Parallel.$limit.withValue(1) { try plan.run([:]) }
        let many = try Parallel.$limit.withValue(nil) { try plan.run([:]) }
        #expect(one == many)
    }

    /// A slice along the first axis is a view at an offset into its input (no kernel), also
    /// of a view and of a fed input; the values are the naive copy's, and other axes still copy.
    @Test func firstAxisSlicesAreViewsAtOffsets() throws {
        let x = Tensor.input("x", [5, 3, 4])
        let data = GradCheck.random([5, 3, 4], seed: 40)
        let h = try x * 2
        let parts = [try x.slice(axis: 0, 2, 4), try h.slice(axis: 0, 1, 5).slice(axis: 0, 2, 3),
                     try h.reshape([15, 4]).slice(axis: 0, 7, 11), try h.slice(axis: 1, 1, 3)]
        let plan = try Plan(parts.map(\.node))
        #expect(plan.steps.filter { $0.node.op is Slice }.count == 1)   // only the axis-1 slice
        let out = try plan.run([x.node: data])
        let e = data.values.map { $0 * 2 }
        #expect(out[0].values == Array(data.values[24..<48]))
        #expect(out[1].values == Array(e[36..<48]))
        #expect(out[2].values == Array(e[28..<44]))
        var rows: [Float] = []
        for i in 0..<5 { rows += e[(i * 12 + 4)..<(i * 12 + 12)] }
        #expect(out[3].values == rows)
    }

    @Test func aValueFedOnceServesEveryRun() throws {
        // Intermediates must never reuse an input's buffer: the input is not fed again.
        let x = Tensor.input("x", [1, 256])
        var h = x
        for _ in 0..<6 { h = try h.matmul(Tensor.full([256, 256], 0.001)) + 1 }
        let y = try h.exp().sum() + x.sum()
        let plan = try Plan([y.node])
        try plan.set(x.node, TensorData(shape: [1, 256], values: (0..<256).map { Float($0) / 256 }))
        try plan.run(); let first = plan.scalar(0)
        try plan.run(); try plan.run()
        #expect(plan.scalar(0) == first)
    }

    @Test func missingInputIsAnError() throws {
        let x = Tensor.input("x", [2])
        #expect(throws: TensorGraphError.self) { try (x + 1).realize() }
    }

    @Test func gatherOutOfRangeThrowsInsteadOfCrashing() throws {
        let table = Tensor.full([4, 2], 1)
        let idx = Tensor.constant(TensorData(shape: [2], values: [1, 9]))
        #expect(throws: TensorGraphError.self) { try table.gather(idx).realize() }
    }
}
