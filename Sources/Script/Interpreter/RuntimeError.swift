import TensorGraph

/// An error raised while a cell runs. Code that knows no location throws it without a span;
/// the interpreter attaches the span of the innermost expression being evaluated, so every
/// error points at the script text that failed.
public struct RuntimeError: Error, CustomStringConvertible {
    public var message: String
    public var span: SourceSpan?
    public var note: String?
    /// Calls the error passed through on its way out, innermost first: "in 'f' (called at t.tfs:3:5)".
    public var trace: [String] = []

    public init(_ message: String, span: SourceSpan? = nil, note: String? = nil) {
        self.message = message; self.span = span; self.note = note
    }

    public var description: String { span.map { "\($0): \(message)" } ?? message }

    /// Runs library code whose errors know no script: a `TensorGraphError` becomes a runtime
    /// error, which the interpreter then locates at the call being evaluated.
    public static func located<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as TensorGraphError { throw RuntimeError(e.message) }
    }

    /// The diagnostic to show: the trace joins the note, innermost call first.
    public func diagnostic(fallback: SourceSpan) -> Diagnostic {
        let calls = collapsed(trace)
        let notes = ([note] + calls.prefix(8).map(Optional.some)).compactMap { $0 }
        let more = calls.count > 8 ? ["... and \(calls.count - 8) more"] : []
        return Diagnostic(.runtime, message, at: span ?? fallback,
                          note: notes.isEmpty ? nil : (notes + more).joined(separator: "\n      "))
    }

    /// Runs of the same frame (deep recursion) shown once with a count.
    private func collapsed(_ frames: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < frames.count {
            var j = i
            while j < frames.count && frames[j] == frames[i] { j += 1 }
            out.append(j - i > 1 ? "\(frames[i]) (\(j - i) times)" : frames[i])
            i = j
        }
        return out
    }

    /// A type error in an operator or call: "unsupported operand types for +: 'str' and 'int'".
    static func type(_ message: String, note: String? = nil) -> RuntimeError {
        RuntimeError(message, note: note)
    }
}

/// Thrown when the user interrupts a running cell (Ctrl-C) or a step budget runs out;
/// unwinds every frame without being caught by script-level handling.
public struct Interrupted: Error, CustomStringConvertible {
    public var span: SourceSpan?
    public var reason: String
    public var description: String { reason }
}

extension TensorGraphError {
    /// The graph's error as a script error; its own span (the expression that built the
    /// failing node) wins over the one being evaluated.
    func runtime(at span: SourceSpan) -> RuntimeError {
        RuntimeError(message, span: self.span ?? span)
    }
}
