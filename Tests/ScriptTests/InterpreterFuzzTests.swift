import Foundation
import Testing
@testable import Script
@testable import ScriptLibrary

/// Random and mutated scripts through a whole session: every run ends (a step budget stops
/// infinite loops) with a result, never a crash, and every error output is non-empty.
@Suite struct InterpreterFuzzTests {
    static let corpus = [
        """
        def f(n, acc=0):
            if n <= 0:
                return acc
            return f(n - 1, acc + n)
        xs = [f(i) for i in range(6) if i % 2 == 0]
        d = {"a": xs, "b": len(xs)}
        for k, v in d.items():
            print(k, v)
        print(f"{sum(xs):.2f}", xs[1:], xs[-1])
        """,
        """
        x = randn([2, 8]); w = param(randn([8, 4]) * 0.1)
        y = softmax(x @ w)
        g = grad(sum(y * y), [w])
        print(g[0].shape, y[0, 1:3], y.T.sum(axis=0))
        z = (x[..., :4] - 1) / 2
        print(mean(z), max(z), concat([z, z], axis=1).shape)
        """,
        """
        n = 0
        while n < 5:
            n += 1
            if n == 3:
                continue
        s = 'abc' * 2
        t = (1, 2, 3)
        a, b, c = t
        print(s.upper(), a + b * c, -n ** 2, n // 2, n % 3, 7 / 2, not n, n and s or t)
        """,
        """
        lst = [3, 1, 2]
        lst.sort()
        lst.append(lambda q: q * 2)
        h = lst[-1](lst[0])
        m = {"k": [1, {"z": 2}]}
        m["k"][1]["z"] += h
        print(m, 1 if h > 2 else 0, [i for i in "xyz"], type(m), str(1.5), int(2.7), abs(-1), round(2.567, 1))
        """,
    ]

    static let fragments = ["(", ")", "[", "]", "{", "}", ":", ",", "\n", "    ", "+", "-", "*", "/", "//", "%",
                            "**", "@", "=", "==", "<", "not ", " in ", " and ", " or ", "0", "1", "-1", "2.5", "'s'",
                            "x", "y", "f", "n", "[]", "{}", "None", "True", ".", "[0]", "[1:]", "(1)", "lambda: 0",
                            "return ", "while True:\n    pass\n", "f(f)", "ones([2])", "tensor([1, 2])", "@ ones([3, 2])",
                            ".T", ".sum()", "print(", "len(", "range(3)", "grad(", "10 ** 9", "'a' * 99", "zeros(["]

    /// A deterministic generator so failures reproduce.
    struct Rand {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(n, 1)))
        }
    }

    static func mutate(_ source: String, _ r: inout Rand) -> String {
        var chars = Array(source)
        for _ in 0..<(1 + r.next(4)) {
            let at = r.next(chars.count + 1)
            switch r.next(4) {
            case 0: chars.insert(contentsOf: fragments[r.next(fragments.count)], at: at)
            case 1: if at < chars.count { chars.remove(at: at) }
            case 2:
                let end = min(chars.count, at + r.next(12))
                if at < end { chars.removeSubrange(at..<end) }
            default:
                // Duplicate a line: repeated statements reach states the corpus alone does not.
                let lines = String(chars).split(separator: "\n", omittingEmptySubsequences: false)
                let line = lines[r.next(lines.count)]
                chars.insert(contentsOf: "\n" + line, at: min(at, chars.count))
            }
        }
        return String(chars)
    }

    static func random(_ r: inout Rand) -> String {
        (0..<(1 + r.next(25))).map { _ in fragments[r.next(fragments.count)] }.joined()
    }

    @Test(arguments: 0..<4)
    func mutatedAndRandomScriptsNeverCrash(_ shard: Int) {
        var r = Rand(state: UInt64(shard + 1) &* 0x9E3779B97F4A7C15)
        var ran = 0, failed = 0
        let session = Session(registry: .tfs)
        session.interpreter.stepLimit = 2000
        for i in 0..<600 {
            let source = i % 3 == 0 ? Self.random(&r) : Self.mutate(Self.corpus[r.next(Self.corpus.count)], &r)
            if i % 50 == 0 { session.reset() }
            let result = session.run(source: source, file: "fuzz.tfs")
            ran += 1
            if result.failure != nil {
                failed += 1
                #expect(result.outputs.contains { if case .error(let e) = $0 { return !e.isEmpty } else { return false } },
                        "no error output for: \(source)")
            }
        }
        #expect(ran == 600)
        #expect(failed > 0 && failed < ran)
    }

    @Test func corpusRunsCleanly() {
        for source in Self.corpus {
            let r = Session(registry: .tfs).run(source: source, file: "corpus.tfs")
            #expect(r.failure == nil, "\(errorText(r))")
        }
    }
}
