import Foundation
import Testing

/// `tfs kernel` driven through jupyter_client as JupyterLab or VS Code drive it: each check is a
/// function of Tests/Fixtures/kernel/kernel_checks.py, run with the test Python (which must have
/// jupyter_client, nbconvert and nbformat: scripts/setup installs them; without them these
/// tests fail).
@Suite(.serialized) struct KernelTests {
    static let script = Tool.root.appendingPathComponent("Tests/Fixtures/kernel/kernel_checks.py").path

    static func check(_ name: String, _ arguments: [String] = []) throws {
        let modules = "jupyter_client, nbconvert, nbformat, zmq"
        try #require(Tool.pythonProblem(modules) == nil, "\(Tool.pythonProblem(modules) ?? "")")
        let r = try Tool.run(Tool.pythonExecutable, [script, name] + arguments,
                             environment: ["TFS_BIN": Tool.tfs!.path], directory: Tool.root, timeout: 600)
        #expect(!r.timedOut && r.status == 0 && r.stdout.hasSuffix("ok\n"), "\(r.both)")
    }

    /// kernel_info, execute (streams, execute_input, execute_result with its count, static and
    /// runtime errors with their place, silent cells), comm_info, history, heartbeat, a bad cell
    /// followed by a good one, shutdown ending the process.
    @Test func messagesOfEveryKind() throws { try Self.check("protocol") }

    /// The MIME bundle of each kind of value: an image (PNG), a graph and a mask picture
    /// (SVG), a plot, a dict (HTML and Markdown tables), a plain value (text only).
    @Test func mimeBundlesOfEachKindOfValue() throws { try Self.check("bundles") }

    /// complete_request (names, members, keyword arguments), inspect_request (a builtin's
    /// help, on its name or inside its call), is_complete_request (blocks, brackets, strings).
    @Test func completionInspectionAndCompleteness() throws { try Self.check("introspection") }

    /// A long train interrupted by SIGINT, then by interrupt_request: its progress is one
    /// display updated in place, it stops with its checkpoint kept, the kernel runs the next cell.
    @Test func interruptingTrainingKeepsTheKernel() throws { try Self.check("interrupt") }

    /// Cells queued behind a failing cell are aborted (stop_on_error), as "Run All" expects.
    @Test func cellsQueuedBehindAnErrorAreAborted() throws { try Self.check("abort") }

    /// A restart gives a fresh session in a new process.
    @Test func restartForgetsTheSession() throws { try Self.check("restart") }

    /// Messages signed with another key, or not at all, are refused: never run, never answered;
    /// signed but malformed ones (content not JSON, frames missing) are dropped, the kernel up.
    @Test func wrongSignatureIsRefused() throws { try Self.check("signature") }

    /// `tfs kernel install --user` is found by `jupyter kernelspec list`; `jupyter nbconvert --to
    /// notebook --execute` runs a notebook of tfs cells headless; the result validates with
    /// nbformat and holds each kind of output.
    @Test func nbconvertExecutesANotebook() throws { try Self.check("nbconvert") }

    /// The example scripts' text through the kernel is what `tfs run` prints.
    @Test func examplesPrintWhatRunPrints() throws {
        try Self.check("examples", ["examples/tensors.tfs", "examples/masks.tfs"])
    }
}
