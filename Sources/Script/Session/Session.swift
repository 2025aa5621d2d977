import Foundation
import TensorGraph

/// A running tfs program: globals that persist from cell to cell (or REPL input to input),
/// and the one entry point that runs a cell — check it, run it, collect what it produced.
///
/// Errors never end a session. A static error (syntax, undefined name, bad arguments) stops
/// the cell before anything runs; a runtime error stops it where it happened, keeping the
/// outputs produced so far and every assignment made before the error.
public final class Session {
    public let interpreter: Interpreter
    /// `tfs run --set name=value`: each top-level assignment to `name` gets `value` (parsed as
    /// an expression) instead of its own right-hand side.
    public var overrides: [String: String] = [:]
    /// The overrides some assignment used (the CLI can warn about the others).
    public internal(set) var usedOverrides: Set<String> = []
    /// Render diagnostics with ANSI colours.
    public var color = false
    /// Cells run on a thread with this much stack, so deep recursion in scripts (up to
    /// `interpreter.maxCallDepth`) is an error rather than a crash whatever thread calls `run`.
    public var stackSize = 64 << 20
    /// Names a later cell may still define, which a function body may use before they exist
    /// (globals resolve when the body runs). Nil: any name (the REPL, whose next input is
    /// unknown); `tfs run` and `runCells` set the names the whole file binds.
    public var laterNames: Set<String>?
    /// The number of the input about to run, when the front end numbers inputs (the REPL's
    /// `In [n]`): its value is then kept as `Out[n]` and `_n`, and `__`/`___` shift (IPython's
    /// output history). Nil: only `_` is kept.
    public var outputNumber: Int?
    /// The value of the last cell that ended in an expression (what `_` holds).
    public private(set) var lastValue: Value?

    /// The text of every file or input run so far, by file name, for rendering errors raised
    /// in code defined by an earlier cell.
    var sources: [String: [String]] = [:]

    public init(interpreter: Interpreter) {
        self.interpreter = interpreter
    }

    /// A session whose scripts reach the builtins of `registry` (the language's alone by
    /// default; front ends pass the language with the model library added).
    public convenience init(registry: Registry = .language) {
        self.init(interpreter: Interpreter(registry: registry))
    }

    public var registry: Registry { interpreter.registry }

    /// Asks the running cell to stop (thread-safe; the REPL calls it on Ctrl-C). The cell
    /// ends with failure `.interrupted` at its next loop iteration or call.
    public func interrupt() { interpreter.interruptFlag.raise() }

    /// Metrics recorded so far by `record(...)`.
    public var metrics: [Metric] { interpreter.metrics }

    /// Forgets every variable, metric and the random state (the REPL's `:reset`).
    public func reset() {
        for name in interpreter.globalNames { interpreter.removeGlobal(name) }
        interpreter.clearMetrics()
        interpreter.rng = RNG(seed: 0)
        lastValue = nil
    }

    // MARK: running a cell

    /// Runs one cell (or REPL input) whose text starts at line `line` of `file`.
    public func run(source: String, file: String = "<input>", line: Int = 1) -> CellResult {
        let start = Date()
        remember(source, file: file, line: line)
        var result = runChecked(source, file: file, line: line)
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    /// Parses and checks a whole script without running it: its diagnostics, rendered.
    public func check(source: String, file: String) -> [String] {
        let sink = DiagnosticSink()
        let program = Parser.parse(source, file: file, sink: sink)
        var outside = checkerOutside
        outside.laterDefined = { _ in false }   // the whole script is here: nothing comes later
        if !sink.hasErrors { Checker(outside: outside, sink: sink).check(program) }
        return sink.diagnostics.map(render)
    }

    private func runChecked(_ source: String, file: String, line: Int) -> CellResult {
        let sink = DiagnosticSink()
        var program = Parser.parse(source, file: file, line: line, sink: sink)
        if !sink.hasErrors { program = applyOverrides(program, sink) }
        if !sink.hasErrors {
            Checker(outside: checkerOutside, sink: sink).check(program)
        }
        if sink.hasErrors {
            return CellResult(outputs: [.error(sink.diagnostics.map(render).joined(separator: "\n"))], failure: .static_)
        }
        interpreter.interruptFlag.clear()
        // Plans the cell runs ask the interrupt flag between kernels.
        let cancellation = interpreter.interruptFlag.cancellation
        return onLargeStack { Cancellation.$current.withValue(cancellation) { self.execute(program) } }
    }

    private func execute(_ program: [Stmt]) -> CellResult {
        var result = CellResult()
        do {
            if let value = try interpreter.run(program), !value.isNone {
                if let outputNumber { recordOutput(value, number: outputNumber) }
                interpreter.setGlobal("_", value)
                lastValue = value
                // A library object that draws itself shows as its output, not as text.
                if case .object(let o) = value, let output = try o.output() {
                    // Not twice: a value that showed itself as it was made (`plot(...)`) is already there.
                    if interpreter.outputs.last != output { interpreter.emit(output) }
                } else {
                    result.value = try interpreter.displayRepr(value)
                }
            }
        } catch let error as RuntimeError {
            result.failure = .runtime
            interpreter.emit(.error(render(error.diagnostic(fallback: fallbackSpan(program)))))
        } catch let error as TensorGraphError {
            result.failure = .runtime
            interpreter.emit(.error(render(error.runtime(at: fallbackSpan(program)).diagnostic(fallback: fallbackSpan(program)))))
        } catch let error as Interrupted {
            result.failure = .interrupted
            let span = error.span ?? fallbackSpan(program)
            interpreter.emit(.error(render(Diagnostic(.runtime, error.reason, at: span))))
        } catch let stop as Cancelled {
            // A plan stopped between kernels outside any builtin (printing, an operator).
            interpreter.interruptFlag.clear()
            result.failure = .interrupted
            interpreter.emit(.error(render(Diagnostic(.runtime, "interrupted: \(stop)", at: fallbackSpan(program)))))
        } catch {
            result.failure = .runtime
            interpreter.emit(.error("error: \(error)"))
        }
        result.outputs = interpreter.takeOutputs()
        return result
    }

    private func fallbackSpan(_ program: [Stmt]) -> SourceSpan {
        program.first?.span ?? SourceSpan(file: "<input>", line: 1, column: 1)
    }

    /// Runs `body` on a thread with a large stack and waits for it.
    private func onLargeStack<T>(_ body: @escaping () -> T) -> T {
        let box = ResultBox(body)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread { box.value = box.body(); done.signal() }
        thread.stackSize = stackSize
        thread.start()
        done.wait()
        return box.value!
    }

    // MARK: names the checker knows

    /// What the checker may assume is defined, looked up per name (never copied: a piped REPL
    /// checks one cell per line, and copying every global each time made it quadratic):
    /// globals, constants, `_` and builtins. Builtins and global functions have signatures
    /// the checker verifies calls against; a global that shadows a builtin with a
    /// non-function hides the builtin's signature.
    private var checkerOutside: Checker.Outside {
        let interpreter = interpreter, registry = interpreter.registry
        return Checker.Outside(
            isDefined: { interpreter.global($0) != nil || registry.isDefined($0) },
            signature: { name in
                switch interpreter.global(name) {
                case .function(let f)?: return f.signature
                case .builtin(let b)?: return b.signature
                case .some: return nil
                case nil: return registry.functions[name]?.signature
                }
            },
            names: { Set(interpreter.globalNames).union(registry.names) },
            laterDefined: { [laterNames] name in laterNames?.contains(name) ?? true })
    }

    // MARK: rendering

    private func remember(_ source: String, file: String, line: Int) {
        let cell = sourceLines(source)
        // In place: a copy of the file's lines per cell would make a long piped session quadratic.
        let missing = line - 1 + cell.count - (sources[file]?.count ?? 0)
        if missing > 0 { sources[file, default: []] += Array(repeating: "", count: missing) }
        sources[file, default: []].replaceSubrange((line - 1)..<(line - 1 + cell.count), with: cell)
    }

    /// Registers the whole text of a file (so errors in any of its cells render).
    public func remember(file: String, source: String) { sources[file] = sourceLines(source) }

    /// A diagnostic rendered with its source line and caret.
    public func render(_ diagnostic: Diagnostic) -> String {
        diagnostic.render(lines: sources[diagnostic.span.file] ?? [], color: color)
    }
}

/// Carries a closure to another thread and its result back (the semaphore orders the accesses).
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
    let body: () -> T
    init(_ body: @escaping () -> T) { self.body = body }
}
