import Testing
@testable import Script
@testable import ScriptLibrary
import TensorGraph

/// Each malformed script gives exactly these diagnostics ("line:col: message"), checked
/// with the builtins of `frontendTestBuiltins` plus the globals `x`, `w`, `model`, `data`.
@Suite struct MalformedScriptTests {
    static let cases: [(String, [String])] = [
        // Lexical.
        ("x = \"abc\ny = 1", ["1:5: unterminated string"]),
        ("s = '''never\nends", ["1:5: unterminated triple-quoted string"]),
        ("x = 1e", ["1:5: invalid number '1e': exponent has no digits"]),
        ("x = 1e+", ["1:5: invalid number '1e+': exponent has no digits"]),
        ("x = 3abc", ["1:5: invalid number '3abc'"]),
        ("x = 99999999999999999999", ["1:5: integer literal '99999999999999999999' is too large"]),
        ("x = 2 ^ 3", ["1:7: unexpected character '^'"]),
        ("if x != 1 && w:\n    pass", ["1:11: '&&' is not an operator; use 'and'"]),
        ("s = 'C:\\path'", ["1:8: unknown escape sequence '\\p'"]),
        ("\tx = 1", ["1:1: tab character in indentation", "1:1: unexpected indent"]),
        ("if x:\n    y = 1\n  z = 2", ["3:3: unindent does not match any outer indentation level"]),
        ("def f():\n    a = 1\n  \tb = 2", ["3:1: indentation mixes tabs and spaces",
                                              "3:1: unexpected indent"]),
        // Layout.
        ("  x = 1", ["1:1: unexpected indent"]),
        ("x = 1\n    y = 2", ["2:1: unexpected indent"]),
        ("if x:\npass", ["2:1: expected an indented block after 'if' on line 1"]),
        ("def f():\n\nprint(1)", ["3:1: expected an indented block after 'def' on line 1"]),
        ("for i in x:", ["1:12: expected an indented block after 'for' on line 1"]),
        // Statements.
        ("if x\n    y = 1", ["1:5: expected ':' after the 'if' condition"]),
        ("if x = 1:\n    pass", ["1:6: expected ':' after the 'if' condition"]),
        ("while x\n    pass", ["1:8: expected ':' after the 'while' condition"]),
        ("for i in x\n    pass", ["1:11: expected ':' after the 'for' header"]),
        ("for i x:\n    pass", ["1:7: expected 'in' after the loop variable"]),
        ("def (a):\n    pass", ["1:5: expected a function name after 'def'"]),
        ("def f:\n    pass", ["1:6: expected '(' after the function name"]),
        ("def f(a, a):\n    pass", ["1:10: duplicate parameter 'a'"]),
        ("def f(a=1, b):\n    pass", ["1:12: parameter without a default follows a parameter with a default"]),
        ("def f(a: int):\n    pass", ["1:8: type annotations are not supported"]),
        ("else:\n    pass", ["1:1: 'else' without a matching 'if'"]),
        ("elif x:\n    pass", ["1:1: 'elif' without a matching 'if'"]),
        ("1 = x", ["1:1: cannot assign to a literal"]),
        ("'a' = x", ["1:1: cannot assign to a literal"]),
        ("softmax(x) = 3", ["1:1: cannot assign to a function call"]),
        ("x + 1 = 2", ["1:1: cannot assign to an expression"]),
        ("x, 2 = 1, 2", ["1:4: cannot assign to a literal"]),
        ("a = b = 1", ["1:7: chained assignment is not supported"]),
        ("x = 1 2", ["1:7: unexpected '2' after statement"]),
        ("import torch", ["1:1: 'import' is not supported in tfs scripts"]),
        ("class A:\n    pass", ["1:1: 'class' is not supported in tfs scripts"]),
        // Expressions.
        ("y = 1 +", ["1:8: expected an expression after '+'"]),
        ("y = x *", ["1:8: expected an expression after '*'"]),
        ("y = * x", ["1:5: expected an expression, found '*'"]),
        ("y = )", ["1:5: unmatched ')'"]),
        ("print(x))", ["1:9: unmatched ')'"]),
        ("y = [1, 2)", ["1:10: closing ')' does not match opening '['"]),
        ("y = softmax(x @ w\nprint(y)", ["1:12: '(' was never closed"]),
        ("y = [1, 2,\n     3", ["1:5: '[' was never closed"]),
        ("d = {'a': 1", ["1:5: '{' was never closed"]),
        ("model = transfusion(\n    dim=128, layers=4\n    heads=4,\n)", ["3:5: expected ')' after arguments"]),
        ("y = softmax(x dim=1)", ["1:15: expected ')' after arguments"]),
        ("y = softmax(dim=1, x)", ["1:20: positional argument follows keyword argument"]),
        ("y = softmax(x, dim=1, dim=2)", ["1:23: keyword argument 'dim' repeated"]),
        ("y = softmax(x + 1=2)", ["1:13: a keyword argument needs a plain name before '='"]),
        ("y = {1, 2}", ["1:6: set literals are not supported"]),
        ("y = {'a' 1}", ["1:10: expected ':' after dict key"]),
        ("y = 0 < x < 1", ["1:11: chained comparisons like 'a < b < c' are not supported"]),
        ("y = x if w", ["1:11: expected 'else' in conditional expression"]),
        ("y = x[]", ["1:7: expected an index inside '[]'"]),
        ("y = x.", ["1:7: expected an attribute name after '.'"]),
        ("y = x.1", ["1:7: expected an attribute name after '.'"]),
        ("y = lambda x x", ["1:14: expected ':' after lambda parameters"]),
        ("y = f\"{x\"", ["1:7: expected '}' in f-string"]),
        ("y = f\"{}\"", ["1:7: empty expression in f-string"]),
        ("y = f\"a}\"", ["1:8: single '}' is not allowed in an f-string"]),
        ("y = f\"{x +}\"", ["1:11: expected an expression after '+'"]),
        ("y = print(*x)", ["1:11: unpacking arguments with '*' is not supported"]),
        ("y = sum(i for i in x)", ["1:11: generator expressions are not supported"]),
        // Checking pass.
        ("y = sofmax(x)", ["1:5: undefined name 'sofmax'"]),
        ("y = softmax(xx)", ["1:13: undefined name 'xx'"]),
        ("y = z\nz = 1", ["1:5: undefined name 'z'"]),
        ("y = softmax()", ["1:5: 'softmax' is missing required argument 'x'"]),
        ("y = softmax(x, 1, 2)", ["1:19: too many positional arguments to 'softmax': expected at most 2, got 3"]),
        ("y = softmax(x, dimm=1)", ["1:16: unknown keyword argument 'dimm' for 'softmax'"]),
        ("y = softmax(x, x=1)", ["1:16: 'softmax' got multiple values for argument 'x'"]),
        ("run = train(model, data, 100)", ["1:26: too many positional arguments to 'train': expected at most 2, got 3"]),
        ("run = train(model)", ["1:7: 'train' is missing required argument 'data'"]),
        ("def f(a, b):\n    return a\nf(1)", ["3:1: 'f' is missing required argument 'b'"]),
        ("return x", ["1:1: 'return' outside function"]),
        ("break", ["1:1: 'break' outside loop"]),
        ("if x:\n    continue", ["2:5: 'continue' outside loop"]),
    ]

    @Test func atLeastThirtyFiveCases() {
        #expect(Self.cases.count >= 35)
    }

    @Test(arguments: cases)
    func malformed(source: String, expected: [String]) {
        #expect(frontendProblems(source, defined: ["x", "w", "model", "data"]) == expected)
    }

    @Test func rendersLocationSourceLineAndCaret() {
        let source = "x = 1\ny = softmax(x @ w\n"
        let d = Frontend.analyze(source, file: "examples/foo.tfs").diagnostics[0]
        #expect(d.render(source: source) == """
        examples/foo.tfs:2:12: error: '(' was never closed
            y = softmax(x @ w
                       ^
        """)
    }

    @Test func rendersTildesForTheSpanLengthAndTheNote() {
        let source = "y = sofmax(x)"
        let d = Frontend.analyze(source, file: "a.tfs", defined: ["x"], signatures: frontendTestBuiltins).diagnostics[0]
        #expect(d.render(source: source) == """
        a.tfs:1:5: error: undefined name 'sofmax'
            y = sofmax(x)
                ^~~~~~
        note: did you mean 'softmax'?
        """)
    }

    @Test func renderClipsSpansToTheLineAndSurvivesBadLines() {
        let d = Diagnostic(.runtime, "boom", at: SourceSpan(file: "f", line: 1, column: 3, length: 99))
        #expect(d.render(source: "abcd") == "f:1:3: error: boom\n    abcd\n      ^~")
        let beyond = Diagnostic(.runtime, "boom", at: SourceSpan(file: "f", line: 9, column: 1))
        #expect(beyond.render(source: "abcd") == "f:9:1: error: boom")
        #expect(d.render(source: "abcd", color: true).contains("\u{1B}[1;31merror:"))
    }

    @Test func sinkRendersEveryDiagnostic() {
        let sink = DiagnosticSink()
        _ = Parser.parse("a = 1 +\nb = )", file: "f", sink: sink)
        #expect(sink.render(source: "a = 1 +\nb = )").split(separator: "\n").filter { $0.contains("error:") }.count == 2)
    }
}
