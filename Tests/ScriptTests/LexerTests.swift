import Testing
@testable import Script
@testable import ScriptLibrary
import TensorGraph

@Suite struct LexerTests {
    @Test func simpleStatement() {
        #expect(lexTokens("x = softmax(a @ w, dim=-1)") == [
            "identifier(x)", "=", "identifier(softmax)", "(", "identifier(a)", "@", "identifier(w)",
            ",", "identifier(dim)", "=", "-", "int(1)", ")", "NEWLINE", "EOF",
        ])
    }

    @Test func operatorsUseLongestMatch() {
        #expect(lexTokens("a **= b // c ** d >> e <= f != g //= h ... ") == [
            "identifier(a)", "**=", "identifier(b)", "//", "identifier(c)", "**", "identifier(d)",
            ">>", "identifier(e)", "<=", "identifier(f)", "!=", "identifier(g)", "//=",
            "identifier(h)", "...", "NEWLINE", "EOF",
        ])
    }

    @Test func keywordsIncludingPythonCapitals() {
        let kinds = lex("True true False false None none and or not in is lambda def return").map(\.kind)
        #expect(kinds == [.kwTrue, .kwTrue, .kwFalse, .kwFalse, .kwNone, .kwNone, .kwAnd, .kwOr,
                          .kwNot, .kwIn, .kwIs, .kwLambda, .kwDef, .kwReturn, .newline, .eof])
    }

    @Test func numbers() {
        let values = lex("3 1_000 0.5 (.5) 1. 1e-3 3e-4 2E+2 7e3 0xFF 0b101 0o17").compactMap(\.value)
        #expect(values == [.int(3), .int(1000), .float(0.5), .float(0.5), .float(1.0),
                           .float(0.001), .float(0.0003), .float(200), .float(7000), .int(255), .int(5), .int(15)])
    }

    @Test func strings() {
        let values = lex(#"'a' "b" "tab\tnew\nline" 'it\'s' "\x41\u00e9" r"\n" """multi"#
                         + "\nline\"\"\"").compactMap(\.value)
        #expect(values == [.string("a"), .string("b"), .string("tab\tnew\nline"), .string("it's"),
                           .string("Aé"), .string("\\n"), .string("multi\nline")])
    }

    @Test func indentationProducesIndentAndDedent() {
        let source = """
        def f(x):
            if x:
                return 1

              # a comment at another indent
            return 2
        y = 1
        """
        let sink = DiagnosticSink()
        var lexer = Lexer(source: source, file: "t", sink: sink)
        let kinds = lexer.tokenize().map(\.kind).filter { [.indent, .dedent, .newline].contains($0) }
        #expect(sink.diagnostics.isEmpty)
        #expect(kinds == [.newline, .indent, .newline, .indent, .newline, .dedent, .newline, .dedent, .newline])
    }

    @Test func dedentsAreClosedAtEndOfInput() {
        #expect(lexTokens("if a:\n    if b:\n        c") ==
                ["if", "identifier(a)", ":", "NEWLINE", "INDENT", "if", "identifier(b)", ":", "NEWLINE",
                 "INDENT", "identifier(c)", "NEWLINE", "DEDENT", "DEDENT", "EOF"])
    }

    @Test func newlinesInsideBracketsAndBackslashContinue() {
        #expect(lexTokens("f(1,\n    2)\nx = 1 + \\\n  2") ==
                ["identifier(f)", "(", "int(1)", ",", "int(2)", ")", "NEWLINE",
                 "identifier(x)", "=", "int(1)", "+", "int(2)", "NEWLINE", "EOF"])
    }

    @Test func spansAreOneBasedAndStartAtTheGivenLine() {
        let sink = DiagnosticSink()
        var lexer = Lexer(source: "x = 10\n  \ny", file: "a.tfs", line: 5, sink: sink)
        let spans = lexer.tokenize().map(\.span)
        #expect(spans[0] == SourceSpan(file: "a.tfs", line: 5, column: 1, length: 1))
        #expect(spans[2] == SourceSpan(file: "a.tfs", line: 5, column: 5, length: 2))
        #expect(spans[4] == SourceSpan(file: "a.tfs", line: 7, column: 1, length: 1))
    }

    @Test func crlfLineEndings() {
        #expect(lexTokens("a = 1\r\nb = 2\r\n") ==
                ["identifier(a)", "=", "int(1)", "NEWLINE", "identifier(b)", "=", "int(2)", "NEWLINE", "EOF"])
    }

    @Test func fstringTokenKeepsRawText() {
        let t = lex(#"f"a {x:.2f} \n""#)[0]
        #expect(t.kind == .fstring)
        #expect(t.value == .string(#"a {x:.2f} \n"#))
    }

    @Test(arguments: [
        ("x = 1e", "1:5: invalid number '1e': exponent has no digits"),
        ("x = 'abc", "1:5: unterminated string"),
        ("x = 1 $ 2", "1:7: unexpected character '$'"),
        ("x = 5_", "1:5: invalid number '5_'"),
        ("x = 12ab", "1:5: invalid number '12ab'"),
        ("x = 0x", "1:5: invalid number '0x'"),
        ("x = 0b102", "1:5: invalid number '0b102'"),
        ("s = 'a\\zb'", "1:7: unknown escape sequence '\\z'"),
        ("if a:\n        b\n    c", "3:5: unindent does not match any outer indentation level"),
        ("if a:\n \tb", "2:1: indentation mixes tabs and spaces"),
        ("x = 1 \\ 2", "1:7: unexpected character '\\'"),
    ])
    func lexicalErrors(source: String, expected: String) {
        let sink = DiagnosticSink()
        var lexer = Lexer(source: source, file: "t.tfs", sink: sink)
        _ = lexer.tokenize()
        #expect(sink.diagnostics.map { "\($0.span.line):\($0.span.column): \($0.message)" } == [expected])
    }

    @Test func lexingContinuesAfterAnError() {
        let sink = DiagnosticSink()
        var lexer = Lexer(source: "a = 1e\nb = 'x\nc = $", file: "t", sink: sink)
        let kinds = lexer.tokenize().map(\.kind)
        #expect(sink.diagnostics.count == 3)
        #expect(kinds.filter { $0 == .error }.count == 3)
        #expect(kinds.last == .eof)
    }

    private func lex(_ source: String) -> [Token] {
        var lexer = Lexer(source: source, file: "t", sink: DiagnosticSink())
        return lexer.tokenize()
    }
}


/// A blank line after a block, before a new block, must still close the first block.
@Suite struct BlankLineBetweenBlocksTests {
    @Test func blankLineBeforeADedentedDef() {
        let sink = DiagnosticSink()
        let program = Parser.parse("def f(k):\n    return k\n\ndef g(k):\n    x = 1\n    return x\n", file: "t", sink: sink)
        #expect(!sink.hasErrors)
        #expect(program.count == 2)
    }
}
