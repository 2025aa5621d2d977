import Foundation
import TensorGraph
import Transfusion

/// One Transfusion training step (forward, backward, AdamW) on the sequence shape of
/// docs/REFERENCE: 128 positions = 48 text tokens, BOI, 64 patches (4 values each), EOI, 14 text.
/// For 1 and 2 threads: ms per step, tokens/s, and model FLOP utilisation against sgemm
/// measured in the same run with the same threads (n = 1024, tfs's deterministic split). The
/// AdamW update's memory rate is set against a STREAM triad measured in the same run.
struct TransfusionBench {
    /// Every kernel by its members and shape, instead of the kernels grouped by kind.
    var detail = false

    func report() throws -> String {
        _ = BLAS.load()
        var lines = ["| model | batch | threads | ms/step | tokens/s | GFLOP/s | of sgemm | sgemm GFLOP/s | peak MB | parameters |",
                     "|---|---|---|---|---|---|---|---|---|---|"]
        var profiles: [String] = []
        for (dim, layers, batch) in [(128, 4, 16), (256, 6, 16), (512, 8, 8)] {
            let config = ModelConfig(dim: dim, layers: layers, heads: dim / 32, patchSize: 4, timeFeatures: 64)
            let step = try Step(config: config, batch: batch)
            for threads in [1, 2] {
                BLAS.setThreads(threads)
                let sgemm = Self.sgemmGFlops()
                let seconds = BenchSuite(size: 0).time { step.run() }
                let gflops = step.flops / seconds / 1e9
                lines.append(String(format: "| dim %d, %d layers | %d | %d | %.0f | %.0f | %.1f | %.0f%% | %.0f | %.0f | %.2f M |",
                                    dim, layers, batch, threads, seconds * 1e3, Double(batch * 128) / seconds, gflops,
                                    100 * gflops / sgemm, sgemm, Double(step.bytes) / 1e6, Double(step.model.parameters.count) / 1e6))
                if threads == 2 {
                    let triad = Self.triadGBs()
                    profiles += ["", "Where the dim-\(dim) step's time goes at 2 threads (kernels by kind, ms per step):", "",
                                 "| kernel | ms | calls |", "|---|---|---|"] + (try step.profile(detail: detail, triad: triad))
                }
            }
        }
        lines += profiles
        lines += ["", "FLOPs counted: 6 × (parameters in matrix products) × tokens, plus attention's 12 × layers × batch × T² × dim",
                  "(forward QKᵀ and PV, and twice that backward); the embedding lookup is not a product."]
        return lines.joined(separator: "\n")
    }

    /// The steps on one thread timed by the thread's CPU time, best of 5, against sgemm n = 1024
    /// timed the same way: time the thread spent running, which the other processes of a busy
    /// machine change little (wall-clock medians there drift by 2× and more).
    func cpuTimeReport() throws -> String {
        _ = BLAS.load()
        BLAS.setThreads(1)
        let n = 1024, suite = BenchSuite(size: n)
        let (a, b, c) = (suite.randomBuffer(n * n, 1), suite.randomBuffer(n * n, 2), suite.randomBuffer(n * n, 3))
        defer { for p in [a, b, c] { p.deallocate() } }
        let sgemm = 2 * Double(n * n * n) / Self.cpuSeconds {
            BLAS.product(transA: false, transB: false, m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: c, ldc: n)
        } / 1e9
        var lines = ["OpenBLAS core \(BLAS.load().core), 1 thread, thread CPU time (best of 5); sgemm n = 1024: \(String(format: "%.1f", sgemm)) GFLOP/s", "",
                     "| model | batch | CPU ms/step | GFLOP/s | of sgemm |", "|---|---|---|---|---|"]
        for (dim, layers, batch) in [(128, 4, 16), (256, 6, 16), (512, 8, 8)] {
            let config = ModelConfig(dim: dim, layers: layers, heads: dim / 32, patchSize: 4, timeFeatures: 64)
            let step = try Step(config: config, batch: batch)
            let seconds = Self.cpuSeconds { step.run() }
            let gflops = step.flops / seconds / 1e9
            lines.append(String(format: "| dim %d, %d layers | %d | %.0f | %.1f | %.0f%% |", dim, layers, batch, seconds * 1e3, gflops, 100 * gflops / sgemm))
        }
        return lines.joined(separator: "\n")
    }

    /// The least CPU time of the calling thread over 5 calls, after one warm-up call.
    static func cpuSeconds(_ body: () -> Void) -> Double {
        func now() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        body()
        var best = Double.infinity
        for _ in 0..<5 { let start = now(); body(); best = Swift.min(best, now() - start) }
        return best
    }

    /// sgemm n = 1024 through tfs's split at the current thread count.
    static func sgemmGFlops() -> Double {
        let n = 1024, suite = BenchSuite(size: n)
        let (a, b, c) = (suite.randomBuffer(n * n, 1), suite.randomBuffer(n * n, 2), suite.randomBuffer(n * n, 3))
        defer { for p in [a, b, c] { p.deallocate() } }
        let seconds = suite.time {
            BLAS.product(transA: false, transB: false, m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: c, ldc: n)
        }
        return 2 * Double(n * n * n) / seconds / 1e9
    }

    /// STREAM's triad a = b + s·c over three arrays of 16 M floats (far beyond the caches), in
    /// fixed chunks over the current threads: GB/s counting 12 bytes a value (two reads, one
    /// write), as STREAM does.
    static func triadGBs() -> Double {
        let n = 1 << 24, chunk = 1 << 15, suite = BenchSuite(size: 0)
        let (a, b, c) = (suite.randomBuffer(n, 4), suite.randomBuffer(n, 5), suite.randomBuffer(n, 6))
        defer { for p in [a, b, c] { p.deallocate() } }
        let seconds = suite.time {
            Parallel.chunks(n / chunk, work: 2 * n) { range in
                for piece in range {
                    let (x, y, z) = (a + piece * chunk, UnsafeRawPointer(b + piece * chunk), UnsafeRawPointer(c + piece * chunk))
                    for i in stride(from: 0, to: chunk, by: 8) {
                        let v = y.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                            + 3 * z.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(x + i).storeBytes(of: v, as: SIMD8<Float>.self)
                    }
                }
            }
        }
        return 12 * Double(n) / seconds / 1e9
    }

    /// A planned training step with its batch fed.
    struct Step {
        let model: TransfusionModel
        let plan: Plan
        let optimizer: AdamW
        let gradients: [UnsafeMutableBufferPointer<Float>]
        let flops: Double
        /// The plan's arena plus weights, gradients' optimizer moments (m, v).
        let bytes: Int

        init(config: ModelConfig, batch: Int) throws {
            model = TransfusionModel(config, seed: 0)
            var rng = RNG(seed: 1)
            let example: [Segment] = [.text(String(repeating: "a", count: 47)), .image(patches: 64), .text(String(repeating: "b", count: 12))]
            let rows = try Packer(length: 128).pack(Array(repeating: example, count: batch))
            let images = rows.map { _ in [rng.normal(64 * 4)] }
            let x = try BatchInputs(batch: batch, length: 128, config: config)
            let losses = try model.losses(x)
            let params = model.parameters.all
            plan = try Plan([losses.total.node] + (try losses.total.gradients(wrt: params)).map(\.node))
            optimizer = AdamW(params.map { $0.node.storage! })
            gradients = (0..<params.count).map { [plan] in plan.outputBuffer($0 + 1) }
            for (node, value) in try BatchFeeder(model: model).values(rows, images: images, inputs: x, rng: &rng) where plan.buffer(node) != nil {
                try plan.set(node, value)
            }
            let inProducts = params.filter { $0.node.name != "embed.tokens" }.reduce(0) { $0 + $1.count }
            let tokens = Double(batch * 128)
            flops = 6 * Double(inProducts) * tokens + 12 * Double(config.layers * batch * 128 * 128 * config.dim)
            bytes = plan.peakBytes + 3 * 4 * model.parameters.count
        }

        func run() { try! plan.run(); optimizer.step(gradients, lr: 1e-4) }

        /// The plan's kernels, then the AdamW update (median of 5) with its memory rate against
        /// `triad` (GB/s).
        func profile(detail: Bool, triad: Double) throws -> [String] {
            let adam = BenchSuite(size: 0).time { optimizer.step(gradients, lr: 1e-4) }
            let rate = Double(optimizer.bytesPerStep) / adam / 1e9
            return try plan.profile(byMembers: detail).prefix(detail ? 60 : 12).map { String(format: "| %@ | %.1f | %d |", $0.kernel, $0.seconds * 1e3, $0.calls) }
                + [String(format: "| AdamW update (gradient norm and update, %.0f MB: %.1f GB/s; STREAM triad %.1f GB/s) | %.1f | 1 |",
                          Double(optimizer.bytesPerStep) / 1e6, rate, triad, adam * 1e3)]
        }
    }
}
