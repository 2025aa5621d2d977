import Synchronization
import TensorGraph

/// The "stop now" flag of a running session. Set from another thread (the REPL's SIGINT
/// handler): an atomic store, which is safe even inside a signal handler, unlike a lock.
/// The interpreter polls it at every loop iteration and every call.
public final class InterruptFlag: @unchecked Sendable {
    private let raised = Atomic<Bool>(false)

    public init() {}

    public func raise() { raised.store(true, ordering: .relaxed) }
    public func clear() { raised.store(false, ordering: .relaxed) }
    public var isRaised: Bool { raised.load(ordering: .relaxed) }
}

extension InterruptFlag {
    /// The flag as library loops ask it: they stop between steps once it is raised.
    public var cancellation: Cancellation { Cancellation { self.isRaised } }
}
