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

    var typeName: String { "mask" }
    var description: String { mask.description }
    var memberNames: [String] { ["on", "check"] }

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

    func member(_ name: String) throws -> Value? {
        switch name {
        case "on":
            return .builtin(Builtin("on", "layout", help: "This mask evaluated for a layout: a matrix that prints as blocks and shows as a picture.",
                                    example: "(causal | same_image).on(\"text:3 image:2x2 text:2\")") { a in
                .object(MaskViewValue(MaskMatrix(self.mask, try MaskBuiltins.layout(a, "layout"))))
            })
        case "check":
            return .builtin(Builtin("check", "layout", help: "Fails if some query of the layout would attend to no key.",
                                    example: "causal.check(\"text:4\")") { a in
                try MaskBuiltins.located { try MaskMatrix(self.mask, try MaskBuiltins.layout(a, "layout")).validate() }
                return .none
            })
        default: return nil
        }
    }
}

/// A sequence layout value (`layout("text:5 image:4x4")`).
final class LayoutValue: ScriptObject {
    let layout: SequenceLayout
    init(_ layout: SequenceLayout) { self.layout = layout }
    var typeName: String { "layout" }
    var description: String { "layout(\"\(layout)\")" }
    var memberNames: [String] { ["count", "images"] }
    func member(_ name: String) throws -> Value? {
        switch name {
        case "count": return .int(layout.count)
        case "images": return .int(layout.imageCount)
        default: return nil
        }
    }
}

/// A mask evaluated for a layout: prints as Unicode blocks, shows as an SVG picture with the
/// tile view, and gives its matrix as a tensor.
final class MaskViewValue: ScriptObject {
    let matrix: MaskMatrix
    init(_ matrix: MaskMatrix) { self.matrix = matrix }
    var typeName: String { "mask_matrix" }
    var picture: MaskPicture { MaskPicture(matrix) }
    var description: String { picture.terminal(color: false) }
    var memberNames: [String] { ["tensor", "skipped", "count", "png", "svg"] }

    func member(_ name: String) throws -> Value? {
        switch name {
        case "tensor": return .tensor(Tensor.constant(matrix.tensorData))
        case "skipped": return .float(matrix.skippedShare())
        case "count": return .int(matrix.count)
        case "svg": return .string(picture.svg())
        default: return nil
        }
    }

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
