/// Where in a script (or any text) something came from. TensorGraph only carries it:
/// it lets an error about a graph node point at the expression that built the node.
public struct SourceSpan: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int      // 1-based
    public var column: Int    // 1-based
    public var length: Int

    public init(file: String, line: Int, column: Int, length: Int = 1) {
        self.file = file; self.line = line; self.column = column; self.length = length
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// The one error type of TensorGraph: a message and, when known, the span that caused it.
public struct TensorGraphError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var span: SourceSpan?

    public init(_ message: String, span: SourceSpan? = nil) {
        self.message = message; self.span = span
    }

    public var description: String {
        if let span { return "\(span): \(message)" }
        return message
    }
}
