import TensorGraph

/// `tfs run --set lr=3e-4`: top-level assignments to an overridden name take the override's
/// expression instead, so a shell loop can sweep a script's settings without editing it.
extension Session {
    func applyOverrides(_ program: [Stmt], _ sink: DiagnosticSink) -> [Stmt] {
        guard !overrides.isEmpty else { return program }
        return program.map { stmt in
            guard case .assign(let target, _) = stmt.kind, case .name(let name) = target.kind,
                  let text = overrides[name] else { return stmt }
            let file = "--set \(name)"
            remember(file: file, source: text)
            let parsed = DiagnosticSink()
            guard let value = Parser.parseExpression(text, file: file, sink: parsed), !parsed.hasErrors else {
                for d in parsed.diagnostics {
                    sink.report(Diagnostic(d.kind, "invalid --set value for '\(name)': \(d.message)", at: d.span, note: d.note))
                }
                if !parsed.hasErrors {
                    sink.report(.syntax, "invalid --set value for '\(name)': '\(text)' is not an expression",
                                at: SourceSpan(file: file, line: 1, column: 1, length: text.count))
                }
                return stmt
            }
            usedOverrides.insert(name)
            return Stmt(.assign(target: target, value: value), stmt.span)
        }
    }

    /// Overrides that no top-level assignment has used so far.
    public var unusedOverrides: [String] { overrides.keys.filter { !usedOverrides.contains($0) }.sorted() }
}
