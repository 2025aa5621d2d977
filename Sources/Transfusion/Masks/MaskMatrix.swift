import TensorGraph

/// A mask evaluated for one layout: the dense boolean [queries × keys] matrix, and its tile
/// table (which of attention's `BlockMask` tiles are full, partial or empty — what it skips).
public struct MaskMatrix: Sendable {
    public let mask: Mask
    public let layout: SequenceLayout
    public let allowed: [Bool]          // row-major, count × count
    public var count: Int { layout.count }

    public init(_ mask: Mask, _ layout: SequenceLayout) {
        self.mask = mask; self.layout = layout
        allowed = mask.allowed(queries: 0..<layout.count, keys: 0..<layout.count, in: layout)
    }

    public subscript(q: Int, k: Int) -> Bool { allowed[q * count + k] }

    /// The mask as a float tensor (1 = may attend), the form the attention op takes.
    public var tensorData: TensorData {
        TensorData(shape: [count, count], values: allowed.map { $0 ? 1 : 0 })
    }

    /// A mask under which some query sees no key is an error (its softmax would be over nothing).
    public func validate() throws {
        try mask.check(layout)
        for q in 0..<count where !(0..<count).contains(where: { self[q, $0] }) {
            throw TensorGraphError("mask \(mask) leaves \(layout.describe(q)) with no key to attend to in layout '\(layout)'")
        }
    }

    public enum Tile: Character, Sendable { case full = "█", partial = "▒", empty = "·" }

    /// Attention's tiles of this matrix (`BlockMask`), row-major: `rows` query tiles × `cols` key tiles.
    public func tiles() -> (grid: [Tile], rows: Int, cols: Int) {
        let shape = BlockMask.shape(queries: count, keys: count)
        let classes = tensorData.values.withUnsafeBufferPointer { BlockMask.classes($0, queries: count, keys: count) }
        let tiles: [Tile] = [.empty, .partial, .full]
        return (classes.map { tiles[Int($0)] }, shape[0], shape[1])
    }

    /// Share of tiles attention skips entirely.
    public func skippedShare() -> Double {
        let t = tiles().grid
        return Double(t.filter { $0 == .empty }.count) / Double(max(t.count, 1))
    }
}

extension Mask {
    /// Whether each query of `queries` may attend to each key of `keys` in `layout`, row-major
    /// [queries × keys]: the one evaluation of a mask over a layout (the dense matrix, the
    /// feeder's rows and the step plans' blocks all read it).
    public func allowed(queries: Range<Int>, keys: Range<Int>, in layout: SequenceLayout) -> [Bool] {
        // Script predicates are evaluated over the whole layout once (and kept); every pair then
        // reads them, so no mask ever needs more than the one output matrix.
        let custom = Dictionary(predicates.map { (ObjectIdentifier($0), $0.allowed(layout)) }, uniquingKeysWith: { a, _ in a })
        var out = [Bool](repeating: false, count: queries.count * keys.count)
        for (i, q) in queries.enumerated() {
            for (j, k) in keys.enumerated() where allows(q, k, in: layout, custom) { out[i * keys.count + j] = true }
        }
        return out
    }
}
