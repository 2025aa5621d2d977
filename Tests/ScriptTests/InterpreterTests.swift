import Testing
@testable import Script
@testable import ScriptLibrary
import TensorGraph

/// Evaluation of every construct of the language, checked through a session.
@Suite struct InterpreterTests {
    static let expressions: [(String, String)] = [
        // Literals and arithmetic with int/float promotion.
        ("1 + 2 * 3", "7"), ("7 / 2", "3.5"), ("7 // 2", "3"), ("-7 // 2", "-4"), ("-7 % 3", "2"),
        ("7.5 // 2", "3.0"), ("2 ** 10", "1024"), ("2 ** -1", "0.5"), ("2.0 ** 3", "8.0"), ("1 + 2.5", "3.5"),
        ("True + 1", "2"), ("-(3)", "-3"), ("~5", "-6"), ("6 | 3", "7"), ("6 & 3", "2"), ("1 << 4", "16"),
        ("0.1 + 0.2", "0.30000000000000004"), ("1e-05", "1e-05"), ("10 / 4 * 2", "5.0"),
        // Strings.
        ("'ab' + \"cd\"", "'abcd'"), ("'ab' * 3", "'ababab'"), ("'it\\'s'", "\"it's\""), ("len('héllo')", "5"),
        ("'hello'[1]", "'e'"), ("'hello'[-1]", "'o'"), ("'hello'[1:3]", "'el'"), ("'hello'[::-1]", "'olleh'"),
        ("'a,b'.split(',')", "['a', 'b']"), ("'-'.join(['x', 'y'])", "'x-y'"), ("'Abc'.upper()", "'ABC'"),
        ("'ell' in 'hello'", "True"),
        // Comparisons and logic.
        ("1 < 2", "True"), ("2 <= 1", "False"), ("'a' < 'b'", "True"), ("[1, 2] < [1, 3]", "True"),
        ("1 == 1.0", "True"), ("[1, [2]] == [1, [2]]", "True"), ("None is None", "True"), ("1 != 2", "True"),
        ("0 or 'x'", "'x'"), ("1 and 0", "0"), ("not []", "True"), ("None or 0 or 3", "3"),
        ("'yes' if 2 > 1 else 'no'", "'yes'"), ("3 in [1, 2, 3]", "True"), ("4 not in [1, 2]", "True"),
        ("'k' in {'k': 1}", "True"),
        // Collections.
        ("[1, 2] + [3]", "[1, 2, 3]"), ("[0] * 3", "[0, 0, 0]"), ("(1,)", "(1,)"), ("(1, 'a')", "(1, 'a')"),
        ("{'a': 1, 'b': [2]}", "{'a': 1, 'b': [2]}"), ("{'a': 1}['a']", "1"), ("[1, 2, 3][-1]", "3"),
        ("[1, 2, 3, 4][1:3]", "[2, 3]"), ("[1, 2, 3, 4][::2]", "[1, 3]"), ("[1, 2, 3][5:]", "[]"),
        ("{'a': 1} | {'b': 2}", "{'a': 1, 'b': 2}"), ("{'a': 1}.get('z', 9)", "9"),
        ("[x * x for x in range(5) if x % 2 == 0]", "[0, 4, 16]"), ("[c for c in 'ab']", "['a', 'b']"),
        ("[(i, v) for i, v in enumerate('ab')]", "[(0, 'a'), (1, 'b')]"),
        // Builtins.
        ("len([1, 2])", "2"), ("range(2, 8, 3)", "[2, 5]"), ("str(1.5)", "'1.5'"), ("int('42')", "42"),
        ("int(-3.9)", "-3"), ("float('inf')", "inf"), ("bool('')", "False"), ("list('ab')", "['a', 'b']"),
        ("dict(a=1)", "{'a': 1}"), ("min(3, 1, 2)", "1"), ("max([4, 9, 2])", "9"), ("abs(-2)", "2"),
        ("round(2.5)", "2"), ("round(3.14159, 2)", "3.14"), ("sum([1, 2, 3])", "6"), ("sum([0.5, 0.25])", "0.75"),
        ("zip([1, 2], 'ab')", "[(1, 'a'), (2, 'b')]"), ("type(1.0)", "'float'"), ("type([])", "'list'"),
        ("sorted([3, 1, 2])", "[1, 2, 3]"), ("sorted(['bb', 'a'], key=len)", "['a', 'bb']"),
        ("reversed([1, 2])", "[2, 1]"), ("any([0, 1])", "True"), ("all([])", "True"), ("sqrt(16)", "4.0"),
        ("floor(-1.5)", "-2"), ("round(pi, 3)", "3.142"), ("type(tensor([1]))", "'tensor'"),
        // f-strings.
        ("f'{1 + 1}'", "'2'"), ("f'{3.14159:.2f}'", "'3.14'"), ("f'{42:>5}|'", "'   42|'"), ("f'{7:03d}'", "'007'"),
        ("f'{0.25:.1%}'", "'25.0%'"), ("f'{1234567:,}'", "'1,234,567'"), ("f'{\"ab\":<4}|'", "'ab  |'"),
        ("f'{1e-5:.2e}'", "'1.00e-05'"), ("f'{[1, 2]}'", "'[1, 2]'"), ("f'{{x}}'", "'{x}'"),
        ("f'{tensor([2.5]).sum():.1f}'", "'2.5'"),
        // Lambdas.
        ("(lambda x, y=2: x * y)(4)", "8"), ("(lambda *a: len(a))(1, 2, 3)", "3"),
    ]

    @Test(arguments: expressions)
    func expression(_ source: String, _ expected: String) {
        #expect(evalScript(source) == expected, "\(source)")
    }

    @Test func variablesAndAugmentedAssignment() {
        #expect(evalScript("x = 1\nx += 2\nx *= 5\nx") == "15")
        #expect(evalScript("a, b = 1, 2\na, b = b, a\n[a, b]") == "[2, 1]")
        #expect(evalScript("(a, (b, c)) = [1, (2, 3)]\na + b + c") == "6")
        #expect(evalScript("xs = [1, 2]\nxs[0] = 9\nxs[-1] += 1\nxs") == "[9, 3]")
        #expect(evalScript("d = {}\nd['k'] = 1\nd['k'] += 1\nd") == "{'k': 2}")
        #expect(evalScript("s = 'a'\ns += 'b'\ns") == "'ab'")
        #expect(evalScript("xs = [1, 2, 3, 4]\nxs[1:3] = [0]\nxs") == "[1, 0, 4]")
    }

    @Test func selfContainingListsPrintAndCompare() {
        #expect(printedText("a = [1]\na.append(a)\nd = {}\nd['me'] = d\nprint(a, a == a, d)") == "[1, [...]] True {'me': {...}}")
    }

    @Test func listsAreSharedReferences() {
        #expect(evalScript("a = [1]\nb = a\nb.append(2)\na") == "[1, 2]")
        #expect(evalScript("a = [1]\nb = a\nb += [3]\na") == "[1, 3]")
        #expect(evalScript("a = [1]\nb = a.copy()\nb.append(2)\na") == "[1]")
        #expect(evalScript("d = {'x': []}\nd['x'].append(1)\nd") == "{'x': [1]}")
    }

    @Test func controlFlow() {
        let script = """
        total = 0
        for i in range(10):
            if i == 7:
                break
            elif i % 2 == 0:
                continue
            else:
                total += i
        n = 0
        while True:
            n += 1
            if n >= 4:
                break
        [total, n]
        """
        #expect(evalScript(script) == "[9, 4]")
        #expect(evalScript("for k in {'a': 1, 'b': 2}:\n    last = k\nlast") == "'b'")
        #expect(evalScript("x = 0\nif x:\n    y = 1\nelse:\n    pass\n'ok'") == "'ok'")
    }

    @Test func functionsDefaultsKeywordsAndVarargs() {
        let script = """
        def f(a, b=10, *rest, scale=1, **opts):
            return (a + b + sum(rest)) * scale, sorted(opts.keys())
        [f(1), f(1, 2, 3, 4), f(1, scale=2, z=0, y=1), f(b=1, a=2)]
        """
        #expect(evalScript(script) == "[(11, []), (10, []), (22, ['y', 'z']), (3, [])]")
        #expect(evalScript("def g():\n    pass\ng()") == "None")
        // Defaults are evaluated once, when the def runs (as in Python).
        #expect(evalScript("n = 1\ndef h(x=n):\n    return x\nn = 2\nh()") == "1")
    }

    @Test func closuresAndRecursion() {
        let script = """
        def counter():
            count = [0]
            def bump(by=1):
                count[0] += by
                return count[0]
            return bump
        c = counter()
        c(); c(5)
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        adders = [lambda x, k=k: x + k for k in range(3)]
        [c(), fib(15), adders[2](10)]
        """
        #expect(evalScript(script) == "[7, 610, 12]")
        // Late binding, as in Python: the closure sees the variable's latest value.
        #expect(evalScript("k = 1\nf = lambda: k\nk = 5\nf()") == "5")
    }

    @Test func deepRecursionWithinTheLimitWorks() {
        #expect(evalScript("def down(n):\n    return 0 if n == 0 else 1 + down(n - 1)\ndown(190)") == "190")
    }

    @Test func printJoinsLinesAndHonoursSepAndEnd() {
        #expect(printedText("print('a', 1, [2])\nprint('b', end='')\nprint('c', sep='-')") == "a 1 [2]\nbc")
        #expect(printedText("print(1, 2, sep=', ')") == "1, 2")
        #expect(printedText("for i in range(3):\n    print(i)") == "0\n1\n2")
    }

    @Test func cellValueBindsUnderscore() {
        let s = Session(registry: .tfs)
        #expect(evalScript("21 * 2", in: s) == "42")
        #expect(evalScript("_ + 1", in: s) == "43")
        #expect(runScript("x = 5", in: s).value == nil)
        #expect(runScript("print(1)", in: s).value == nil)   // None is not shown
    }

    @Test func globalsPersistAcrossCells() {
        let s = Session(registry: .tfs)
        _ = runScript("def sq(x):\n    return x * x\nbase = 3", in: s)
        #expect(evalScript("sq(base)", in: s) == "9")
        // The checker knows sq's signature from the earlier cell.
        #expect(evalScript("sq(1, 2)", in: s) == "ERROR 65: 1:7: too many positional arguments to 'sq': expected at most 1, got 2")
    }

    @Test func builtinsCanBeShadowed() {
        #expect(evalScript("sum = 3\nsum + 1") == "4")
        #expect(evalScript("def len(x):\n    return 0\nlen([1])") == "0")
    }

    @Test func methodsOnCollections() {
        #expect(evalScript("xs = [3, 1, 2]\nxs.sort(reverse=True)\nxs.insert(0, 9)\n[xs, xs.pop(), xs.index(3), xs.count(1)]") == "[[9, 3, 2], 1, 1, 0]")
        #expect(evalScript("d = {'a': 1, 'b': 2}\n[d.keys(), d.values(), d.items(), d.pop('a'), d]") ==
                "[['a', 'b'], [1, 2], [('a', 1), ('b', 2)], 1, {'b': 2}]")
        #expect(evalScript("(1, 2, 1).count(1)") == "2")
    }
}
