import Foundation
import Testing

/// The reproducers of issue 20 (`Tests/Fixtures/repro/`, also a fuzzing seed corpus) run by
/// the real binary: each ends with a clear error located in the script — exit 65 (static) or
/// 70 (runtime), never a signal (132 trap, 134 abort, 139 segfault) or a hang. The deep
/// expressions (F1–F3) are generated here rather than kept as 50–225 KB files.
@Suite(.enabled(if: Tool.hasTFS, "the tfs executable is not built (swift build --product tfs)"))
struct HostileInputTests {
    /// TFS_MEMORY_LIMIT lowers the ceiling: a 4 MB tensor under a 1 MB limit is an error at
    /// its place that names the setting.
    @Test func aMemoryLimitSettingLowersTheCeiling() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("big.tfs")
        try "x = ones([1000, 1000]) * 2\nprint(x.shape)\n".write(to: script, atomically: true, encoding: .utf8)
        let limited = try Tool.tfs(["run", script.path], environment: ["TFS_MEMORY_LIMIT": "1M"])
        #expect(limited.status == 70)
        #expect(limited.stderr.contains("big.tfs:1:5: error: ") && limited.stderr.contains("needs 3.8 MB, more than the 1.0 MB TFS_MEMORY_LIMIT allows"), "\(limited.both)")
        let free = try Tool.tfs(["run", script.path])
        #expect(free.status == 0 && free.stdout.contains("[1000, 1000]"), "\(free.both)")
    }

    static let fixtures = Tool.root.appendingPathComponent("Tests/Fixtures/repro")

    /// Each reproducer, its exit status, and the error it must print (after "FILE:line:col: error: ").
    static let reproducers: [(file: String, status: Int32, message: String)] = [
        ("F4-layout-overflow.tfs", 70, "layout 'image:3037000500x3037000500': 'image:3037000500x3037000500': at most 65536 tokens per segment"),
        ("F5-generate-top_p-0.tfs", 70, "generate: 'top_p' must be a probability in (0, 1], got 0.0"),
        ("F5b-caption-top_p-neg.tfs", 70, "caption: 'top_p' must be a probability in (0, 1], got -1.0"),
        ("F6-arange-inf.tfs", 70, "arange: needs finite start, stop and step, got 0.0, inf, 1.0"),
        ("F6b-arange-huge-count.tfs", 70, "arange: 1e+60 values are too many (at most 100000000)"),
        ("F7-range-intmax.tfs", 70, "range: 9.22e+18 values are too many (at most 10000000)"),
        ("F8-enumerate-start-intmax.tfs", 70, "enumerate: start 9223372036854775807 + 1 overflows a 64-bit int"),
        ("F10-png-ihdr-overflow.tfs", 70, "img.png: the image is 3221225472×3221225472, more than the 67108864 pixels this decoder accepts"),
        ("F11-pack-patches-intmax-segv.tfs", 70, "pack: example 0: an image of 9223372036854775807 patches does not fit in a sequence of length 64"),
        // F12 (37 GB) and F12b (75 GB) are refused on machines with less memory (this one has 23 GB);
        // HostileArgumentTests and MemoryLimitTests use terabytes, refused anywhere.
        ("F12-broadcast-40GB-abort.tfs", 70, "a tensor of shape [100000, 100000] needs 37 GB, more than this machine's"),
        ("F12b-long-prompt-80GB-abort.tfs", 70, "a batch of 1 rows of 100001 positions: its attention mask [1, 100001, 200042] needs 75 GB"),
        ("F12c-train-length-1e6-abort.tfs", 70, "a batch of 2 rows of 1000000 positions: its attention mask [2, 1000000, 1000000] needs 7.3 TB"),
        ("F12d-pack-length-1e10-abort.tfs", 70, "pack: 'length' must be at most 16777216, got 10000000000"),
        ("F21-nul-in-path.tfs", 70, "save: path contains a NUL byte (at byte 22): \"/tmp/tfs-repro-nul/ck\\0.safetensors\""),
        ("F9-intmax-args/arange_inf.tfs", 70, "arange: needs finite start, stop and step"),
        ("F9-intmax-args/arange_inf_stop.tfs", 70, "arange: needs finite start, stop and step"),
        ("F9-intmax-args/arange_intmax.tfs", 70, "arange: 9.22e+18 values are too many"),
        ("F9-intmax-args/arange_nan.tfs", 70, "arange: needs finite start, stop and step, got 0.0, nan, 1.0"),
        ("F9-intmax-args/arange_step_tiny.tfs", 70, "arange: 1e+60 values are too many"),
        ("F9-intmax-args/bpb_length_max.tfs", 70, "bits_per_byte: 'length' must be at most"),
        ("F9-intmax-args/caption_tokens_max.tfs", 70, "caption: 'tokens' must be at most 65536"),
        ("F9-intmax-args/classifier_channels_max.tfs", 70, "classifier: 'channels' must be at most"),
        ("F9-intmax-args/classifier_width_max.tfs", 70, "classifier: 'width' must be at most"),
        ("F9-intmax-args/codebook_images_max.tfs", 70, "codebook: 'images' must be at most"),
        ("F9-intmax-args/draw_tokens_max.tfs", 70, "draw: 'tokens' must be at most 65536"),
        ("F9-intmax-args/edits_n_max.tfs", 70, "edits: 'n' must be at most 1048576"),
        ("F9-intmax-args/enumerate_start_max.tfs", 70, "overflows a 64-bit int"),
        ("F9-intmax-args/gen_images_max.tfs", 70, "generate: 'images' must be at most 65536"),
        ("F9-intmax-args/gen_tokens_max.tfs", 70, "generate: 'tokens' must be at most 65536"),
        ("F9-intmax-args/judge_edits_n_max.tfs", 70, "judge_edits: 'n' must be at most"),
        ("F9-intmax-args/pack_len_max.tfs", 70, "pack: 'length' must be at most"),
        ("F9-intmax-args/pack_patches_max.tfs", 70, "does not fit in a sequence of length 64"),
        ("F9-intmax-args/range_intmax.tfs", 70, "range: 9.22e+18 values are too many"),
        ("F9-intmax-args/range_intmax2.tfs", 70, "range: 1.84e+19 values are too many"),
        ("F9-intmax-args/range_neg_step.tfs", 70, "range: 1.84e+19 values are too many"),
        ("F9-intmax-args/reshape_big_prod.tfs", 70, "cannot reshape a tensor of shape [4] (4 values) into [4294967296, 4294967296, 0]"),
        ("F9-intmax-args/reshape_neg_big.tfs", 70, "cannot reshape a tensor of shape [0] (0 values) into [4294967296, 4294967296, 0]"),
        ("F9-intmax-args/tf_layers_max.tfs", 70, "transfusion: 'layers' must be at most"),
        ("F9-intmax-args/tf_time_features_max.tfs", 70, "transfusion: 'time_features' must be at most"),
        ("F9-intmax-args/train_batch_max.tfs", 70, "train: 'batch' must be at most"),
        ("F9-intmax-args/train_length_max.tfs", 70, "train: 'length' must be at most"),
        ("F9-intmax-args/train_vae_steps_max.tfs", 70, "train_vae: 'steps' must be at most"),
        ("F9-intmax-args/vae_channels_max.tfs", 70, "vae: 'channels' must be at most"),
        ("F9-intmax-args/vae_width_max.tfs", 70, "vae: 'width' must be at most"),
    ]

    /// Runs `tfs ARGS` in the fixtures folder and checks the outcome is a located error.
    static func expectLocatedError(_ arguments: [String], input: String? = nil, file: String,
                                   status: Int32, message: String) throws {
        let r = try Tool.tfs(arguments, input: input, directory: fixtures, timeout: 300)
        #expect(!r.timedOut, "\(file) hung")
        #expect(r.status == status, "\(file): \(r.both.prefix(2000))")
        let located = r.stderr.split(separator: "\n").first { $0.hasPrefix("\(file):") && $0.contains(": error: ") }
        #expect(located?.contains(message) == true, "\(file): \(r.stderr.prefix(2000))")
    }

    @Test(arguments: reproducers.indices)
    func reproducerEndsWithALocatedError(_ i: Int) throws {
        let (file, status, message) = Self.reproducers[i]
        try Self.expectLocatedError(["run", file], file: file, status: status, message: message)
    }

    /// Every reproducer file is in the table (a new one must say what it expects).
    @Test func everyFixtureIsCovered() throws {
        let listed = Set(Self.reproducers.map(\.file))
        let files = FileManager.default.enumerator(atPath: Self.fixtures.path)!.compactMap { $0 as? String }
        let scripts = files.filter { $0.hasSuffix(".tfs") && $0 != "F23-metrics-unwritable.tfs" }
        #expect(Set(scripts) == listed)
    }

    /// F4 through `tfs mask`: the layout's overflowing image size is a usage error (65).
    @Test func maskCommandRefusesAnOverflowingLayout() throws {
        let r = try Tool.tfs(["mask", "text:2 image:3037000500x3037000500"])
        #expect(r.status == 65, "\(r.both)")
        #expect(r.stderr.contains("'image:3037000500x3037000500': at most 65536 tokens per segment"), "\(r.both)")
    }

    /// F23: an output file that cannot be written is found before anything runs, with a
    /// message naming the option and the system's reason, and exit 73 (EX_CANTCREAT).
    @Test func unwritableOutputsAreRefusedBeforeTheRun() throws {
        let dir = try Tool.temporaryDirectory("tfs-unwritable")
        defer { try? FileManager.default.removeItem(at: dir) }
        let blocker = dir.appendingPathComponent("a-file").path
        try "".write(toFile: blocker, atomically: true, encoding: .utf8)
        let script = Self.fixtures.appendingPathComponent("F23-metrics-unwritable.tfs").path
        let cases: [([String], String)] = [
            (["run", script, "--metrics", "/proc/m.jsonl"], "tfs: cannot write --metrics '/proc/m.jsonl': No such file or directory"),
            (["run", script, "--metrics", "\(blocker)/m.jsonl"], "tfs: cannot write --metrics '\(blocker)/m.jsonl': cannot create its folder"),
            (["notebook", script, "-o", "/proc/n.ipynb"], "tfs: cannot write -o '/proc/n.ipynb': No such file or directory"),
            (["notebook", script, "--metrics", "/proc/m.jsonl"], "tfs: cannot write --metrics '/proc/m.jsonl'"),
            (["mask", "text:3", "-o", "/proc/m.png"], "tfs: cannot write -o '/proc/m.png': No such file or directory"),
            (["mask", "text:3", "-o", dir.path], "tfs: cannot write -o '\(dir.path)': it is a folder"),
            (["sweep", script, "--out", "/proc/s.md"], "tfs: cannot write --out '/proc/s.md': No such file or directory"),
        ]
        for (arguments, message) in cases {
            let r = try Tool.tfs(arguments)
            #expect(r.status == 73, "\(arguments): \(r.both)")
            #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
            #expect(!r.stdout.contains("script finished") && !r.stderr.contains("NSCocoaErrorDomain"), "\(arguments): \(r.both)")
        }
        // A writable --metrics (in a folder that does not exist yet) still gets the metrics.
        let metrics = dir.appendingPathComponent("new/m.jsonl").path
        let r = try Tool.tfs(["run", script, "--metrics", metrics])
        #expect(r.status == 0 && r.stdout.contains("script finished"), "\(r.both)")
        #expect(try String(contentsOfFile: metrics, encoding: .utf8).contains("\"m\""))
    }

    /// F22's input, 10,000 variables piped to the REPL, runs to the end with every variable
    /// kept. (That a cell's cost no longer grows with the session is measured in-process, as
    /// a ratio, by SessionScalingTests: a process's wall time on a shared machine is too noisy.)
    @Test func pipedREPLInputWithTenThousandVariables() throws {
        let input = (0..<10_000).map { "x\($0) = \($0)\n" }.joined() + "print(x0 + x9999)\n"
        let r = try Tool.tfs([], input: input, timeout: 600)
        #expect(r.status == 0 && r.stdout == "9999\n", "\(r.both.prefix(500))")
    }

    /// F1–F3 at the reproducers' sizes, and every other way to nest, through `tfs run`,
    /// `tfs run --check` and the piped REPL: one "nested too deeply" error, exit 65.
    static let deep: [(name: String, source: String)] = [
        ("F1-left-assoc-chain-25000-plus", "x = 1" + String(repeating: "+1", count: 25_000)),
        ("F1b-or-chain-25000", "x = False" + String(repeating: " or False", count: 25_000)),
        ("F1c-bitor-chain-25000", "x = causal" + String(repeating: " | causal", count: 25_000)),
        ("F2-nested-comprehension-iterable-1500", "x = " + String(repeating: "[i for i in ", count: 1500) + "[1]" + String(repeating: "]", count: 1500)),
        ("F2b-nested-comprehension-if-1500", "x = " + String(repeating: "[1 for i in [1] if ", count: 1500) + "1" + String(repeating: "]", count: 1500)),
        ("F3-postfix-member-call-chain-12000", "x = 'a'" + String(repeating: ".upper()", count: 12_000)),
        ("F3b-subscript-chain-25000", "x = [1]" + String(repeating: "[0]", count: 25_000)),
        ("parentheses-5000", "x = " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000)),
        ("negation-20000", "x = " + String(repeating: "-", count: 20_000) + "1"),
        ("power-5000", "x = " + String(repeating: "1 ** ", count: 5000) + "1"),
        ("conditional-5000", "x = " + String(repeating: "1 if True else ", count: 5000) + "1"),
        ("calls-5000", "x = " + String(repeating: "abs(", count: 5000) + "1" + String(repeating: ")", count: 5000)),
    ]

    @Test(arguments: deep.indices)
    func deepExpressionsAreOneStaticError(_ i: Int) throws {
        let (name, source) = Self.deep[i]
        let dir = try Tool.temporaryDirectory("tfs-deep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("\(name).tfs")
        try (source + "\nprint('not reached')\n").write(to: path, atomically: true, encoding: .utf8)
        for arguments in [["run", path.path], ["run", "--check", path.path]] {
            let r = try Tool.tfs(arguments, timeout: 300)
            #expect(r.status == 65, "\(name) \(arguments): \(r.both.prefix(1000))")
            #expect(r.stderr.contains("\(path.path):1:"), "\(name): \(r.stderr.prefix(1000))")
            #expect(r.stderr.contains("nested too deeply (limit 100)"), "\(name): \(r.stderr.prefix(1000))")
            #expect(!r.stdout.contains("not reached"))
        }
        let repl = try Tool.tfs([], input: source + "\nprint('still here')\n", timeout: 300)
        #expect(repl.stderr.contains("<stdin>:1:") && repl.stderr.contains("nested too deeply (limit 100)"), "\(name): \(repl.stderr.prefix(1000))")
        #expect(repl.stdout == "still here\n", "\(name): \(repl.both.prefix(1000))")
    }
}
