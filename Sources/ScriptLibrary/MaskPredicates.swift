import Script
import TensorGraph
import Transfusion

/// Script functions as masks, FlexAttention style: `predicate(f)` calls `f(q, k)` once per
/// layout, with the queries' fields as columns [n, 1] and the keys' as rows [1, n], and reads
/// the tensor it returns (broadcast to [n, n]; nonzero: the query may attend to the key).
enum MaskPredicates {
    static func predicate(_ f: Function, _ interpreter: Interpreter, span: SourceSpan) -> MaskPredicate {
        MaskPredicate(name: f.name) { layout in
            let n = layout.count
            let q = PositionsValue(layout, queries: true), k = PositionsValue(layout, queries: false)
            let out = try interpreter.call(.function(f), CallArguments([.init(value: .object(q)), .init(value: .object(k))], span: span))
            let t: Tensor
            switch out {
            case .tensor(let x): t = x
            case .bool, .int, .float: t = .scalar(Float(out.number!))
            default: throw RuntimeError("the mask '\(f.name)' must return a tensor of [n, n] truth values, not '\(out.typeName)'", span: f.span)
            }
            // The one broadcasting rule tfs has (TensorGraph's), realized once for the layout.
            guard let data = try? t.broadcast(to: [n, n]).realize() else {
                throw RuntimeError("the mask '\(f.name)' returns \(Shape.describe(t.shape)) for a layout of \(n) positions; it must broadcast to [\(n), \(n)]", span: f.span)
            }
            return data.values.map { $0 != 0 }
        }
    }

    /// The mask of a `mask=` argument given as a function.
    static func mask(_ a: Arguments, _ p: String) -> Mask? {
        guard case .function(let f) = a[p] else { return nil }
        return .custom(predicate(f, a.interpreter, span: a.span))
    }

    static let all: [Builtin] = [
        Builtin("predicate", "f",
                help: "A mask written as a function f(q, k), FlexAttention style: called once per layout with the queries' fields as columns [n, 1] and the keys' as rows [1, n] (index, kind, patch, text, image, document), it returns which pairs may attend (broadcast to [n, n]; nonzero is true). Combine it with | & ~; a model saves it by the function's name.",
                example: "def same_doc_window(q, k):\n    return (q.document == k.document) & (k.index <= q.index) & (q.index - k.index < 4)\nm = predicate(same_doc_window)\nm.on(\"text:6 / text:3\")") { a in
            guard case .function(let f) = a["f"] else { throw a.error("f", "must be a function f(q, k)") }
            return .object(MaskValue(.custom(predicate(f, a.interpreter, span: a.span))))
        },
    ]
}

/// The fields of a layout's positions, as a mask predicate receives them: for queries each a
/// column [n, 1], for keys a row [1, n], so comparing a query field with a key field broadcasts
/// to the [n, n] matrix.
final class PositionsValue: ScriptObject {
    let layout: SequenceLayout
    let queries: Bool
    init(_ layout: SequenceLayout, queries: Bool) { self.layout = layout; self.queries = queries }

    func column(_ value: (Int, SequenceLayout.Token) -> Int) -> Value {
        let n = layout.count
        let values = layout.tokens.enumerated().map { Float(value($0.offset, $0.element)) }
        return .tensor(.constant(TensorData(shape: queries ? [n, 1] : [1, n], values: values)))
    }

    static let type: ValueType = {
        let m = Members<PositionsValue>("positions")
        return ValueType("positions", help: "What a mask predicate receives for the queries (columns [n, 1]) and the keys (rows [1, n]) of a layout.", fields: [
            m.field("index", "The position in the sequence (0, 1, …).") { $0.column { i, _ in i } },
            m.field("kind", "0 text, 1 BOI, 2 patch, 3 EOI, 4 padding.") { $0.column { _, t in TokenKind.allCases.firstIndex(of: t.kind)! } },
            m.field("patch", "1 at image patches, else 0.") { $0.column { _, t in t.kind == .patch ? 1 : 0 } },
            m.field("text", "1 at text-side positions (text, BOI, EOI, padding), else 0.") { $0.column { _, t in t.kind == .patch ? 0 : 1 } },
            m.field("image", "The image a position belongs to (its BOI, patches and EOI), -1 elsewhere.") { $0.column { _, t in t.image ?? -1 } },
            m.field("document", "The document of the position (0 unless a layout has `/`).") { $0.column { _, t in t.document } },
        ])
    }()

    var description: String { "\(queries ? "queries" : "keys") of \(layout.count) positions" }
}
