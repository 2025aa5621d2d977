import Script
import TensorGraph
import Transfusion
import Visual

/// A mask in the language: combines with | & ~, prints symbolically, and `.on(layout)`
/// evaluates it for a sequence layout.
final class MaskValue: ScriptObject {
    let mask: Mask
    /// How many operators deep the mask is (a primitive is 1). Masks combined in a loop are
    /// refused past `maxDepth`: printing, comparing, simplifying and evaluating a mask recurse
    /// over it (and simplifying costs its size at every operator).
    let depth: Int
    static let maxDepth = 1000
    init(_ mask: Mask, depth: Int = 1) { self.mask = mask; self.depth = depth }

    static let type: ValueType = {
        let m = Members<MaskValue>("mask")
        return ValueType("mask", help: "An attention mask: a predicate on (query, key) positions of a layout, combined with | & ~.", methods: [
            m.method("on", "layout", "This mask evaluated for a layout: a matrix that prints as blocks and shows as a picture.",
                     example: "(causal | same_image).on(\"text:3 image:2x2 text:2\")") { mask, a in
                .object(MaskViewValue(MaskMatrix(mask.mask, try MaskBuiltins.layout(a, "layout"))))
            },
            m.method("check", "layout", "Fails if some query of the layout would attend to no key.",
                     example: "causal.check(\"text:4\")") { mask, a in
                try RuntimeError.located { try MaskMatrix(mask.mask, try MaskBuiltins.layout(a, "layout")).validate() }
                return .none
            },
        ])
    }()

    var description: String { mask.description }

    func binary(_ op: BinaryOperator, _ other: Value, reversed: Bool) throws -> Value? {
        guard case .object(let o) = other, let rhs = o as? MaskValue else { return nil }
        let (a, b) = reversed ? (rhs.mask, mask) : (mask, rhs.mask)
        let depth = max(self.depth, rhs.depth) + 1
        switch op {
        case .bitOr: return try Self.combined(a | b, depth: depth)
        case .bitAnd: return try Self.combined(a & b, depth: depth)
        default: return nil
        }
    }

    func unary(_ op: UnaryOperator) throws -> Value? {
        op == .invert ? try Self.combined(~mask, depth: depth + 1) : nil
    }

    private static func combined(_ mask: Mask, depth: Int) throws -> Value {
        guard depth <= maxDepth else {
            throw RuntimeError("mask expression nested too deeply (limit \(maxDepth)); combine fewer masks, or use document(ids)")
        }
        return .object(MaskValue(mask, depth: depth))
    }
}

/// A sequence layout value (`layout("text:5 image:4x4")`).
final class LayoutValue: ScriptObject {
    let layout: SequenceLayout
    init(_ layout: SequenceLayout) { self.layout = layout }
    static let type: ValueType = {
        let m = Members<LayoutValue>("layout")
        return ValueType("layout", help: "A sequence layout: which positions are text, BOI/EOI and image patches, and their documents.", fields: [
            m.field("count", "How many positions.") { .int($0.layout.count) },
            m.field("images", "How many images.") { .int($0.layout.imageCount) },
        ])
    }()
    var description: String { "layout(\"\(layout)\")" }
}

/// A mask evaluated for a layout: prints as Unicode blocks, shows as an SVG picture with the
/// tile view, and gives its matrix as a tensor.
final class MaskViewValue: ScriptObject {
    let matrix: MaskMatrix
    init(_ matrix: MaskMatrix) { self.matrix = matrix }
    static let type: ValueType = {
        let m = Members<MaskViewValue>("mask_matrix")
        return ValueType("mask_matrix", help: "A mask evaluated for a layout (mask.on(layout)): prints as blocks, shows as a picture with its attention tiles.", fields: [
            m.field("tensor", "The matrix as a [count, count] tensor of 0 and 1 (1: the query attends to the key).") { .tensor(Tensor.constant($0.matrix.tensorData)) },
            m.field("skipped", "The share of attention tiles the kernel skips (no allowed pair in them).") { .float($0.matrix.skippedShare()) },
            m.field("count", "How many positions.") { .int($0.matrix.count) },
            m.field("svg", "The picture as SVG text.") { .string($0.picture.svg()) },
        ])
    }()
    var picture: MaskPicture { MaskPicture(matrix) }
    var description: String { picture.terminal(color: false) }

    func output() throws -> Output? { .svg(picture.svg(), caption: "\(matrix.mask) on \(matrix.layout)") }
}

extension MaskPicture {
    /// The picture of a mask evaluated for a layout, with its attention tile table.
    public init(_ m: MaskMatrix, tileRows: Int = BlockMask.queryTile, tileCols: Int = BlockMask.keyTile) {
        let t = m.tiles()
        self.init(title: "\(m.mask)  on  \(m.layout)", count: m.count, allowed: m.allowed,
                  kinds: m.layout.tokens.map(\.kind.letter), images: m.layout.tokens.map(\.image),
                  tiles: Tiles(grid: t.grid.map(\.rawValue), rows: t.rows, cols: t.cols, tileRows: tileRows, tileCols: tileCols))
    }
}
