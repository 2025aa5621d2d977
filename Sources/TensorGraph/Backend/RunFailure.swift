import Foundation

/// Kernels cannot throw (they run inside tight loops and worker threads); a kernel that meets
/// bad data (an index out of range) writes something harmless and calls `Kernel.fail`, and the
/// plan throws the first such report when its run ends. One sink per plan.
final class RunFailure {
    private let lock = NSLock()
    private var first: TensorGraphError?

    func report(_ message: String, _ node: Node) {
        lock.lock(); defer { lock.unlock() }
        if first == nil { first = TensorGraphError(message, span: node.span) }
    }

    func take() -> TensorGraphError? {
        lock.lock(); defer { lock.unlock() }
        defer { first = nil }
        return first
    }
}
