import Foundation
import TensorGraph

/// A mask written outside Swift — a script function in the FlexAttention style, called with the
/// queries' and keys' fields and returning which pairs may attend. It is evaluated once per
/// layout into a dense matrix, kept for the layouts a run meets again, so training never calls
/// it in a step; combined with | & ~ it is a mask like any other (tile skipping and the check
/// that every query sees a key included).
public final class MaskPredicate: Hashable, @unchecked Sendable, CustomStringConvertible {
    /// The function's name: how the mask prints and how a checkpoint names it.
    public let name: String
    /// The [count × count] row-major matrix of a layout (true: the query may attend to the key).
    let evaluate: (SequenceLayout) throws -> [Bool]

    private let lock = NSLock()
    private var cache: [SequenceLayout: [Bool]] = [:]
    /// Layouts kept at most (generation meets a new one per token); past it the cache starts over.
    static let capacity = 64

    public init(name: String, evaluate: @escaping (SequenceLayout) throws -> [Bool]) {
        self.name = name; self.evaluate = evaluate
    }

    /// The matrix of `layout`, evaluated on first use; the function's error if it fails.
    public func matrix(_ layout: SequenceLayout) throws -> [Bool] {
        if let m = lock.withLock({ cache[layout] }) { return m }
        let m = try evaluate(layout)
        guard m.count == layout.count * layout.count else {
            throw TensorGraphError("mask '\(name)' gave \(m.count) values for a layout of \(layout.count) positions (needs \(layout.count)×\(layout.count))")
        }
        lock.withLock {
            if cache.count >= Self.capacity { cache.removeAll(keepingCapacity: true) }
            cache[layout] = m
        }
        return m
    }

    /// The matrix, or nothing allowed when the function failed (`Mask.check` reports why).
    func allowed(_ layout: SequenceLayout) -> [Bool] {
        (try? matrix(layout)) ?? [Bool](repeating: false, count: layout.count * layout.count)
    }

    public var description: String { name }
    public static func == (a: MaskPredicate, b: MaskPredicate) -> Bool { a === b }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }
}

extension Mask {
    /// The script predicates in this mask, each once, in order.
    public var predicates: [MaskPredicate] {
        switch self {
        case .custom(let p): return [p]
        case .and(let a, let b), .or(let a, let b):
            let left = a.predicates
            return left + b.predicates.filter { p in !left.contains(p) }
        case .not(let a): return a.predicates
        default: return []
        }
    }

    /// Throws the error of a script predicate that cannot evaluate `layout` (evaluating it
    /// otherwise gives "nothing allowed" for it, which the query check would misreport).
    public func check(_ layout: SequenceLayout) throws {
        for p in predicates { _ = try p.matrix(layout) }
    }
}
