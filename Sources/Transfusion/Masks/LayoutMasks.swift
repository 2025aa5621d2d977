import Foundation
import TensorGraph

/// A mask evaluated once per layout, for the feeder: the dense rows attention reads and the
/// block mask it consumes, kept for the layouts a run meets again (packed rows repeat their
/// layouts), so neither is rebuilt per batch and attention never classifies tiles per run.
/// Safe to share between threads.
public final class LayoutMasks: @unchecked Sendable {
    public let mask: Mask
    /// The dense mask (1 = may attend) and its `BlockMask` tile classes for one layout.
    public struct Entry { public let dense: [Float], blocks: [Float] }

    private let lock = NSLock()
    private var entries: [SequenceLayout: Entry] = [:]
    /// Layouts kept at most, and mask values kept at most (long rows take T² each); past either
    /// the cache starts over.
    let capacity: Int, maxValues: Int
    private var values = 0
    /// How many layouts were evaluated (each once while it stays cached).
    public var builds: Int { lock.withLock { built } }
    private var built = 0

    public init(_ mask: Mask, capacity: Int = 256, maxValues: Int = 1 << 23) {
        self.mask = mask; self.capacity = capacity; self.maxValues = maxValues
    }

    /// The mask over `layout`, evaluated on first use. A script predicate that cannot evaluate
    /// the layout throws its own error then (evaluated, it would read as "nothing allowed", which
    /// the no-key check would misreport); a layout once evaluated is never checked again.
    public func entry(_ layout: SequenceLayout) throws -> Entry {
        lock.lock(); defer { lock.unlock() }
        if let entry = entries[layout] { return entry }
        try mask.check(layout)
        let dense = MaskMatrix(mask, layout).tensorData.values
        let entry = Entry(dense: dense, blocks: dense.withUnsafeBufferPointer { BlockMask.classes($0, queries: layout.count, keys: layout.count) })
        if entries.count >= capacity || values + dense.count > maxValues { entries.removeAll(keepingCapacity: true); values = 0 }
        entries[layout] = entry; values += dense.count
        built += 1
        return entry
    }
}
