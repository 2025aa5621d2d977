/// How a long library loop (sampling, k-means, held-out evaluation) learns that the user asked
/// it to stop (Ctrl-C, SIGTERM): it asks between its steps — never inside one — and throws
/// `Cancelled` naming what stopped and how far it got.
public struct Cancellation: Sendable {
    public let isRequested: @Sendable () -> Bool

    public init(_ isRequested: @escaping @Sendable () -> Bool) { self.isRequested = isRequested }

    /// Never asks to stop.
    public static let never = Cancellation { false }

    /// What a plan run asks between its kernels (`Plan.run`): a session binds its interrupt
    /// flag here while a cell runs, so Ctrl-C stops a long evaluation after the kernel that is
    /// running. Code that must not stop inside a run (a training step, whose update must be
    /// whole) binds `.never` around it and asks its own cancellation between steps.
    @TaskLocal public static var current: Cancellation = .never

    /// Throws `Cancelled` when a stop was asked for; `progress` says where the loop was
    /// ("after step 12 of 50").
    @inline(__always)
    public func check(_ activity: @autoclosure () -> String, _ progress: @autoclosure () -> String = "") throws {
        if isRequested() { throw Cancelled(activity: activity(), progress: progress()) }
    }
}

/// A loop stopped because `Cancellation` asked it to.
public struct Cancelled: Error, CustomStringConvertible {
    public let activity: String, progress: String
    public init(activity: String, progress: String) { self.activity = activity; self.progress = progress }
    public var description: String { "\(activity) stopped" + (progress.isEmpty ? "" : " \(progress)") }
}
