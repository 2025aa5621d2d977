import Foundation
import Testing
@testable import Script
@testable import ScriptLibrary
import TensorGraph

/// Scripts that pass the checker but fail while running: each gives exit code 70 with this
/// exact "line:col: message".
@Suite struct RuntimeErrorTests {
    static let cases: [(String, String)] = [
        ("x = 'a' + 1", "1:5: unsupported operand types for +: 'str' and 'int'"),
        ("xs = [1, 2]\nxs[5]", "2:1: list index 5 out of range (length 2)"),
        ("n = 3\ny = n(1)", "2:5: 'int' object is not callable"),
        ("x = 10\ny = x // 0", "2:5: integer division by zero"),
        ("y = 1.5 / 0", "1:5: float division by zero"),
        ("def f(n):\n    return f(n + 1)\nf(0)", "2:12: maximum recursion depth (200) exceeded"),
        ("d = {'a': 1}\nv = d['b']", "2:5: key 'b' not found in dict"),
        ("'abc'.nope", "1:7: 'str' object has no attribute 'nope'"),
        ("x = ones([2, 3])\ny = ones([4, 5])\nz = x @ y", "3:5: matmul: inner dimensions differ (3 vs 4) (shapes [2, 3] and [4, 5])"),
        ("v = int('x1')", "1:9: int: invalid literal for int(): 'x1'"),
        ("z = zeros('a')", "1:11: zeros: argument 'shape' must be a shape (a list of ints), not 'str'"),
        ("a, b = [1, 2, 3]", "1:1: too many values to unpack (expected 2, got 3)"),
        ("if ones([2]):\n    pass", "1:4: the truth value of a tensor of shape [2] is ambiguous"),
        ("x = 2 ** 100", "1:5: integer overflow"),
        ("f = lambda x: x\nf(1, 2)", "2:6: too many positional arguments to '<lambda>': expected at most 1, got 2"),
        ("g = print\ng(1, color=2)", "2:6: unknown keyword argument 'color' for 'print'"),
        ("for x in 5:\n    pass", "1:10: 'int' object is not iterable"),
        ("t = ones([2])\nt[0] = 1", "2:1: tensors are immutable graph values; index assignment is not supported"),
        ("x = [1][0][0]", "1:5: 'int' object is not subscriptable"),
        ("y = ones([3])[3]", "1:5: tensor index 3 out of range (length 3)"),
        ("y = eval(input('x', [2]))", "1:10: input 'x' was not given a value"),
        ("t = tensor([[1, 2], [3]])", "1:12: tensor: nested lists must be rectangular (expected 2 elements at depth 1)"),
        ("a = [1]\na.append(a)\nb = a < a", "3:5: comparison nested too deeply"),
    ]

    @Test(arguments: cases)
    func runtimeError(_ source: String, _ expected: String) {
        let r = runScript(source)
        #expect(r.failure == .runtime, "\(source)")
        #expect(firstError(r) == expected, "\(source)")
    }

    @Test func errorRendersSourceLineCaretAndNote() {
        let r = runScript("x = 1\ny = 'total: ' + x")
        #expect(errorText(r) == """
            t.tfs:2:5: error: unsupported operand types for +: 'str' and 'int'
                y = 'total: ' + x
                    ^~~~~~~~~~~~~
            note: convert with str(...) first, or use an f-string
            """)
    }

    @Test func errorsInFunctionsFromEarlierCellsRenderTheirLine() {
        let s = Session(registry: .tfs)
        _ = s.run(source: "def bad(x):\n    return x + 'a'", file: "t.tfs", line: 1)
        let r = s.run(source: "y = 2\nbad(y)", file: "t.tfs", line: 4)
        #expect(r.failure == .runtime)
        #expect(errorText(r).contains("t.tfs:2:12: error: unsupported operand types for +: 'int' and 'str'\n        return x + 'a'\n               ^~~~~~~"), "\(errorText(r))")
        #expect(errorText(r).contains("in 'bad', called at t.tfs:5:1"))
    }

    @Test func runtimeErrorsKeepEarlierStateAndOutputs() {
        let s = Session(registry: .tfs)
        _ = runScript("x = 1\nkept = []", in: s)
        let r = runScript("x = 2\nkept.append('a')\nprint('before')\ny = 1 / 0\nz = 3", in: s)
        #expect(r.failure == .runtime)
        #expect(r.outputs.first == .text("before"))
        #expect(evalScript("[x, kept]", in: s) == "[2, ['a']]")
        #expect(evalScript("z", in: s) == "ERROR 65: 1:1: undefined name 'z'")
        #expect(evalScript("x + 1", in: s) == "3")
    }

    @Test func staticErrorsRunNothing() {
        let s = Session(registry: .tfs)
        let r = runScript("print('side effect')\nprint(undefined_thing)", in: s)
        #expect(r.failure == .static_)
        #expect(r.outputs.count == 1)
        #expect(firstError(r) == "2:7: undefined name 'undefined_thing'")
        #expect(evalScript("softmax(ones([2]), dims=0)", in: s) ==
                "ERROR 65: 1:20: unknown keyword argument 'dims' for 'softmax'")
        #expect(evalScript("x = (1 +", in: s).hasPrefix("ERROR 65: "))
    }

    @Test func interruptStopsALongLoopAndKeepsState() async throws {
        let s = Session(registry: .tfs)
        _ = runScript("n = 0", in: s)
        let finished = Finished()
        // The flag is checked at each iteration, so an interrupt may land before the first one:
        // the assignment before the loop is what is certainly kept.
        let task = Task.detached { let r = s.run(source: "n = 1\nwhile True:\n    n += 1", file: "t.tfs"); finished.set(); return r }
        // A run clears the flag when it starts, so an interrupt that lands before the loop is
        // lost (on a busy machine the task may not have started yet): interrupt until it ends.
        repeat {
            try await Task.sleep(nanoseconds: 100_000_000)
            s.interrupt()
        } while !finished.value
        let r = await task.value
        #expect(r.failure == .interrupted)
        #expect(firstError(r).hasSuffix(": interrupted"))
        #expect(evalScript("n > 0", in: s) == "True")
        #expect(evalScript("1 + 1", in: s) == "2")   // the flag does not leak into the next cell
    }

    @Test func stepLimitEndsInfiniteLoops() {
        let s = Session(registry: .tfs)
        s.interpreter.stepLimit = 1000
        let r = runScript("def f():\n    return f()\nwhile True:\n    pass", in: s)
        #expect(r.failure == .interrupted)
        #expect(firstError(r) == "3:7: step limit of 1000 exceeded")
    }

    @Test func overridesReplaceTopLevelAssignments() {
        let s = Session(registry: .tfs)
        s.overrides = ["lr": "0.5", "name": "'b'", "unused": "1"]
        #expect(evalScript("lr = 0.1\nname = 'a'\nsteps = 2\n[lr * steps, name]", in: s) == "[1.0, 'b']")
        #expect(s.unusedOverrides == ["unused"])
        let bad = Session(registry: .tfs)
        bad.overrides = ["lr": "1 +"]
        let r = runScript("lr = 0.1", in: bad)
        #expect(r.failure == .static_)
        #expect(errorText(r).contains("invalid --set value for 'lr'"))
    }
}

/// A flag one task sets and another polls.
private final class Finished: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    var value: Bool { lock.lock(); defer { lock.unlock() }; return done }
    func set() { lock.lock(); done = true; lock.unlock() }
}
