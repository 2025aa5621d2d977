import Foundation

/// The block mask attention consumes (FlexAttention's idea): a mask cut into tiles of
/// `queryTile` queries × `keyTile` keys, each tile empty (attention skips it everywhere), full
/// (no mask test) or partial (masked). The tile size is defined here and nowhere else.
///
/// Whoever knows what a mask is made of (Transfusion's feeder and step plans, per layout)
/// builds it once and passes it to `Tensor.attention(..., blocks:)` as plain data: a tensor of
/// tile classes (0 empty, 1 partial, 2 full), [query tiles, key tiles] per mask, with a leading
/// batch axis when the mask has one. Without it, attention classifies the mask itself each run.
public enum BlockMask {
    /// Query rows per tile (no more than the query count: small problems take small tiles).
    public static let queryTile = 32
    /// Keys per tile.
    public static let keyTile = 64

    public enum Tile: UInt8, Sendable { case empty = 0, partial = 1, full = 2 }

    /// Counts the masks classified into tiles while it is set for a task (tests show with it
    /// that a layout's block mask is built once, not in every attention run).
    public final class Classifications: @unchecked Sendable {
        private let lock = NSLock()
        private var counted = 0
        public init() {}
        public var count: Int { lock.withLock { counted } }
        func add() { lock.withLock { counted += 1 } }
    }
    @TaskLocal public static var classifications: Classifications?

    /// Query rows per tile for `t` queries.
    public static func rowsPerTile(queries t: Int) -> Int { Swift.max(1, Swift.min(queryTile, t)) }
    /// [query tiles, key tiles] of a [t, s] mask.
    public static func shape(queries t: Int, keys s: Int) -> [Int] {
        let rows = rowsPerTile(queries: t)
        return [(t + rows - 1) / rows, (s + keyTile - 1) / keyTile]
    }

    /// The tile classes of a dense [t, s] mask (row-major, nonzero = may attend), row-major
    /// [query tiles, key tiles] into `classes`.
    public static func classify(_ mask: UnsafePointer<Float>, queries t: Int, keys s: Int,
                                into classes: UnsafeMutablePointer<Tile>) {
        classifications?.add()
        let rows = rowsPerTile(queries: t), perRow = (s + keyTile - 1) / keyTile
        for block in 0..<((t + rows - 1) / rows) {
            let t0 = block * rows, height = Swift.min(rows, t - t0)
            for index in 0..<perRow {
                let s0 = index * keyTile, width = Swift.min(keyTile, s - s0)
                var ones = 0
                for r in 0..<height {
                    let m = mask + (t0 + r) * s + s0
                    for j in 0..<width where m[j] != 0 { ones += 1 }
                }
                classes[block * perRow + index] = ones == 0 ? .empty : (ones == height * width ? .full : .partial)
            }
        }
    }

    /// The tile classes of a dense [t, s] mask as the floats `Tensor.attention(..., blocks:)` takes.
    public static func classes(_ mask: UnsafeBufferPointer<Float>, queries t: Int, keys s: Int) -> [Float] {
        precondition(mask.count == t * s, "a block mask's dense mask must hold t × s values")
        let count = shape(queries: t, keys: s).reduce(1, *)
        guard count > 0 else { return [] }
        let tiles = [Tile](unsafeUninitializedCapacity: count) { buffer, n in
            classify(mask.baseAddress!, queries: t, keys: s, into: buffer.baseAddress!); n = count
        }
        return tiles.map { Float($0.rawValue) }
    }
}
