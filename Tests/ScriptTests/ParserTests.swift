import Testing
@testable import Script
@testable import ScriptLibrary
import TensorGraph

@Suite struct ParserTests {
    @Test(arguments: [
        ("a + b * c", "(+ a (* b c))"),
        ("a * b + c", "(+ (* a b) c)"),
        ("a - b - c", "(- (- a b) c)"),
        ("-x ** 2", "(- (** x 2))"),
        ("2 ** -1", "(** 2 (- 1))"),
        ("a ** b ** c", "(** a (** b c))"),
        ("a @ b + c", "(+ (@ a b) c)"),
        ("p | q & ~r", "(| p (& q (~ r)))"),
        ("a // b % c", "(% (// a b) c)"),
        ("warmup(100) >> cosine(3e-4)", "(>> (call warmup 100) (call cosine 0.0003))"),
        ("1 << 2 + 3", "(<< 1 (+ 2 3))"),
        ("lm + 5 * diffusion", "(+ lm (* 5 diffusion))"),
        ("causal | same_image", "(| causal same_image)"),
        ("a < b | c", "(< a (| b c))"),
        ("not a == b", "(not (== a b))"),
        ("a and b or c and not d", "(or (and a b) (and c (not d)))"),
        ("x in xs", "(in x xs)"),
        ("x not in xs", "(not in x xs)"),
        ("x is None", "(is x None)"),
        ("x is not None", "(is not x None)"),
        ("a if c else b", "(if c a b)"),
        ("a if c else b if d else e", "(if c a (if d b e))"),
        ("f(x)[0].y", "(. (index (call f x) 0) y)"),
        ("a.b.c(d)", "(call (. (. a b) c) d)"),
        ("f(x, dim=128)", "(call f x dim=128)"),
        ("model.with(mask=causal)", "(call (. model with) mask=causal)"),
        ("-a.b", "(- (. a b))"),
        ("(a + b) * c", "(* (+ a b) c)"),
    ])
    func precedence(source: String, expected: String) {
        #expect(syntaxTree(source) == expected)
    }

    @Test(arguments: [
        ("3", "3"), ("1e-3", "0.001"), ("'hi'", "\"hi\""), ("\"a\" 'b'", "\"ab\""),
        ("True", "True"), ("false", "False"), ("None", "None"), ("none", "None"),
        ("[1, 2]", "(list 1 2)"), ("[]", "(list)"), ("[1, 2,]", "(list 1 2)"),
        ("{\"a\": 1, 'b': [2]}", "(dict (\"a\" 1) (\"b\" (list 2)))"), ("{}", "(dict)"),
        ("(a, b)", "(tuple a b)"), ("(a,)", "(tuple a)"), ("()", "(tuple)"), ("(a)", "a"),
        ("...", "..."),
    ])
    func literals(source: String, expected: String) {
        #expect(syntaxTree(source) == expected)
    }

    @Test(arguments: [
        ("lambda x, y=1: x + y", "(lambda (x y=1) (+ x y))"),
        ("lambda: 0", "(lambda () 0)"),
        ("f(lambda t: t * 2)", "(call f (lambda (t) (* t 2)))"),
        ("lambda x: a if x else b", "(lambda (x) (if x a b))"),
    ])
    func lambdas(source: String, expected: String) {
        #expect(syntaxTree(source) == expected)
    }

    @Test(arguments: [
        ("a[1:3]", "(index a (slice 1 3 _))"),
        ("a[:, 0]", "(index a (slice _ _ _) 0)"),
        ("a[::2]", "(index a (slice _ _ 2))"),
        ("a[1:]", "(index a (slice 1 _ _))"),
        ("a[:-1]", "(index a (slice _ (- 1) _))"),
        ("a[..., -1]", "(index a ... (- 1))"),
        ("a[i, j:k:2]", "(index a i (slice j k 2))"),
        ("a[None]", "(index a None)"),
    ])
    func slices(source: String, expected: String) {
        #expect(syntaxTree(source) == expected)
    }

    @Test(arguments: [
        ("x = 1", "(= x 1)"),
        ("a.b = e", "(= (. a b) e)"),
        ("a[i] = e", "(= (index a i) e)"),
        ("x += 1", "(+= x 1)"),
        ("x -= 1", "(-= x 1)"),
        ("x *= 2", "(*= x 2)"),
        ("x /= 2", "(/= x 2)"),
        ("a, b = b, a", "(= (tuple a b) (tuple b a))"),
        ("(a, b), c = f()", "(= (tuple (tuple a b) c) (call f))"),
        ("x = randn([2, 8]); w = param(x)", "(= x (call randn (list 2 8)))\n(= w (call param x))"),
        ("pass;", "pass"),
        ("return", "(return)"),
        ("return a, b", "(return (tuple a b))"),
    ])
    func simpleStatements(source: String, expected: String) {
        #expect(syntaxTree(source) == expected)
    }

    @Test func blocks() {
        let source = """
        def f(a, b=2, *, c=3):
            if a:
                return b
            elif c:
                pass
            else:
                return c
            for x in xs:
                if x: break
                continue
            while a > 0:
                a -= 1
            return None
        """
        #expect(syntaxTree(source) == """
        (def f (a b=2 * c=3) (block (if (a (block (return b))) (c (block pass)) (else (block (return c)))) \
        (for x xs (block (if (x (block break))) continue)) (while (> a 0) (block (-= a 1))) (return None)))
        """)
    }

    @Test func parameterForms() {
        #expect(syntaxTree("def f(*args, **kwargs): pass") == "(def f (*args **kwargs) (block pass))")
        #expect(syntaxTree("def g(a, *rest, k=1): pass") == "(def g (a *rest k=1) (block pass))")
    }

    @Test func forWithTupleTarget() {
        #expect(syntaxTree("for i, x in enumerate(xs):\n    print(i)") ==
                "(for (tuple i x) (call enumerate xs) (block (call print i)))")
    }

    @Test func comprehension() {
        #expect(syntaxTree("[x * 2 for x in range(3) if x > 0]") ==
                "(listcomp (* x 2) x (call range 3) if (> x 0))")
    }

    @Test func fstrings() {
        #expect(syntaxTree(#"f"step {i}: loss {loss:.3f}""#) == #"(f "step " {i} ": loss " {loss:.3f})"#)
        #expect(syntaxTree(#"f"{{literal}} {d['k']}""#) == #"(f "{literal} " {(index d "k")})"#)
        #expect(syntaxTree(#"f"a\n{x}" "b""#) == #"(f "a\n" {x} "b")"#)
    }

    @Test func fstringExpressionSpansPointIntoTheFile() throws {
        let sink = DiagnosticSink()
        let program = Parser.parse("\ny = f\"v={a + b}\"", file: "t", sink: sink)
        guard case .assign(_, let value) = program[0].kind, case .fstring(let parts) = value.kind,
              case .value(let e, _) = parts[1] else { Issue.record("bad tree"); return }
        #expect(e.span == SourceSpan(file: "t", line: 2, column: 10, length: 5))
    }

    @Test func newlinesInsideBrackets() {
        let source = """
        model = transfusion(
            dim=128, layers=4,

            mask=causal | same_image,   # a comment
        )
        """
        #expect(syntaxTree(source) == "(= model (call transfusion dim=128 layers=4 mask=(| causal same_image)))")
    }

    @Test func designExampleParses() {
        let source = """
        # %% data
        data = shapes(size=16, seed=0)                 # procedural captioned images
        show(data.take(8))

        # %% train
        run = train(model, data, steps=1500, batch=32, lr=warmup(100) >> cosine(3e-4), seed=1,
                    checkpoint="runs/shapes.safetensors")
        plot(run.loss)
        x = randn([2, 8]); w = param(randn([8, 4]) * 0.1)
        g = grad(sum(y * y), [w])   # more lazy nodes
        print(g[0])
        """
        let (t, diagnostics) = parseScript(source)
        #expect(diagnostics.isEmpty)
        #expect(t.split(separator: "\n").count == 8)
    }

    @Test func spansCoverTheNodeText() {
        let sink = DiagnosticSink()
        let program = Parser.parse("y = softmax(x @ w, dim=1)", file: "t", sink: sink)
        guard case .assign(let target, let value) = program[0].kind,
              case .call(let callee, let args) = value.kind else { Issue.record("bad tree"); return }
        #expect(program[0].span == SourceSpan(file: "t", line: 1, column: 1, length: 25))
        #expect(target.span == SourceSpan(file: "t", line: 1, column: 1, length: 1))
        #expect(value.span == SourceSpan(file: "t", line: 1, column: 5, length: 21))
        #expect(callee.span == SourceSpan(file: "t", line: 1, column: 5, length: 7))
        #expect(args[0].value.span == SourceSpan(file: "t", line: 1, column: 13, length: 5))
        #expect(args[1].labelSpan == SourceSpan(file: "t", line: 1, column: 20, length: 3))
    }

    @Test func multiLineNodeSpanRunsToTheEndOfItsFirstLine() {
        let sink = DiagnosticSink()
        let program = Parser.parse("z = f(a,\n      b)", file: "t", sink: sink)
        #expect(program[0].span == SourceSpan(file: "t", line: 1, column: 1, length: 8))
    }

    @Test func recoversAndReportsSeveralErrors() {
        let source = """
        x = 1 +
        y = 2
        def (a):
            pass
        z = 3 3
        w = ok
        """
        let (t, diagnostics) = parseScript(source)
        #expect(diagnostics.map(\.span.line) == [1, 3, 5])
        #expect(t == "(= y 2)\n(= w ok)")
    }

    @Test func parseExpressionEntryPoint() {
        let sink = DiagnosticSink()
        let e = Parser.parseExpression("a + b", sink: sink)
        #expect(e?.description == "(+ a b)")
        #expect(Parser.parseExpression("a b", sink: sink) == nil)
        #expect(sink.diagnostics.map(\.message) == ["unexpected 'b'"])
    }

    @Test func signatureSpec() {
        let s = Signature("model, data, *, steps=1000, **options")
        #expect(s.params.map(\.name) == ["model", "data", "steps"])
        #expect(s.requiredCount == 2)
        #expect(s.positional.count == 2)
        #expect(s.kwargs && !s.variadic)
        #expect(Signature("*values, sep=' '").variadic)
    }
}
