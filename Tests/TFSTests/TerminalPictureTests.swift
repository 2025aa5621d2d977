import Foundation
import Testing

/// Pictures inline in the REPL, on a pseudo-terminal: the escape sequences of each protocol
/// when the terminal is known from the environment, when it answers the REPL's queries
/// (kitty graphics query, Primary Device Attributes), the block-art fallback, and the setting.
@Suite struct TerminalPictureTests {
    /// Starts the REPL with `env` and `args` on a terminal, shows an image, answers the
    /// terminal queries with `answer` (unless nil: then none may be sent), then expects
    /// `expected` (a regular expression over what the terminal shows) and the next prompt.
    static func script(env: [String: String], args: [String] = [], answer: String?, expected: String,
                       absent: [String] = [], code: String = "show(shapes(size=16).take(2))",
                       path: String = #"\[PNG [^\r\n]*\] \S+in-1-1\.png"#) -> String {
        func py(_ s: String) -> String {
            "\"" + s.unicodeScalars.map { $0.value < 0x20 || $0 == "\\" || $0 == "\"" ? String(format: "\\x%02x", $0.value) : String($0) }.joined() + "\""
        }
        let envItems = env.map { "\(py($0.key)): \(py($0.value))" }.joined(separator: ", ")
        let argItems = (["repl", "--no-history"] + args).map(py).joined(separator: ", ")
        let query = "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\\u{1B}[c"
        return """
        env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "NO_COLOR": "1", \(envItems)}
        c = pexpect.spawn(os.environ["TFS_BIN"], [\(argItems)], env=env, encoding="utf-8", timeout=60, dimensions=(40, 120))
        c.logfile_read = log
        c.expect_exact("In [1]: ")
        c.sendline(\(py(code)))
        c.expect(\(py(path)))
        \(answer.map { "c.expect_exact(\(py(query)))\nc.send(\(py($0)))" } ?? "")
        c.expect(\(py(expected)))
        c.expect_exact("In [2]: ")
        shown = c.before
        for text in [\(absent.map(py).joined(separator: ", "))]:
            assert text not in shown, (text, shown[-300:])
        if \(answer == nil ? "True" : "False"):
            assert "\\x1b[c" not in log.getvalue(), "the terminal was queried"
        c.sendline(":quit"); c.expect(pexpect.EOF)
        print("ok")
        """
    }

    static func run(_ body: String) throws {
        try #require(Tool.pythonProblem("pexpect") == nil, "\(Tool.pythonProblem("pexpect") ?? "")")
        let r = try #require(Tool.pexpect(body, environment: ["TFS_BIN": Tool.tfs!.path]))
        #expect(r.status == 0 && r.stdout.hasSuffix("ok\n"), "\(r.both)")
    }

    static let kittyStart = "\u{1B}_G", sixelStart = "\u{1B}P", iterm2Start = "\u{1B}]1337;File="

    @Test func kittyTerminalKnownByItsEnvironment() throws {
        try Self.run(Self.script(env: ["TERM": "xterm-kitty"], answer: nil, expected: "\u{1B}_Ga=T,f=32",
                                 absent: [Self.sixelStart]))
    }

    @Test func kittyTerminalFoundByTheGraphicsQuery() throws {
        try Self.run(Self.script(env: ["TERM": "xterm-256color"], answer: "\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[?62;22c",
                                 expected: "\u{1B}_Ga=T,f=32", absent: [Self.sixelStart]))
    }

    @Test func sixelTerminalFoundByDeviceAttributes() throws {
        try Self.run(Self.script(env: ["TERM": "xterm-256color"], answer: "\u{1B}[?62;4;22c",
                                 expected: "\u{1B}P[0-9;]*q\"", absent: [Self.kittyStart]))
    }

    @Test func sixelTerminalKnownByItsEnvironment() throws {
        try Self.run(Self.script(env: ["TERM": "foot"], answer: nil, expected: "\u{1B}P[0-9;]*q\"", absent: [Self.kittyStart]))
    }

    @Test func otherTerminalsGetBlockArt() throws {
        try Self.run(Self.script(env: ["TERM": "xterm-256color"], answer: "\u{1B}[?62;22c",
                                 expected: "[\u{2580}-\u{259F}]", absent: [Self.kittyStart, Self.sixelStart, Self.iterm2Start]))
    }

    /// Drawings (SVG: plots, mask pictures, graphs) are rasterized and shown the same way.
    @Test(arguments: [
        ("plot([3, 2, 1.5, 1.2], title=\"loss\")", #"\[SVG loss\] \S+in-1-1\.svg"#),
        ("show(causal.on(layout(\"text:3 image:2x2\")))", #"\[SVG causal on text:3 image:2x2\] \S+in-1-1\.svg"#),
        ("graph(randn([2, 3]) * 2)", #"\[SVG\] \S+in-1-1\.svg"#),
    ])
    func drawingsAppearToo(code: String, path: String) throws {
        try Self.run(Self.script(env: ["TERM": "foot"], answer: nil, expected: "\u{1B}P[0-9;]*q\"",
                                 absent: [Self.kittyStart], code: code, path: path))
        try Self.run(Self.script(env: ["TERM": "xterm-256color"], answer: "\u{1B}[?62;22c",
                                 expected: "[\u{2580}-\u{259F}]", absent: [Self.kittyStart, Self.sixelStart], code: code, path: path))
    }

    @Test func settingForcesAModeOrTurnsPicturesOff() throws {
        try Self.run(Self.script(env: ["TERM": "xterm-256color", "TFS_PICTURES": "iterm2"], answer: nil,
                                 expected: "\u{1B}\\]1337;File=", absent: [Self.kittyStart]))
        try Self.run(Self.script(env: ["TERM": "xterm-kitty"], args: ["--pictures", "off"], answer: nil,
                                 expected: "\n", absent: [Self.kittyStart, Self.sixelStart, Self.iterm2Start, "\u{2580}", "\u{2584}"]))
        let bad = try Tool.tfs(["repl", "--pictures", "hologram"])
        #expect(bad.status == 64 && bad.stderr.contains("not one of auto, kitty, iterm2, sixel, blocks, off"), "\(bad.both)")
    }
}
