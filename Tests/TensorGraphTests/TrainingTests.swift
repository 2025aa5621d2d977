import Testing
import Foundation
import AllocCounter
@testable import TensorGraph

/// A two-layer MLP trained from one planned graph: forward, backward and the optimizer update
/// run many times with new batches, with nothing allocated per step.
@Suite struct TrainingTests {
    struct Problem {
        let x: Tensor, y: Tensor, loss: Tensor, params: [Tensor], plan: Plan
        var rng = RNG(seed: 11)

        init(batch: Int = 64, hidden: Int = 32) throws {
            x = Tensor.input("x", [batch, 2]); y = Tensor.input("y", [batch, 1])
            var draw = RNG(seed: 5)
            let w1 = Tensor.parameter(TensorData(shape: [2, hidden], values: draw.normal(2 * hidden).map { $0 * 0.7 }), name: "fc1.w")
            let b1 = Tensor.parameter(TensorData(shape: [hidden], repeating: 0), name: "fc1.b")
            let w2 = Tensor.parameter(TensorData(shape: [hidden, 1], values: draw.normal(hidden).map { $0 * 0.2 }), name: "fc2.w")
            let b2 = Tensor.parameter(TensorData(shape: [1], repeating: 0), name: "fc2.b")
            params = [w1, b1, w2, b2]
            let h = try (x.matmul(w1) + b1).tanh()
            loss = try (h.matmul(w2) + b2 - y).square().mean()
            let grads = try loss.gradients(wrt: params)
            plan = try Plan([loss.node] + grads.map(\.node))
        }

        /// A smooth target: y = sin(2·x0)·cos(x1).
        mutating func feed() {
            let xs = plan.buffer(x.node)!, ys = plan.buffer(y.node)!
            for i in 0..<ys.count {
                let a = rng.uniform() * 2 - 1, b = rng.uniform() * 2 - 1
                xs[2 * i] = a; xs[2 * i + 1] = b
                ys[i] = Float(sin(2 * Double(a)) * cos(Double(b)))
            }
        }
    }

    /// The promise is that tfs allocates nothing per step. OpenBLAS is another matter: on the
    /// SkylakeX and Cooperlake cores (AVX-512), 0.3.21's small-matrix sgemm kernels malloc a
    /// scratch buffer inside each call — this problem's products hit that path once a step.
    /// Allocations called from inside OpenBLAS are counted apart and must stay at most one per
    /// product; tfs's own must be zero, whichever core tfs picked.
    @Test func mlpReachesNearZeroLossWithoutAllocating() throws {
        var p = try Problem()
        let opt = AdamW(p.params.map { $0.node.storage! }, weightDecay: 0, clip: nil)
        let grads = (1...4).map { p.plan.outputBuffer($0) }
        p.feed(); try p.plan.run()
        let first = p.plan.scalar(0)
        let steps = 600
        // One task-local thread, so every allocation of a step happens on this thread and is counted.
        let (own, blas) = try Parallel.$limit.withValue(1) { () -> (Int64, Int64) in
            #expect(tfs_thread_attribute_library("cblas_sgemm") == 1, "OpenBLAS's code was not found")
            defer { tfs_thread_attribute_nothing() }
            let before = (tfs_thread_allocations(), tfs_thread_attributed_allocations())
            for _ in 0..<steps { p.feed(); try p.plan.run(); opt.step(grads, lr: 1e-2) }
            return (tfs_thread_allocations() - before.0, tfs_thread_attributed_allocations() - before.1)
        }
        var final: Float = 0
        for _ in 0..<20 { p.feed(); try p.plan.run(); final += p.plan.scalar(0) / 20 }
        #expect(own == 0, "tfs allocated \(own) times in \(steps) steps (OpenBLAS core \(BLAS.info.core))")
        let products = p.plan.order.filter { $0.op is MatMul }.count
        #expect(blas <= Int64(steps * products), "OpenBLAS allocated \(blas) times in \(steps) steps of \(products) products")
        #expect(first > 0.05)
        #expect(final < 2e-3, "loss went from \(first) to \(final)")
    }

    @Test func theCounterSeesAllocations() {
        // Guards the test above against a counter that never counts.
        let before = tfs_thread_allocations()
        let a = [Float](repeating: 1, count: 1000 + Int(before % 2))
        #expect(tfs_thread_allocations() - before >= 1)
        #expect(a.count >= 1000)
    }

    nonisolated(unsafe) static var sink = 0

    @Test func theCounterAttributesAllocationsToTheLibraryThatMadeThem() {
        // strdup is glibc's, and glibc calls malloc through its own PLT: the allocation is
        // attributed to glibc once glibc is named, and counted as the caller's own before.
        let source = strdup(CommandLine.arguments[0])!   // made before counting, opaque to the optimiser
        defer { free(source) }
        func duplicate() {
            let copy = strdup(source)
            Self.sink = copy.map { Int(bitPattern: $0) } ?? 0
            free(copy)
        }
        duplicate()   // once before counting: first calls may make the runtime allocate
        let plain = tfs_thread_allocations()
        duplicate()
        #expect(tfs_thread_allocations() - plain == 1)
        #expect(tfs_thread_attribute_library("strdup") == 1)
        defer { tfs_thread_attribute_nothing() }
        let own = tfs_thread_allocations(), attributed = tfs_thread_attributed_allocations()
        duplicate()
        #expect(tfs_thread_allocations() - own == 0)
        #expect(tfs_thread_attributed_allocations() - attributed == 1)
    }

    /// The gradient norm (summed in parallel chunks) against a plain Double sum, and clipping
    /// scaling an SGD step to the clip norm.
    @Test func gradientNormAndClipping() throws {
        var rng = RNG(seed: 5)
        let sizes = [3, 100_003, 70_000]
        var grads = sizes.map { rng.normal($0) }
        let want = grads.joined().reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let params = sizes.map { Storage(shape: [$0], values: [Float](repeating: 0, count: $0)) }
        let sgd = SGD(params, clip: 1)
        let norm = grads.withBuffers { sgd.step($0, lr: 1) }
        #expect(abs(Double(norm) - want) < 1e-6 * want)
        // Clipped to norm 1: the step moved the weights by g / ‖g‖.
        let moved = params.flatMap { p in (0..<p.count).map { Double(p.pointer[$0]) } }
        let length = moved.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(length - 1) < 1e-5)
        #expect(abs(moved[5] + Double(grads[1][2]) / want) < 1e-6)
    }

    @Test func adamWMatchesItsDefinitionOnOneParameter() throws {
        let w = Storage(shape: [2], values: [1, -2])
        let opt = AdamW([w], beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, clip: nil)
        var g: [Float] = [0.5, -1]
        g.withUnsafeMutableBufferPointer { buf in _ = opt.step([buf], lr: 0.1) }
        // After one step m̂ = g and v̂ = g², so each weight moves by lr·sign(g).
        #expect(abs(w.pointer[0] - 0.9) < 1e-6 && abs(w.pointer[1] + 1.9) < 1e-6)
    }

    /// A NaN or infinite gradient changes nothing: not the weights, the moments or the step
    /// count (it would poison them for good); its norm is returned for the caller to report.
    @Test func adamWAppliesNothingOnANonFiniteGradient() throws {
        for bad in [Float.nan, .infinity] {
            let w = Storage(shape: [2, 2], values: [1, -2, 3, 4])
            let opt = AdamW([w], clip: 1.0)
            var g: [Float] = [0.5, -1, 0.25, 2]
            g.withUnsafeMutableBufferPointer { buf in _ = opt.step([buf], lr: 0.1) }
            let before = (w.data, opt.m[0].data, opt.v[0].data)
            var poisoned: [Float] = [0.5, bad, 0.25, 2]
            let norm = poisoned.withUnsafeMutableBufferPointer { buf in opt.step([buf], lr: 0.1) }
            #expect(!norm.isFinite)
            #expect(w.data == before.0 && opt.m[0].data == before.1 && opt.v[0].data == before.2)
            #expect(opt.steps == 1)
        }
    }

    /// Eight lanes at a time and a zero-padded tail give exactly the plain per-weight loop, with
    /// decay (rank-2 weights only), clipping and bias correction over several steps; one tensor
    /// spans several chunks of the parallel loop.
    @Test func adamWMatchesAPlainLoopOnEveryLengthAndStep() throws {
        var rng = RNG(seed: 3)
        let shapes = [[3, 7], [8], [1, 5], [2, 17], [300, 250]]
        let params = shapes.map { Storage(shape: $0, values: rng.normal(Shape.count($0))) }
        var want = params.map { Array(UnsafeBufferPointer(start: $0.pointer, count: $0.count)) }
        var m = want.map { [Float](repeating: 0, count: $0.count) }, v = m
        let opt = AdamW(params, weightDecay: 0.1, clip: 1.0)
        for step in 1...4 {
            var grads = shapes.map { rng.normal(Shape.count($0)).map { $0 * 3 } }
            let (norm, scale) = grads.withBuffers { clipFactor($0, chunks: ParameterChunks(counts: shapes.map(Shape.count)), maxNorm: 1.0) }
            let exact = grads.joined().reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(Double(norm) - exact) <= 1e-6 * exact)
            grads.withBuffers { _ = opt.step($0, lr: 0.01) }
            let c1 = 1 - pow(Float(0.9), Float(step)), c2 = 1 - pow(Float(0.95), Float(step))
            for j in shapes.indices {
                let decay: Float = shapes[j].count >= 2 ? 1 - 0.01 * 0.1 : 1
                for i in want[j].indices {
                    let gi = grads[j][i] * scale
                    m[j][i] = 0.9 * m[j][i] + (1 - 0.9) * gi
                    v[j][i] = 0.95 * v[j][i] + (1 - 0.95) * gi * gi
                    let (stepSize, rootC2) = (0.01 / c1, 1 / c2.squareRoot())
                    want[j][i] = want[j][i] * decay - stepSize * m[j][i] / (v[j][i].squareRoot() * rootC2 + 1e-8)
                }
                #expect(Array(UnsafeBufferPointer(start: params[j].pointer, count: params[j].count)) == want[j], "step \(step), parameter \(j)")
            }
        }
    }
}

@Suite struct AdamWThreadsTests {
    /// The same weights, moments and norm on one thread and on all (fixed chunks of all tensors).
    @Test func adamWIsBitIdenticalAcrossThreads() throws {
        func run(threads: Int?) -> ([[Float]], [Float]) {
            Parallel.$limit.withValue(threads) {
                var rng = RNG(seed: 5)
                let shapes = [[200, 700], [64], [3, 9000]]
                let params = shapes.map { Storage(shape: $0, values: rng.normal(Shape.count($0))) }
                let opt = AdamW(params)
                var norms: [Float] = []
                for _ in 0..<3 {
                    var grads = shapes.map { rng.normal(Shape.count($0)) }
                    norms.append(grads.withBuffers { opt.step($0, lr: 0.01) })
                }
                return (params.map(\.data.values) + opt.m.map(\.data.values) + opt.v.map(\.data.values), norms)
            }
        }
        let one = run(threads: 1), many = run(threads: nil)
        #expect(one.0 == many.0 && one.1 == many.1)
    }
}

extension Array where Element == [Float] {
    /// The arrays as mutable buffers, valid inside `body`.
    mutating func withBuffers<R>(_ body: ([UnsafeMutableBufferPointer<Float>]) -> R) -> R {
        var buffers: [UnsafeMutableBufferPointer<Float>] = []
        for i in indices {
            let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: self[i].count)
            _ = p.initialize(from: self[i]); buffers.append(p)
        }
        defer { buffers.forEach { $0.deallocate() } }
        return body(buffers)
    }
}
