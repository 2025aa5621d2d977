import Foundation

/// Kernels cannot throw (they run inside tight loops and worker threads); a kernel that meets
/// bad data (an index out of range) writes something harmless and reports here, and the plan
/// throws the report when the run ends.
enum RunFailure {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var first: TensorGraphError?

    static func report(_ message: String, _ node: Node) {
        lock.lock(); defer { lock.unlock() }
        if first == nil { first = TensorGraphError(message, span: node.span) }
    }

    static func take() -> TensorGraphError? {
        lock.lock(); defer { lock.unlock() }
        defer { first = nil }
        return first
    }
}
