@testable import Script
@testable import ScriptLibrary

/// Parses a script; returns its statements as S-expressions and its diagnostics.
func parseScript(_ source: String) -> (tree: String, diagnostics: [Diagnostic]) {
    let sink = DiagnosticSink()
    let program = Parser.parse(source, file: "t.tfs", sink: sink)
    return (program.map(\.description).joined(separator: "\n"), sink.diagnostics)
}

/// The S-expression of a single expression or statement that must parse cleanly.
func syntaxTree(_ source: String) -> String {
    let (tree, diagnostics) = parseScript(source)
    return diagnostics.isEmpty ? tree : "ERROR: " + diagnostics.map(\.description).joined(separator: "; ")
}

/// All diagnostics of the full frontend, as "line:col: message".
func frontendProblems(_ source: String, defined: Set<String> = [], signatures: [String: Signature] = frontendTestBuiltins) -> [String] {
    Frontend.analyze(source, file: "t.tfs", defined: defined, signatures: signatures)
        .diagnostics.map { "\($0.span.line):\($0.span.column): \($0.message)" }
}

func lexTokens(_ source: String) -> [String] {
    let sink = DiagnosticSink()
    var lexer = Lexer(source: source, file: "t.tfs", sink: sink)
    return lexer.tokenize().map(\.description)
}

let frontendTestBuiltins: [String: Signature] = [
    "print": Signature("*values, sep=' '"),
    "softmax": Signature("x, dim=-1"),
    "randn": Signature("shape, *, seed=None"),
    "param": Signature("value"),
    "sum": Signature("x, dim=None"),
    "range": Signature("a, b=None, step=None"),
    "len": Signature("x"),
    "train": Signature("model, data, *, steps=1000, batch=32, lr=0.001, seed=0, checkpoint=None"),
    "transfusion": Signature("**options"),
]
