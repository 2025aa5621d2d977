import Testing
@testable import Script
@testable import ScriptLibrary

@Suite struct CheckerTests {
    @Test func validScriptHasNoProblems() {
        let source = """
        x = randn([2, 8]); w = param(randn([8, 4]) * 0.1)
        y = softmax(x @ w, dim=1)
        def loss(a, b=2, *, scale=1.0):
            total = 0
            for i in range(len(a)):
                total += a[i] * b
            return total * scale + later
        later = 3
        print(loss(y), loss(y, 3, scale=2.0))
        f = lambda t, k=1: t * k
        squares = [i * i for i in range(3) if i > 0]
        print(f"{squares} {f(2)}")
        run = train(x, y, steps=10, lr=1e-3)
        """
        #expect(frontendProblems(source) == [])
    }

    @Test func namesAreDefinedInOrderAtTopLevel() {
        #expect(frontendProblems("y = x + 1\nx = 1") ==
                ["1:5: undefined name 'x'"])
        let d = Frontend.analyze("y = x + 1\nx = 1").diagnostics[0]
        #expect(d.note == "'x' is assigned later, on line 2; move this use below it")
        #expect(d.kind == .name)
    }

    @Test func defBodyMaySeeGlobalsDefinedLater() {
        #expect(frontendProblems("def f():\n    return g + 1\ng = 2\nf()") == [])
    }

    @Test func defBodyStillCatchesUnknownNames() {
        #expect(frontendProblems("def f(a):\n    return a + bb") == ["2:16: undefined name 'bb'"])
    }

    @Test func earlierCellsAndBuiltinsAreDefined() {
        #expect(frontendProblems("y = model + causal", defined: ["model", "causal"]) == [])
    }

    @Test func suggestionsUseEditDistance() {
        let d = Frontend.analyze("sofmax(x)", defined: ["x"], signatures: frontendTestBuiltins).diagnostics[0]
        #expect(d.message == "undefined name 'sofmax'")
        #expect(d.note == "did you mean 'softmax'?")
        let far = Frontend.analyze("zzzzzz(x)", defined: ["x"], signatures: frontendTestBuiltins).diagnostics[0]
        #expect(far.note == nil)
    }

    @Test func editDistanceCountsSwapsAsOneEdit() {
        #expect(editDistance("lenght", "length") == 1)
        #expect(editDistance("kitten", "sitting") == 3)
        #expect(closestName(to: "lenght", among: ["length", "len"]) == "length")
    }

    @Test func loopBodyMayUseNamesAssignedLaterInTheBody() {
        #expect(frontendProblems("for i in range(3):\n    if i > 0:\n        print(prev)\n    prev = i") == [])
    }

    @Test func localsAndParametersShadowBuiltinSignatures() {
        #expect(frontendProblems("def f(len):\n    return len(1, 2, 3)") == [])
        #expect(frontendProblems("len = lambda a, b: a\nlen(1, 2)") == [])
    }

    @Test func userDefSignaturesAreChecked() {
        #expect(frontendProblems("def f(a, *, k=1):\n    return a\nf(1, 2)\nf(1, j=2)\nf(k=3)") == [
            "3:6: too many positional arguments to 'f': expected at most 1, got 2",
            "4:6: unknown keyword argument 'j' for 'f'",
            "5:1: 'f' is missing required argument 'a'",
        ])
    }

    @Test func varargsAndKwargsAcceptAnything() {
        #expect(frontendProblems("print(1, 2, 3, sep='')\ntransfusion(dim=1, anything=2)") == [])
    }

    @Test func arityKinds() {
        let ds = Frontend.analyze("softmax()", signatures: frontendTestBuiltins).diagnostics
        #expect(ds.map(\.kind) == [.arity])
    }

    @Test func returnBreakContinuePlacement() {
        #expect(frontendProblems("return 1\nbreak\ncontinue\nwhile true:\n    def f():\n        break\n    break") == [
            "1:1: 'return' outside function", "2:1: 'break' outside loop",
            "3:1: 'continue' outside loop", "6:9: 'break' outside loop",
        ])
    }

    @Test func lambdaAndComprehensionScopes() {
        #expect(frontendProblems("g = lambda a: a + b") == ["1:19: undefined name 'b'"])
        #expect(frontendProblems("xs = [i for i in range(3)]\nprint(i)") == ["2:7: undefined name 'i'"])
    }

    @Test func memberAndIndexAssignmentReadTheObject() {
        #expect(frontendProblems("cfg.lr = 1") == ["1:1: undefined name 'cfg'"])
        #expect(frontendProblems("a, b = 1, 2\nprint(a + b)") == [])
    }

    @Test func diagnosticsComeInSourceOrder() {
        #expect(frontendProblems("def f():\n    return qq\nrr") == ["2:12: undefined name 'qq'", "3:1: undefined name 'rr'"])
    }
}
