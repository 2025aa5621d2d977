import Foundation
import TensorGraph

/// The measurements of `tfs bench`, run in one process with the OpenBLAS core it loaded.
struct BenchSuite {
    let size: Int

    func measure() -> [BenchRow] {
        let info = BLAS.load()
        var rows: [BenchRow] = []
        for threads in [1, 2] {
            BLAS.setThreads(threads)
            let add = { (name: String, flops: Double, seconds: Double) in
                rows.append(BenchRow(name: name, threads: threads, core: info.core,
                                     gflops: flops / seconds / 1e9, ms: seconds * 1e3))
            }
            let n = size
            let (a, b, c) = (randomBuffer(n * n, 1), randomBuffer(n * n, 2), randomBuffer(n * n, 3))
            BLAS.setLibraryThreads(threads)
            add("sgemm (OpenBLAS threads)", 2.0 * Double(n * n * n), time {
                BLAS.sgemm(transA: false, transB: false, m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: c, ldc: n)
            })
            BLAS.setLibraryThreads(1)
            add("sgemm (tfs split, deterministic)", 2.0 * Double(n * n * n), time {
                BLAS.product(transA: false, transB: false, m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: c, ldc: n)
            })
            let (chainFlops, chain) = matmulChain(n)
            add("graph: matmul chain ×4", chainFlops, time { try! chain.run() })
            let (mlpFlops, step) = mlpStep()
            add("graph: MLP train step", mlpFlops, time { step() })
            for p in [a, b, c] { p.deallocate() }
        }
        return rows
    }

    /// x @ W1 @ W2 @ W3 @ W4 with n×n matrices.
    func matmulChain(_ n: Int) -> (Double, Plan) {
        var h = Tensor.parameter(randomData([n, n], 4))
        for i in 0..<4 { h = try! h.matmul(Tensor.parameter(randomData([n, n], UInt64(10 + i), scale: 1 / Float(n).squareRoot()))) }
        return (4 * 2.0 * Double(n * n * n), try! Plan([h.node]))
    }

    /// A 512→1024→512 SwiGLU-free MLP with GELU on a batch of 1024 rows: forward, backward and
    /// AdamW. FLOPs counted are the six matrix products (2 forward, 4 backward).
    func mlpStep() -> (Double, () -> Void) {
        let (batch, d, h) = (1024, 512, 1024)
        let x = Tensor.parameter(randomData([batch, d], 20)), y = Tensor.parameter(randomData([batch, d], 21))
        let w1 = Tensor.parameter(randomData([d, h], 22, scale: 0.04)), w2 = Tensor.parameter(randomData([h, d], 23, scale: 0.03))
        let b1 = Tensor.parameter(TensorData(shape: [h], repeating: 0))
        let out = try! (x.matmul(w1) + b1).gelu().matmul(w2)
        let loss = try! (out - y).square().mean()
        let params = [w1, b1, w2]
        let grads = try! loss.gradients(wrt: params)
        let plan = try! Plan([loss.node] + grads.map(\.node))
        let opt = AdamW(params.map { $0.node.storage! })
        let buffers = (1...3).map { plan.outputBuffer($0) }
        let flops = 6 * 2.0 * Double(batch * d * h)
        return (flops, { try! plan.run(); opt.step(buffers, lr: 1e-4) })
    }

    /// Median seconds of one call, after a warm-up, over at least 5 calls and ~0.4 s.
    func time(_ body: () -> Void) -> Double {
        body()
        var samples: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        while samples.count < 5 || (samples.count < 200 && Double(DispatchTime.now().uptimeNanoseconds - start) < 4e8) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return samples.sorted()[samples.count / 2]
    }

    func randomData(_ shape: [Int], _ seed: UInt64, scale: Float = 1) -> TensorData {
        var rng = RNG(seed: seed)
        return TensorData(shape: shape, values: rng.normal(shape.reduce(1, *)).map { $0 * scale })
    }

    func randomBuffer(_ n: Int, _ seed: UInt64) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
        var rng = RNG(seed: seed)
        for i in 0..<n { p[i] = rng.uniform() - 0.5 }
        return p
    }
}

/// The Markdown table of `tfs bench`: medians over rounds, and each row as a fraction of the
/// OpenBLAS sgemm measured in the same process and thread count.
enum BenchTable {
    static func markdown(_ cores: [(String, [BenchRow])], size: Int) -> String {
        var out = "| core asked | core run | threads | measurement | GFLOP/s | ms | of sgemm |\n|---|---|---|---|---|---|---|\n"
        for (asked, rows) in cores {
            let names = rows.reduce(into: [String]()) { if !$0.contains($1.name) { $0.append($1.name) } }
            for threads in [1, 2] {
                func median(_ name: String) -> BenchRow? {
                    let r = rows.filter { $0.name == name && $0.threads == threads }.sorted { $0.gflops < $1.gflops }
                    return r.isEmpty ? nil : r[r.count / 2]
                }
                guard let base = median("sgemm (OpenBLAS threads)") else { continue }
                for name in names {
                    guard let r = median(name) else { continue }
                    let frac = String(format: "%.2f", r.gflops / base.gflops)
                    out += "| \(asked) | \(r.core) | \(threads) | \(name) | \(String(format: "%.1f", r.gflops)) | \(String(format: "%.2f", r.ms)) | \(frac) |\n"
                }
            }
        }
        return out + "\nn = \(size); medians of the rounds; \"of sgemm\" divides by the OpenBLAS sgemm of the same core, threads and process.\n"
    }
}
