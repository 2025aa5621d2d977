import Foundation
import Testing

/// The fuzz targets (Sources/Fuzz): the committed corpus replays through each reader without a
/// crash, and a short libFuzzer run from it finds none. The libFuzzer build is made by
/// `scripts/fuzz --build`, which scripts/test runs; without it the test fails, never skips.
@Suite struct FuzzTargetTests {
    static let targets = ["frontend", "script", "safetensors", "png", "jsonl", "checkpoint"]
    /// Inputs per target in the short run: a few seconds each here (docs/architecture.md has
    /// the long runs' figures).
    static let runs = ["frontend": 20_000, "script": 1_500, "safetensors": 10_000, "png": 100_000, "jsonl": 10_000, "checkpoint": 1_000]

    static func corpus(_ target: String) -> URL {
        Tool.root.appendingPathComponent("Tests/Fuzz/corpus/\(target)")
    }

    static func seedCount(_ target: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: corpus(target).path).filter { !$0.hasPrefix(".") }.count
    }

    /// Runs the script and checkpoint targets as `nobody` when the tests run as root (scripts may write
    /// files), from copies in `work`: the checkout may sit where `nobody` cannot read.
    static func unprivileged(_ target: String, _ binary: URL, _ arguments: [String], work: URL) throws -> (URL, [String]) {
        guard ["script", "checkpoint"].contains(target), getuid() == 0 else { return (binary, arguments) }
        let setpriv = try #require(Tool.which("setpriv"), "setpriv (util-linux) is needed to fuzz scripts as nobody")
        let copy = work.appendingPathComponent("tfs-fuzz"), seeds = work.appendingPathComponent("seeds")
        try FileManager.default.copyItem(at: binary, to: copy)
        try FileManager.default.copyItem(at: corpus(target), to: seeds)
        for url in [work, work.appendingPathComponent("found"), seeds] { _ = chmod(url.path, 0o777) }
        let swapped = arguments.map { $0 == corpus(target).path ? seeds.path : $0 }
        return (setpriv, ["--reuid=nobody", "--regid=nogroup", "--clear-groups", copy.path] + swapped)
    }

    @Test(arguments: targets)
    func corpusReplaysWithoutACrash(_ target: String) throws {
        let binary = Tool.root.appendingPathComponent(".build/release/tfs-fuzz")
        #expect(FileManager.default.isExecutableFile(atPath: binary.path), "build it: swift build -c release --product tfs-fuzz")
        let seeds = try Self.seedCount(target)
        #expect(seeds >= 3)
        // The budget the fuzzer runs with: a seed that asks for a valid but huge tensor (a
        // 50,000-token prompt's 10 GB attention) is refused, not run on a machine's whole memory.
        let r = try Tool.run(binary, [target, Self.corpus(target).path], environment: ["TFS_MEMORY_LIMIT": "512M"], timeout: 600)
        #expect(r.status == 0 && !r.timedOut, "\(r.both)")
        #expect(r.stdout.contains("\(target): \(seeds) inputs ran"), "\(r.both)")
    }

    @Test(arguments: targets)
    func shortLibFuzzerRunFindsNothing(_ target: String) throws {
        let binary = Tool.root.appendingPathComponent(".build/fuzz/release/tfs-fuzz")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path),
                     "no libFuzzer build at \(binary.path): run scripts/fuzz --build (scripts/test does)")
        let work = try Tool.temporaryDirectory("tfs-fuzz-\(target)")
        defer { try? FileManager.default.removeItem(at: work) }
        let found = work.appendingPathComponent("found")
        try FileManager.default.createDirectory(at: found, withIntermediateDirectories: true)
        let runs = Self.runs[target]!
        let (executable, arguments) = try Self.unprivileged(target, binary, [
            target, "-runs=\(runs)", "-seed=1", "-timeout=20", "-rss_limit_mb=4096", "-close_fd_mask=3",
            "-artifact_prefix=\(work.path)/", found.path, Self.corpus(target).path], work: work)
        // Swift's own backtracer would catch a crash before libFuzzer could save the input.
        let r = try Tool.run(executable, arguments, environment: ["SWIFT_BACKTRACE": "enable=no", "TFS_MEMORY_LIMIT": "512M"], directory: work, timeout: 600)
        #expect(r.status == 0 && !r.timedOut, "\(r.both)")
        #expect(r.stderr.contains("Done \(runs) runs"), "\(r.both)")
        // A finding is kept where scripts/fuzz keeps its own, to replay: tfs-fuzz TARGET FILE.
        let artifacts = try FileManager.default.contentsOfDirectory(atPath: work.path).filter { name in ["crash-", "oom-", "timeout-", "leak-", "slow-unit-"].contains { name.hasPrefix($0) } }   // scripts may write other files here
        let kept = Tool.root.appendingPathComponent(".build/fuzz/crashes/\(target)")
        try FileManager.default.createDirectory(at: kept, withIntermediateDirectories: true)
        for name in artifacts {
            try? FileManager.default.removeItem(at: kept.appendingPathComponent(name))
            try FileManager.default.copyItem(at: work.appendingPathComponent(name), to: kept.appendingPathComponent(name))
        }
        #expect(artifacts.isEmpty, "libFuzzer found \(artifacts), kept in \(kept.path)")
    }
}
