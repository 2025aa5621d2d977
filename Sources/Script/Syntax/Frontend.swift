/// The whole frontend in one call: lex, parse and check a cell.
public enum Frontend {
    /// Parses `source` (a cell starting at `line` of `file`) and, if it parsed cleanly,
    /// checks it against the names and signatures already known. Returns the statements
    /// (possibly partial when there are syntax errors) and every diagnostic, in order.
    /// The cell should run only if `diagnostics` is empty.
    public static func analyze(_ source: String, file: String = "<input>", line: Int = 1,
                               defined: Set<String> = [], signatures: [String: Signature] = [:])
        -> (program: [Stmt], diagnostics: [Diagnostic]) {
        let sink = DiagnosticSink()
        let program = Parser.parse(source, file: file, line: line, sink: sink)
        // Name checks on a broken tree would mostly echo the syntax errors.
        if !sink.hasErrors {
            Checker(defined: defined, signatures: signatures, sink: sink).check(program)
        }
        return (program, sink.diagnostics)
    }
}
