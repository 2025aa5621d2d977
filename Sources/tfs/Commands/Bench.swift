import ArgumentParser
import Foundation
import TensorGraph

/// `tfs bench`: sgemm against the graph executor, side by side in one run, for 1 and 2 threads
/// and for several OpenBLAS cores. Each core needs its own process (OpenBLAS reads the core
/// at load time), so the parent re-runs itself per core and alternates rounds to even out the
/// machine's drift.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure sgemm and the graph executor (matmul chain, MLP training step).")

    @Option(help: "Matrix size n for the n×n×n sgemm and the chain.") var size = 1024
    @Option(help: "Rounds per core (alternated across cores).") var rounds = 2
    @Option(help: "Cores to compare: 'library' (OpenBLAS's own choice), 'tfs' (tfs's choice), or core names.")
    var cores = "library,tfs,Prescott"
    @Flag(help: "Measure in this process only (used by the parent run).") var child = false
    @Flag(help: "Measure masked attention with and without tile skipping instead.") var attention = false
    @Flag(help: "Measure a Transfusion training step instead.") var transfusion = false
    @Flag(help: "With --transfusion: profile every kernel, named by its fused ops and shape.") var detail = false
    @Flag(help: "With --transfusion: one thread, each step and sgemm timed by the thread's CPU time (best of 5), which other processes on a busy machine barely disturb.") var cpuTime = false
    @Flag(help: "Measure generation (images and text) with and without the KV cache instead.") var generation = false

    func run() throws {
        if attention { print(try AttentionBench().report()); return }
        if transfusion { print(try cpuTime ? TransfusionBench().cpuTimeReport() : TransfusionBench(detail: detail).report()); return }
        if generation { print(try GenerationBench(rounds: rounds).report()); return }
        if child {
            let rows = BenchSuite(size: size).measure()
            for row in rows { print(row.json) }
            return
        }
        let list = cores.split(separator: ",").map(String.init)
        var results: [String: [BenchRow]] = [:]
        for round in 1...rounds {
            for core in list {
                FileHandle.standardError.write("bench: round \(round)/\(rounds), core \(core)…\n".data(using: .utf8)!)
                results[core, default: []] += try runChild(core: core)
            }
        }
        print(BenchTable.markdown(list.map { ($0, results[$0] ?? []) }, size: size))
    }

    private func runChild(core: String) throws -> [BenchRow] {
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = nil
        switch core {
        case "tfs": env["TFS_BLAS_CORE"] = "auto"
        case "library": env["TFS_BLAS_CORE"] = "library"
        default: env["TFS_BLAS_CORE"] = core
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = ["bench", "--child", "--size", String(size)]
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("bench child for core \(core) failed") }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { BenchRow(json: String($0)) }
    }
}

/// One measurement: what, with how many threads, on which core, how fast.
struct BenchRow {
    var name: String, threads: Int, core: String, gflops: Double, ms: Double

    var json: String {
        #"{"name":"\#(name)","threads":\#(threads),"core":"\#(core)","gflops":\#(gflops),"ms":\#(ms)}"#
    }
    init(name: String, threads: Int, core: String, gflops: Double, ms: Double) {
        self.name = name; self.threads = threads; self.core = core; self.gflops = gflops; self.ms = ms
    }
    init?(json: String) {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let name = obj["name"] as? String, let threads = obj["threads"] as? Int,
              let core = obj["core"] as? String, let g = obj["gflops"] as? Double, let ms = obj["ms"] as? Double
        else { return nil }
        self.init(name: name, threads: threads, core: core, gflops: g, ms: ms)
    }
}
