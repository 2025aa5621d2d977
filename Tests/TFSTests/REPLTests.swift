import Foundation
import Testing

/// The REPL driven as a user would: through a pipe, and through a pseudo-terminal.
@Suite(.enabled(if: Tool.hasTFS, "the tfs executable is not built (swift build --product tfs)"))
struct REPLPipeTests {
    @Test func aPipedExpressionPrintsItsValue() throws {
        let r = try Tool.tfs([], input: "1+1\n")
        #expect(r.status == 0, "\(r.both)")
        #expect(r.stdout == "2\n", "\(r.both)")
        #expect(r.stderr.isEmpty, "\(r.both)")
    }

    @Test func pipedLinesHaveNoPromptsAndKeepState() throws {
        let input = """
        x = 41
        x + 1
        print("hello")
        x

        """
        let r = try Tool.tfs([], input: input)
        #expect(r.status == 0, "\(r.both)")
        #expect(r.stdout == "42\nhello\n41\n", "\(r.both)")
        #expect(!r.stdout.contains("In ["))
    }

    @Test func blocksEndAtABlankLineOrTheNextUnindentedLine() throws {
        let input = """
        total = 0
        for i in range(4):
            total = total + i
        print(total)
        for i in range(2):
            print(i)

        print("done")
        items = [1,
                 2,
                 3]
        print(items[2])
        """
        let r = try Tool.tfs([], input: input)
        #expect(r.status == 0, "\(r.both)")
        #expect(r.stdout == "6\n0\n1\ndone\n3\n", "\(r.both)")
    }

    @Test func anErrorDoesNotEndTheSessionOrLoseVariables() throws {
        let input = """
        x = 5
        y + 1
        [1, 2, 3][10]
        x * 2
        """
        let r = try Tool.tfs([], input: input)
        #expect(r.stdout == "10\n", "\(r.both)")
        // Errors go to stderr with file:line:col pointing into the piped stream.
        #expect(r.stderr.contains("<stdin>:2:1: error:"), "\(r.both)")
        #expect(r.stderr.contains("<stdin>:3:"), "\(r.both)")
        // Piped, the exit status is that of the first failing input (a static error here).
        #expect(r.status == 65, "\(r.both)")
    }

    @Test func commandsWork() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("lib.tfs")
        try "# %% one\nbase = 100\n# %% two\nprint(base + 1)\n".write(to: script, atomically: true, encoding: .utf8)
        let saved = dir.appendingPathComponent("saved.tfs")
        let input = """
        a = 3
        :vars
        :help
        :load \(script.path)
        broken +
        :time a + 1
        :save \(saved.path)
        :reset
        :vars
        :nonsense
        :quit
        print("not reached")
        """
        let r = try Tool.tfs([], input: input)
        #expect(r.stdout.contains("a  int  3"), "\(r.both)")
        #expect(r.stdout.contains(":graph <expr>"), "\(r.both)")
        #expect(r.stdout.contains("── [1] one ──") && r.stdout.contains("101"), "\(r.both)")
        #expect(r.stdout.contains("4\n"), "\(r.both)")
        #expect(r.stdout.contains("Wall time:"), "\(r.both)")
        #expect(r.stderr.contains("unknown command ':nonsense'"), "\(r.both)")
        #expect(!r.stdout.contains("not reached"))
        // After :reset nothing is defined.
        let afterReset = r.stdout.components(separatedBy: "session reset").last ?? ""
        #expect(!afterReset.contains("a  int"), "\(r.both)")
        // :save wrote the inputs that ran without error, as cells of a runnable script.
        let text = try String(contentsOf: saved, encoding: .utf8)
        #expect(text.contains("a = 3") && text.contains("base = 100") && text.contains("a + 1"), "\(text)")
        #expect(!text.contains("broken"), "\(text)")
        let rerun = try Tool.tfs(["run", saved.path])
        #expect(rerun.status == 0, "\(rerun.both)")
        #expect(rerun.stdout.contains("101"), "\(rerun.both)")
    }
}

/// The REPL in a pseudo-terminal (Python's pexpect): readline editing, history across
/// sessions, completion, multi-line entries, errors, Ctrl-C during a loop and at the prompt.
@Suite(.enabled(if: Tool.hasTFS, "the tfs executable is not built (swift build --product tfs)"))
struct REPLTerminalTests {
    static let script = #"""
    tfs = os.environ["TFS_BIN"]; hist = os.environ["TFS_HISTORY"]
    env = dict(os.environ, TERM="xterm", NO_COLOR="1")
    def start():
        c = pexpect.spawn(tfs, [], env=env, encoding="utf-8", timeout=30, dimensions=(40, 200))
        c.logfile_read = log
        c.expect_exact("In [1]: ")
        return c
    def step(name):
        log.write("\n##### " + name + "\n")
    c = start()
    step("a value"); c.sendline("x = 41"); c.expect_exact("In [2]: ")
    c.sendline("x + 1"); c.expect_exact("Out[2]: 42"); c.expect_exact("In [3]: ")
    step("an error, then a correct line"); c.sendline("y + 1"); c.expect("error"); c.expect_exact("In [4]: ")
    c.sendline("x * 2"); c.expect_exact("Out[4]: 82"); c.expect_exact("In [5]: ")
    step("a multi-line block"); c.sendline("for i in range(3):"); c.expect_exact("...: ")
    c.sendline("    print(i * 10)"); c.expect_exact("...: ")
    c.sendline(""); c.expect(r"0\r\n10\r\n20\r\n"); c.expect_exact("In [6]: ")
    step("an open bracket"); c.sendline("z = [1,"); c.expect_exact("...: "); c.sendline("  2]"); c.expect_exact("In [7]: ")
    step("tab completion of a name"); c.sendline("learning_rate_value = 3"); c.expect_exact("In [8]: ")
    c.send("learning_ra\t"); c.expect_exact("te_value"); c.send("\r"); c.expect_exact("Out[8]: 3"); c.expect_exact("In [9]: ")
    step("Ctrl-C during a long loop"); c.sendline("while true:"); c.expect_exact("...: ")
    c.sendline("    pass"); c.expect_exact("...: "); c.sendline("")
    # readline hands the line over (and turns bracketed paste off) before the block runs.
    c.expect_exact("\x1b[?2004l")
    # Ctrl-C until the loop reports the interrupt (a slow machine may not have started it yet).
    for attempt in range(15):
        c.sendintr()
        if c.expect(["(?i)interrupt", pexpect.TIMEOUT], timeout=2) == 0: break
    else:
        raise AssertionError("Ctrl-C did not interrupt the loop")
    c.expect_exact("In [10]: ")
    step("variables intact after Ctrl-C"); c.sendline("x"); c.expect_exact("Out[10]: 41"); c.expect_exact("In [11]: ")
    step("Ctrl-C at the prompt drops the line"); c.send("this is dropped"); c.expect_exact("this is dropped"); c.sendintr(); c.expect_exact("In [11]: ")
    c.sendline("x + 2"); c.expect_exact("Out[11]: 43"); c.expect_exact("In [12]: ")
    step("Ctrl-C in a half-typed block drops the block"); c.sendline("if x > 0:"); c.expect_exact("...: ")
    c.sendintr(); c.expect_exact("In [12]: ")
    c.sendline('print("from history")'); c.expect_exact("from history"); c.expect_exact("In [13]: ")
    step("Ctrl-D leaves"); c.sendeof(); c.expect(pexpect.EOF); c.close()
    assert c.exitstatus == 0, c.exitstatus
    step("the history file")
    saved = open(hist).read().splitlines()
    for line in ["x = 41", "for i in range(3):", "    print(i * 10)", "learning_rate_value = 3", 'print("from history")']:
        assert line in saved, (line, saved)
    assert "this is dropped" not in saved, saved
    step("history recalled by a new session (up arrow)"); c = start()
    c.send("\x1b[A"); c.expect_exact('print("from history")'); c.send("\r"); c.expect_exact("from history"); c.expect_exact("In [2]: ")
    step("Ctrl-R search"); c.send("\x12learning_rate_value ="); c.expect_exact("learning_rate_value ="); c.send("\r"); c.expect_exact("In [3]: ")
    c.sendline("learning_rate_value"); c.expect_exact("Out[3]: 3"); c.expect_exact("In [4]: ")
    step("command completion"); c.send(":va\t"); c.expect_exact("rs"); c.send("\r"); c.expect(r"learning_rate_value\s+int\s+3"); c.expect_exact("In [4]: ")
    step("member completion"); c.sendline("t = randn([2, 3])"); c.expect_exact("In [5]: ")
    c.send("t.sha\t"); c.expect_exact("pe"); c.send("\r"); c.expect_exact("Out[5]: [2, 3]"); c.expect_exact("In [6]: ")
    step("keyword argument completion"); c.send("softmax(t, ax\t"); c.expect_exact("is="); c.send("0).shape\r")
    c.expect_exact("Out[6]: [2, 3]"); c.expect_exact("In [7]: ")
    c.sendline(":quit"); c.expect(pexpect.EOF)
    print("ok")
    """#

    @Test func historyCompletionMultiLineErrorsAndCtrlC() throws {
        try #require(Tool.pythonProblem("pexpect") == nil, "\(Tool.pythonProblem("pexpect") ?? "")")
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let history = dir.appendingPathComponent("history").path
        let r = try #require(Tool.pexpect(Self.script, environment: ["TFS_BIN": Tool.tfs!.path, "TFS_HISTORY": history]))
        #expect(r.status == 0 && r.stdout.hasSuffix("ok\n"), "\(r.both)")
    }
}

/// IPython's habits in a pseudo-terminal: a paste is one cell, history recalls whole cells,
/// `name?`, `Out[n]`, `exit`; Ctrl-C stops a tensor evaluation and a generation, leaving the
/// assigned variable as it was.
@Suite(.enabled(if: Tool.hasTFS, "the tfs executable is not built (swift build --product tfs)"))
struct REPLHabitsTests {
    static let prelude = #"""
    tfs = os.environ["TFS_BIN"]
    env = dict(os.environ, TERM="xterm", NO_COLOR="1")
    def start():
        c = pexpect.spawn(tfs, [], env=env, encoding="utf-8", timeout=60, dimensions=(40, 200))
        c.logfile_read = log
        c.expect_exact("In [1]: ")
        return c
    def step(name):
        log.write("\n##### " + name + "\n")
    def paste(c, text):
        # What a terminal sends for a bracketed paste: the text between the markers, lines ended by CR.
        c.send("\x1b[200~" + text.replace("\n", "\r") + "\x1b[201~")
    def interrupt(c, line, what):
        # Sends the line; once readline has handed it over (bracketed paste off), Ctrl-C until
        # an interruption is reported. One that lands elsewhere (before the work starts, or
        # in another phase) is reported otherwise: then the line is sent again. `what` starts
        # with "error: interrupted" too, so at the same place it is the one matched.
        for attempt in range(5):
            c.sendline(line)
            c.expect_exact("\x1b[?2004l")
            # Later attempts give the work longer to get going (a busy machine starts slowly);
            # a line that finishes first shows its prompt, and is sent again.
            if attempt > 0 and c.expect([r"In \[\d+\]: ", pexpect.TIMEOUT], timeout=attempt) == 0: continue
            for k in range(15):
                c.sendintr()
                seen = c.expect([what, r"error: interrupted", pexpect.TIMEOUT], timeout=2)
                if seen < 2: break
            if seen == 0: return
            c.expect(r"In \[\d+\]: ")
        raise AssertionError("Ctrl-C did not interrupt: " + what)

    """#

    static let habits = prelude + #"""
    c = start()
    step("a paste with blank lines is one cell")
    paste(c, "def two(a):\n    b = a + 1\n\n    return b * 2\n\nprint(two(3))\n")
    c.send("\r"); c.expect_exact("8\r\n"); c.expect_exact("In [2]: ")
    c.sendline("two(5)"); c.expect_exact("Out[2]: 12"); c.expect_exact("In [3]: ")
    step("Out[n], _n, _ and __")
    c.sendline("7 * 6"); c.expect_exact("Out[3]: 42"); c.expect_exact("In [4]: ")
    c.sendline("Out[2] + _3 + _ + __"); c.expect_exact("Out[4]: 108"); c.expect_exact("In [5]: ")
    step("name? and name??")
    c.sendline("softmax?"); c.expect_exact("softmax(x, axis=-1)"); c.expect_exact("In [5]: ")
    c.sendline("two??"); c.expect_exact("source:"); c.expect_exact("    return b * 2"); c.expect_exact("In [5]: ")
    c.sendline("nothing_here?"); c.expect_exact("no help for 'nothing_here'"); c.expect_exact("In [5]: ")
    step("exit leaves")
    c.sendline("exit"); c.expect(pexpect.EOF); c.close()
    assert c.exitstatus == 0, c.exitstatus
    step("history keeps the pasted cell whole")
    entries = open(os.environ["TFS_HISTORY"]).read().split("\n#")
    assert any("def two(a):\n    b = a + 1\n" in e and "print(two(3))" in e for e in entries), entries
    c = start()
    c.send("\x1b[A" * 6)   # exit, nothing_here?, two??, softmax?, Out..., 7 * 6 ...
    c.send("\x1b[A" * 2)   # ... two(5), then the pasted cell
    c.expect_exact("print(two(3))"); c.send("\r"); c.expect_exact("8\r\n"); c.expect_exact("In [2]: ")
    c.sendline("quit()"); c.expect(pexpect.EOF)
    print("ok")
    """#

    static let interrupts = prelude + #"""
    c = start()
    step("Ctrl-C between the kernels of a long evaluation")
    c.sendline("m = randn(256, 256) * 0.06; y = m; s = 5"); c.expect_exact("In [2]: ")
    c.sendline("for i in range(20000): y = y @ m"); c.expect_exact("In [3]: ")
    c.sendline("t = y.sum()"); c.expect_exact("In [4]: ")
    interrupt(c, "s = t.item()", r"error: interrupted: tensor.item: evaluation stopped after \d+ of \d+ kernels")
    c.expect(r"In \[\d+\]: ")
    c.sendline("s"); c.expect(r"Out\[\d+\]: 5\r\n"); c.expect(r"In \[\d+\]: ")
    step("Ctrl-C during a generation")
    c.sendline("model = transfusion(dim=64, layers=2, heads=2); z = 7"); c.expect(r"In \[\d+\]: ")
    interrupt(c, 'z = draw(model, ["a red circle"] * 64, steps=1000)', r"error: interrupted: draw: drawing stopped after \d+ of 1000 denoising steps")
    c.expect(r"In \[\d+\]: ")
    c.sendline("z"); c.expect(r"Out\[\d+\]: 7\r\n"); c.expect(r"In \[\d+\]: ")
    c.sendline("quit"); c.expect(pexpect.EOF)
    print("ok")
    """#

    @Test func pasteHistoryHelpOutputsAndExit() throws {
        try #require(Tool.pythonProblem("pexpect") == nil, "\(Tool.pythonProblem("pexpect") ?? "")")
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let history = dir.appendingPathComponent("history").path
        let r = try #require(Tool.pexpect(Self.habits, environment: ["TFS_BIN": Tool.tfs!.path, "TFS_HISTORY": history]))
        #expect(r.status == 0 && r.stdout.hasSuffix("ok\n"), "\(r.both)")
    }

    @Test func ctrlCStopsAnEvaluationAndAGenerationAndKeepsTheVariable() throws {
        try #require(Tool.pythonProblem("pexpect") == nil, "\(Tool.pythonProblem("pexpect") ?? "")")
        let r = try #require(Tool.pexpect(Self.interrupts, environment: ["TFS_BIN": Tool.tfs!.path, "TFS_HISTORY": ""]))
        #expect(r.status == 0 && r.stdout.hasSuffix("ok\n"), "\(r.both)")
    }
}

/// The piped REPL's IPython habits and its temporary folder.
@Suite(.enabled(if: Tool.hasTFS, "the tfs executable is not built (swift build --product tfs)"))
struct REPLPipeHabitsTests {
    @Test func exitEndsAndHelpQueriesAnswer() throws {
        let r = try Tool.tfs([], input: "x = 1\nx?\nsoftmax?\nexit\nprint('not reached')\n")
        #expect(r.status == 0, "\(r.both)")
        #expect(r.stdout.contains("x: a 'int' value (1)") && r.stdout.contains("softmax(x, axis=-1)"), "\(r.both)")
        #expect(!r.stdout.contains("not reached"), "\(r.both)")
    }

    @Test func theDefaultPictureFolderIsRemovedAtTheEnd() throws {
        let tmp = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let r = try Tool.tfs([], input: "graph(ones([2]) * 2)\n", environment: ["TMPDIR": tmp.path])
        #expect(r.status == 0, "\(r.both)")
        #expect(r.stdout.contains("tfs-repl-") && r.stdout.contains(".svg"), "\(r.both)")
        let left = try FileManager.default.contentsOfDirectory(atPath: tmp.path)
        #expect(left.isEmpty, "\(left)")
    }

    @Test func varsKeepsEachVariableOnOneLine() throws {
        // A model's parameters print as a table of several lines; :vars shows them in one row.
        let r = try Tool.tfs([], input: "p = transfusion(dim=16, layers=1, heads=2).parameters\nn = 3\nprint(p)\n:vars\n")
        let printed = r.stdout.components(separatedBy: "\n").filter { !$0.isEmpty }
        #expect(printed.count > 4, "\(r.both)")   // the table's rows, then the two variables
        let rows = printed.suffix(2)
        #expect(rows.first?.hasPrefix("n ") == true && rows.last?.hasPrefix("p  parameters  layer") == true, "\(r.both)")
    }
}

