import Foundation
import Testing
import TensorGraph

/// Runs that survive faults, driven as a user would: `tfs run` killed with SIGKILL at random
/// moments and resumed, stopped by SIGTERM or Ctrl-C, diverging, short of file space, or fed
/// crafted checkpoints.
@Suite(.enabled(if: Tool.hasTFS, "the tfs executable is not built (swift build --product tfs)"))
struct CheckpointFaultTests {
    /// A tiny model (dim 16, one layer) on 8×8 shapes: a step takes a few milliseconds.
    static let model = "m = transfusion(dim=16, layers=1, heads=2, image=8, patch=4, time_features=16, seed=0)"
    static func train(_ arguments: String) -> String {
        "r = train(m, shapes(size=8), batch=2, length=48, \(arguments), every=1)\nprint(r)"
    }

    func script(_ text: String, in dir: URL, _ name: String = "run.tfs") throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Trains the tiny model in `dir` for `steps` steps into `ck.safetensors`; its path.
    func goodCheckpoint(steps: Int, in dir: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let text = Self.model + "\n" + Self.train("steps=\(steps), lr=1e-3, checkpoint=\"ck.safetensors\"")
        let r = try Tool.tfs(["run", try script(text, in: dir, "good.tfs")], directory: dir)
        #expect(r.status == 0, "\(r.both)", sourceLocation: sourceLocation)
        return dir.appendingPathComponent("ck.safetensors").path
    }

    /// Every tensor of a safetensors file, bytes and all.
    static func tensors(_ path: String) throws -> [String: Safetensors.Entry] {
        Dictionary(uniqueKeysWithValues: try Safetensors.read(path: path).entries.map { ($0.name, $0) })
    }

    static func fileBytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    static func temporaries(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".tmp") }
    }

    /// A `tfs run` whose standard error is read as it comes: `waitFor` blocks until a line
    /// satisfies a test (or the process ends), so signals are sent on events, not after sleeps.
    final class Running {
        let process = Process()
        private let errors = Pipe(), output = Pipe()
        private(set) var stderr = "", stdout = ""
        private var outData = Data()
        private let group = DispatchGroup()

        init(_ arguments: [String], directory: URL, input: URL? = nil) throws {
            process.executableURL = Tool.tfs!
            process.arguments = arguments
            var env = ProcessInfo.processInfo.environment
            env["NO_COLOR"] = "1"; env["TFS_THREADS"] = "1"
            process.environment = env
            process.currentDirectoryURL = directory
            process.standardError = errors; process.standardOutput = output
            process.standardInput = try input.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
            try process.run()
            group.enter()
            let out = output.fileHandleForReading
            DispatchQueue.global().async { [self] in outData = out.readDataToEndOfFile(); group.leave() }
        }

        /// Reads standard error until a line passes `test`; false at end of file.
        func waitFor(_ test: (String) -> Bool) -> Bool {
            let handle = errors.fileHandleForReading
            var pending = ""
            while true {
                let data = handle.availableData
                if data.isEmpty { return false }
                let text = String(decoding: data, as: UTF8.self)
                stderr += text; pending += text
                let lines = pending.split(separator: "\n", omittingEmptySubsequences: false)
                pending = String(lines.last ?? "")
                if lines.dropLast().contains(where: { test(String($0)) }) { return true }
            }
        }

        /// Waits for the end; returns the exit status (or 128 + the signal).
        func finish() -> Int32 {
            stderr += String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            group.wait()
            stdout = String(decoding: outData, as: UTF8.self)
            return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        }
    }

    /// The step number of a progress line "step    12/200  LM ...".
    static func progressStep(_ line: String) -> Int? {
        guard line.hasPrefix("step ") else { return nil }
        return Int(line.dropFirst(5).prefix { $0 != "/" }.trimmingCharacters(in: .whitespaces))
    }

    /// kill -9 at random moments (after a random number of new steps, then a random pause of
    /// up to 3 ms, so some kills land inside checkpoint writes), 20 times, each run resuming from
    /// the newest checkpoint: the weights and moments at the end equal an uninterrupted run's
    /// bit for bit, and no temp file of a cut-short write is left.
    @Test func killedTwentyTimesAndResumedEndsWithTheUninterruptedWeights() throws {
        let steps = 400
        let text = Self.model + "\n" + Self.train("steps=\(steps), lr=3e-3, checkpoint=\"runs/x.safetensors\", save_every=1, keep=2, resume=\"latest\"")
        let straightDir = try Tool.temporaryDirectory("tfs-kill-straight"), killedDir = try Tool.temporaryDirectory("tfs-kill")
        defer { try? FileManager.default.removeItem(at: straightDir); try? FileManager.default.removeItem(at: killedDir) }
        let straight = try Tool.tfs(["run", try script(text, in: straightDir)], environment: ["TFS_THREADS": "1"], directory: straightDir)
        #expect(straight.status == 0, "\(straight.both)")

        let path = try script(text, in: killedDir)
        var rng = SystemRandomNumberGenerator(), kills = 0, resumedAt: [Int] = []
        while kills < 20 {
            let run = try Running(["run", path], directory: killedDir)
            var start = 0
            let target = Int.random(in: 2...6, using: &rng)
            let seen = run.waitFor { line in
                if line.hasPrefix("train: resuming from"), let n = Int(line.split(separator: " ").last ?? "") { start = n }
                return (Self.progressStep(line) ?? 0) >= start + target
            }
            guard seen else { _ = run.finish(); break }   // it ran to the end: too few steps for the kills
            Thread.sleep(forTimeInterval: Double.random(in: 0...0.003, using: &rng))
            kill(run.process.processIdentifier, SIGKILL)
            let status = run.finish()
            #expect(status == 128 + SIGKILL || status == 0, "\(run.stderr)")
            kills += 1; resumedAt.append(start)
        }
        #expect(kills == 20, "the run finished after \(kills) kills")
        #expect(resumedAt.count > 1 && resumedAt == resumedAt.sorted() && resumedAt.last! > 0, "\(resumedAt)")
        let last = try Tool.tfs(["run", path], environment: ["TFS_THREADS": "1"], directory: killedDir)
        #expect(last.status == 0, "\(last.both)")
        #expect(last.stdout.contains("run(\(steps) steps, loss "))

        let want = try Self.tensors(straightDir.appendingPathComponent("runs/x.safetensors").path)
        let got = try Self.tensors(killedDir.appendingPathComponent("runs/x.safetensors").path)
        #expect(got.count == want.count && want.count > 30)
        let different = want.keys.filter { got[$0] != want[$0] }.sorted()
        #expect(different.isEmpty, "tensors that differ: \(different)")
        let meta = try Safetensors.readMetadata(path: killedDir.appendingPathComponent("runs/x.safetensors").path)
        #expect(meta["step"] == "\(steps)" && meta["optimizer_steps"] == "\(steps)")
        #expect(Self.temporaries(in: killedDir.appendingPathComponent("runs").path).isEmpty)
    }

    /// F17: a run that diverges stops at the step with a located error naming each loss part and
    /// suggesting fixes, exits 70, and leaves the good checkpoint byte for byte.
    @Test func aDivergingRunStopsAndKeepsTheGoodCheckpoint() throws {
        let dir = try Tool.temporaryDirectory("tfs-diverge")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ck = try goodCheckpoint(steps: 5, in: dir)
        let before = Self.fileBytes(ck)
        let wild = Self.model + "\n" + Self.train("steps=60, lr=constant(100), resume=\"ck.safetensors\", checkpoint=\"ck.safetensors\"")
        let r = try Tool.tfs(["run", try script(wild, in: dir, "wild.tfs")], directory: dir)
        #expect(r.status == 70, "\(r.both)")
        #expect(r.stderr.contains("wild.tfs:2:5: error: the run diverged at step "), "\(r.stderr)")
        #expect(r.stderr.contains("(LM ") && r.stderr.contains(", diffusion "))
        #expect(r.stderr.contains("Try a lower lr, a longer warmup (warmup(N) >> ...), a smaller clip=, or on_nonfinite=\"skip\" to skip such steps."))
        #expect(r.stderr.contains("The last good checkpoint, ck.safetensors (step 5), is kept"))
        #expect(Self.fileBytes(ck) == before)
        #expect(try Self.tensors(ck).values.allSatisfy { $0.floats.allSatisfy(\.isFinite) })
    }

    /// on_nonfinite="skip": a model whose weights hold NaN (a crafted checkpoint) skips each
    /// step, says so, and stops after 10 in a row — writing nothing.
    @Test func skippingNonFiniteStepsStopsAfterTenInARow() throws {
        let dir = try Tool.temporaryDirectory("tfs-skip")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ck = try goodCheckpoint(steps: 1, in: dir)
        var file = try Safetensors.read(path: ck)
        let i = file.entries.firstIndex { $0.name == "final_norm" }!
        var values = file.entries[i].floats
        values[0] = .nan
        file.entries[i] = Safetensors.Entry(name: "final_norm", float32: TensorData(shape: file.entries[i].shape, values: values))
        let poisoned = dir.appendingPathComponent("nan.safetensors").path
        try Safetensors.write(entries: file.entries, metadata: file.metadata, to: poisoned)
        let run = Self.model + "\n" + Self.train("steps=30, resume=\"nan.safetensors\", checkpoint=\"out.safetensors\", on_nonfinite=\"skip\"")
        let r = try Tool.tfs(["run", try script(run, in: dir)], directory: dir)
        #expect(r.status == 70, "\(r.both)")
        #expect(r.stderr.contains("train: step 2 had a non-finite loss or gradient (loss nan (LM nan, diffusion nan)); its update was skipped (1 skipped so far)"), "\(r.stderr)")
        #expect(r.stderr.contains("its update was skipped (9 skipped so far)"))
        #expect(r.stderr.contains("error: 10 steps in a row up to step 11 had non-finite losses or gradients: "))
        #expect(r.stderr.contains("No checkpoint of out.safetensors was written yet"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.safetensors").path))
    }

    /// A file-size limit (ulimit -f, through /bin/sh): SIGXFSZ does not kill tfs; the write
    /// fails with EFBIG, the run stops naming the step and the cause, the previous checkpoint is
    /// byte for byte as it was and no temp file is left.
    @Test func aFileSizeLimitLeavesThePreviousCheckpoint() throws {
        let dir = try Tool.temporaryDirectory("tfs-ulimit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ck = try goodCheckpoint(steps: 2, in: dir)
        let before = Self.fileBytes(ck)
        #expect((before?.count ?? 0) > 64 * 512)
        for (name, arguments, step) in [("end", "steps=4, resume=\"latest\", checkpoint=\"ck.safetensors\"", 4),
                                        ("periodic", "steps=6, resume=\"latest\", checkpoint=\"ck.safetensors\", save_every=1", 3)] {
            let path = try script(Self.model + "\n" + Self.train(arguments), in: dir, "\(name).tfs")
            let r = try Tool.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "ulimit -f 64; exec \"$0\" run \"$1\"", Tool.tfs!.path, path],
                                 directory: dir)
            #expect(r.status == 70, "\(r.both)")
            let target = name == "end" ? "ck.safetensors" : "ck.step-00000003.safetensors"
            #expect(r.stderr.contains("\(name).tfs:2:5: error: could not save the checkpoint after step \(step): cannot write '\(target)': writing failed after "), "\(r.stderr)")
            #expect(r.stderr.contains("File too large; the file there before, if any, is unchanged. The last good checkpoint, ck.safetensors (step 2), is kept"))
            #expect(Self.fileBytes(ck) == before)
            #expect(Self.temporaries(in: dir.path).isEmpty)
        }
    }

    /// SIGTERM stops a training run like Ctrl-C, whichever front end runs it (`run`, `notebook`,
    /// the REPL reading its entries from a pipe): the checkpoint is saved at a step boundary,
    /// nothing after the training runs, tfs says so and exits with 143; a notebook is still
    /// written with the cells that ran.
    @Test(arguments: ["run", "notebook", "repl"])
    func sigtermSavesTheCheckpointAndExits143(_ command: String) throws {
        let dir = try Tool.temporaryDirectory("tfs-sigterm-\(command)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = Self.model + "\n" + Self.train("steps=1000000, checkpoint=\"ck.safetensors\"") + "\nprint(\"not reached\")\n"
        let notebook = dir.appendingPathComponent("out.ipynb"), input = dir.appendingPathComponent("input.txt")
        let run: Running
        switch command {
        case "run": run = try Running(["run", try script(text, in: dir)], directory: dir)
        case "notebook": run = try Running(["notebook", try script(text, in: dir), "-o", notebook.path], directory: dir)
        default:
            try text.write(to: input, atomically: true, encoding: .utf8)
            run = try Running(["repl", "--no-history"], directory: dir, input: input)
        }
        #expect(run.waitFor { (Self.progressStep($0) ?? 0) >= 3 })
        kill(run.process.processIdentifier, SIGTERM)
        let status = run.finish()
        #expect(status == 143, "\(run.stderr)")
        #expect(run.stderr.contains("terminated by SIGTERM"))
        #expect(!run.stdout.contains("not reached"))
        let meta = try Safetensors.readMetadata(path: dir.appendingPathComponent("ck.safetensors").path)
        let step = Int(meta["step"] ?? "") ?? 0
        #expect(step >= 3)
        let said = command == "notebook" ? try String(contentsOf: notebook, encoding: .utf8) : run.stdout
        #expect(said.contains("train: stopped early at step \(step) of 1000000; checkpoint written to ck.safetensors")
                && !said.contains("not reached\\n\""), "\(said)")
    }

    /// F19: Ctrl-C during draw stops it between denoising steps with a located message, long
    /// before its 1000 steps are done. The signal is repeated (one sent before the cell starts
    /// is not for it); one that lands just before draw starts interrupts the call itself, so the
    /// run is tried again, a few times at most.
    @Test func ctrlCStopsDrawBetweenSteps() throws {
        let dir = try Tool.temporaryDirectory("tfs-sigint-draw")
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = """
        # %% ready
        big = transfusion(dim=128, layers=2, heads=2, image=16)
        \(Self.model)
        r = train(m, shapes(size=8), steps=1, batch=2, length=48, every=1)
        # %% draw
        images = draw(big, ["a"] * 16, steps=1000)
        print("not reached")
        """
        let path = try script(text, in: dir)
        var stderr = ""
        for _ in 0..<5 {
            let run = try Running(["run", path], directory: dir)
            #expect(run.waitFor { $0.hasPrefix("step     1/1") })
            let stopper = DispatchWorkItem {}
            DispatchQueue.global().async {
                while run.process.isRunning && !stopper.isCancelled { kill(run.process.processIdentifier, SIGINT); usleep(50_000) }
            }
            let status = run.finish()
            stopper.cancel()
            #expect(status == 130, "\(run.stderr)")
            #expect(!run.stdout.contains("not reached"))
            stderr = run.stderr
            if stderr.contains("drawing stopped") { break }
        }
        #expect(stderr.contains("run.tfs:6:10: error: interrupted: draw: drawing stopped after "), "\(stderr)")
        let done = stderr.components(separatedBy: "drawing stopped after ").last.flatMap { Int($0.prefix { $0.isNumber }) } ?? 1000
        #expect(done < 1000)
    }

    /// F19 in the REPL: Ctrl-C during draw stops it between denoising steps, says how far it
    /// got, and the session goes on with its variables.
    @Test func ctrlCStopsDrawInTheREPLAndTheSessionGoesOn() throws {
        try #require(Tool.pythonProblem("pexpect") == nil, "\(Tool.pythonProblem("pexpect") ?? "")")
        let script = #"""
        env = dict(os.environ, TERM="xterm", NO_COLOR="1", TFS_THREADS="1")
        c = pexpect.spawn(os.environ["TFS_BIN"], [], env=env, encoding="utf-8", timeout=60, dimensions=(40, 200))
        c.logfile_read = log
        c.expect_exact("In [1]: ")
        c.sendline("x = 41"); c.expect_exact("In [2]: ")
        c.sendline("big = transfusion(dim=128, layers=2, heads=2, image=16)"); c.expect_exact("In [3]: ")
        # Ctrl-C until draw reports it; one that lands before draw starts interrupts the
        # call itself (back at the prompt: draw again).
        stopped = False
        for attempt in range(5):
            c.sendline('images = draw(big, ["a"] * 16, steps=1000)')
            for k in range(30):
                time.sleep(0.2); c.sendintr()
                seen = c.expect([r"interrupted: draw: drawing stopped after \d+ of 1000 denoising steps", r"In \[\d+\]: ", pexpect.TIMEOUT], timeout=1)
                if seen < 2: break
            if seen == 0: stopped = True; break
        assert stopped, "Ctrl-C did not stop draw"
        c.expect(r"In \[\d+\]: ")
        c.sendline("x + 1"); c.expect(r"Out\[\d+\]: 42"); c.expect(r"In \[\d+\]: ")
        c.sendline(":quit"); c.expect(pexpect.EOF)
        print("ok")
        """#
        let dir = try Tool.temporaryDirectory("tfs-repl-draw")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try #require(Tool.pexpect(script, environment: ["TFS_BIN": Tool.tfs!.path, "TFS_HISTORY": dir.appendingPathComponent("history").path]))
        #expect(r.status == 0 && r.stdout.hasSuffix("ok\n"), "\(r.both)")
    }

    /// F13 at the command line: a crafted checkpoint is a located error (exit 70), not a crash.
    @Test func aCraftedCheckpointIsALocatedError() throws {
        let dir = try Tool.temporaryDirectory("tfs-crafted")
        defer { try? FileManager.default.removeItem(at: dir) }
        var file = try Safetensors.read(path: try goodCheckpoint(steps: 1, in: dir))
        file.metadata["config"] = file.metadata["config"]!.replacingOccurrences(of: "\"dim\":16", with: "\"dim\":-32")
        try Safetensors.write(entries: file.entries, metadata: file.metadata, to: dir.appendingPathComponent("bad.safetensors").path)
        let r = try Tool.tfs(["run", try script("m = load_model(\"bad.safetensors\")\nprint(m)", in: dir)], directory: dir)
        #expect(r.status == 70, "\(r.both)")
        #expect(r.stderr.contains("run.tfs:1:5: error: bad.safetensors: the model config's dim must be from 2 to 16384, got -32"), "\(r.stderr)")
    }
}
