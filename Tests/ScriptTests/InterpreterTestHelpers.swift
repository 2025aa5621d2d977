@testable import Script
@testable import ScriptLibrary
import TensorGraph

/// Runs a script in a fresh session (file "t.tfs").
func runScript(_ source: String, in session: Session = Session(registry: .tfs)) -> CellResult {
    session.run(source: source, file: "t.tfs")
}

/// The repr of the script's last expression; or "ERROR <code>: line:col: message" if it failed.
func evalScript(_ source: String, in session: Session = Session(registry: .tfs)) -> String {
    let r = runScript(source, in: session)
    if let failure = r.failure { return "ERROR \(failure.rawValue): " + firstError(r) }
    return r.value ?? "None"
}

/// Everything the script wrote as text, joined by newlines.
func printedText(_ source: String, in session: Session = Session(registry: .tfs)) -> String {
    let r = runScript(source, in: session)
    if r.failure != nil { return "ERROR: " + firstError(r) }
    return r.outputs.compactMap { if case .text(let t) = $0 { return t } else { return nil } }.joined(separator: "\n")
}

/// The first error output's first line without the file name: "line:col: message".
func firstError(_ r: CellResult) -> String {
    for case .error(let text) in r.outputs {
        let first = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? text
        return first.replacingOccurrences(of: "t.tfs:", with: "").replacingOccurrences(of: " error:", with: "")
    }
    return "(no error output)"
}

/// The full rendered error text.
func errorText(_ r: CellResult) -> String {
    r.outputs.compactMap { if case .error(let t) = $0 { return t } else { return nil } }.joined(separator: "\n")
}
