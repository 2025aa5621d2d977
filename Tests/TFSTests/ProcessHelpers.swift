import Foundation

/// Running the built `tfs` binary and Python from tests.
enum Tool {
    /// The package root (two levels above this file's folder).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The `tfs` executable built alongside this test bundle: `$TFS_BINARY` if set, else `tfs`
    /// next to the test runner (same configuration and scratch path), else `.build/release/tfs`.
    static let tfs: URL? = {
        let fm = FileManager.default
        if let path = ProcessInfo.processInfo.environment["TFS_BINARY"], fm.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        var candidates: [URL] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = runner.deletingLastPathComponent()
        // On macOS the runner sits inside `X.xctest/Contents/MacOS/`.
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("tfs"))
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("tfs"))
        // The release build only: a leftover debug binary would test stale code.
        candidates.append(root.appendingPathComponent(".build/release/tfs"))
        return candidates.first { url in
            var isDir: ObjCBool = false
            return fm.fileExists(atPath: url.path, isDirectory: &isDir) && !isDir.boolValue
                && fm.isExecutableFile(atPath: url.path)
        }
    }()

    static var hasTFS: Bool { tfs != nil }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var timedOut: Bool
        var both: String { "status \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    /// Runs `executable` with `arguments`, feeding `input` on standard input, killing it after
    /// `timeout` seconds.
    static func run(_ executable: URL, _ arguments: [String], input: String? = nil,
                    environment: [String: String] = [:], directory: URL? = nil,
                    timeout: Double = 120) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        try process.run()
        // Read both pipes while the process runs so a full pipe never blocks it.
        nonisolated(unsafe) var outData = Data(), errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try? inPipe.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline { timedOut = true; process.terminate(); break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self), timedOut: timedOut)
    }

    static func tfs(_ arguments: [String], input: String? = nil, environment: [String: String] = [:],
                    directory: URL? = nil, timeout: Double = 120) throws -> Result {
        try run(tfs!, arguments, input: input, environment: environment, directory: directory, timeout: timeout)
    }

    /// The test Python that scripts/setup makes: `$TFS_VENV/bin/python`, else
    /// `~/.cache/tfs/venv/bin/python`.
    static let pythonExecutable: URL = {
        let env = ProcessInfo.processInfo.environment
        let venv = env["TFS_VENV"] ?? (env["HOME"] ?? NSHomeDirectory()) + "/.cache/tfs/venv"
        return URL(fileURLWithPath: venv + "/bin/python")
    }()

    /// Runs `python -c script args…` with the test Python; nil if it cannot be started.
    static func python(_ script: String, _ args: [String] = [], environment: [String: String] = [:],
                       timeout: Double = 120) -> Result? {
        try? run(pythonExecutable, ["-c", script] + args, environment: environment, timeout: timeout)
    }

    /// Why the test Python cannot import `modules`, or nil when it can: tests that need it
    /// `#require` this to be nil, so a missing environment fails them instead of skipping.
    static func pythonProblem(_ modules: String) -> String? {
        guard let r = python("import \(modules)") else { return "cannot start \(pythonExecutable.path): run scripts/setup" }
        return r.status == 0 ? nil : "\(pythonExecutable.path) cannot import \(modules): run scripts/setup\n\(r.stderr)"
    }

    static func which(_ name: String) -> URL? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let url = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// Runs a pexpect session: `body` (Python) runs with os, sys, io, time and pexpect imported
    /// and `log` collecting what the terminal showed (set `child.logfile_read = log`); it
    /// should print "ok" at its end. A failure prints "FAILED", the exception and the log's end.
    static func pexpect(_ body: String, environment: [String: String] = [:], timeout: Double = 180) -> Result? {
        let indented = body.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        let script = """
        import os, sys, io, time, pexpect
        log = io.StringIO()
        try:
        \(indented)
        except Exception as e:
            print("FAILED:", type(e).__name__, e)
            print(log.getvalue()[-4000:])
            sys.exit(1)
        """
        return python(script, environment: environment, timeout: timeout)
    }

    /// A fresh temporary directory.
    static func temporaryDirectory(_ name: String = "tfs-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Validates an `.ipynb` file with `nbformat.validate`; returns nil when valid, else the
    /// validator's message.
    static func nbformatProblem(_ path: String) -> String? {
        let script = """
        import sys, nbformat
        nb = nbformat.read(sys.argv[1], as_version=nbformat.NO_CONVERT)
        nbformat.validate(nb)
        assert nb.nbformat == 4 and nb.nbformat_minor >= 5, (nb.nbformat, nb.nbformat_minor)
        print("valid", len(nb.cells))
        """
        guard let result = python(script, [path]) else { return "python3 did not start" }
        return result.status == 0 ? nil : result.both
    }
}
