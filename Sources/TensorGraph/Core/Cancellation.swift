/// How a long library loop (sampling, k-means, held-out evaluation) learns that the user asked
/// it to stop (Ctrl-C, SIGTERM): it asks between its steps — never inside one — and throws
/// `Cancelled` naming what stopped and how far it got.
public struct Cancellation: Sendable {
    public let isRequested: @Sendable () -> Bool

    public init(_ isRequested: @escaping @Sendable () -> Bool) { self.isRequested = isRequested }

    /// Never asks to stop.
    public static let never = Cancellation { false }

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
    public var description: String { "\(activity) stopped" + (progress.isEmpty ? "" : " \(progress)") }
}
