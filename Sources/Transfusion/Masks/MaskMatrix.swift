import TensorGraph

/// A mask evaluated for one layout: the dense boolean [queries × keys] matrix, and its tile
/// table (which tiles are full, partial or empty — what attention can skip).
public struct MaskMatrix: Sendable {
    public let mask: Mask
    public let layout: SequenceLayout
    public let allowed: [Bool]          // row-major, count × count
    public var count: Int { layout.count }

    public init(_ mask: Mask, _ layout: SequenceLayout) {
        self.mask = mask; self.layout = layout
        let n = layout.count
        var allowed = [Bool](repeating: false, count: n * n)
        for q in 0..<n { for k in 0..<n where mask.allows(q, k, in: layout) { allowed[q * n + k] = true } }
        self.allowed = allowed
    }

    public subscript(q: Int, k: Int) -> Bool { allowed[q * count + k] }

    /// The mask as a float tensor (1 = may attend), the form the attention op takes.
    public var tensorData: TensorData {
        TensorData(shape: [count, count], values: allowed.map { $0 ? 1 : 0 })
    }

    /// A mask under which some query sees no key is an error (its softmax would be over nothing).
    public func validate() throws {
        for q in 0..<count where !(0..<count).contains(where: { self[q, $0] }) {
            throw TensorGraphError("mask \(mask) leaves \(layout.describe(q)) with no key to attend to in layout '\(layout)'")
        }
    }

    public enum Tile: Character, Sendable { case full = "█", partial = "▒", empty = "·" }

    /// Tiles of `rows` queries × `cols` keys, row-major.
    public func tiles(rows: Int = 32, cols: Int = 64) -> (grid: [Tile], rows: Int, cols: Int) {
        let tr = (count + rows - 1) / rows, tc = (count + cols - 1) / cols
        var grid: [Tile] = []
        for i in 0..<tr {
            for j in 0..<tc {
                var any = false, all = true
                for q in i * rows..<min(count, (i + 1) * rows) {
                    for k in j * cols..<min(count, (j + 1) * cols) {
                        if self[q, k] { any = true } else { all = false }
                    }
                }
                grid.append(all ? .full : (any ? .partial : .empty))
            }
        }
        return (grid, tr, tc)
    }

    /// Share of tiles attention skips entirely.
    public func skippedShare(rows: Int = 32, cols: Int = 64) -> Double {
        let t = tiles(rows: rows, cols: cols).grid
        return Double(t.filter { $0 == .empty }.count) / Double(max(t.count, 1))
    }
}
