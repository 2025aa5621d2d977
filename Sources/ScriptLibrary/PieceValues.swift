import Foundation
import Script
import TensorGraph
import Transfusion

/// Script functions as model pieces: `transfusion(encoder=my_encoder)`. The model calls the
/// function while it builds a graph (never during a step), with `param(...)` making the model's
/// weights under the piece's name.
enum Pieces {
    /// The piece a function argument gives (nil when the argument is not a function).
    static func piece(_ a: Arguments, _ p: String) throws -> ModelPieces.Piece? {
        guard case .function(let f) = a[p] else { return nil }
        guard f.parameters.params.filter({ !$0.keywordOnly }).count >= 2 || f.parameters.varargs != nil else {
            throw a.error(p, "a piece is called with (input, time): '\(f.name)' must take two arguments")
        }
        return piece(f, a.interpreter, span: a.span)
    }

    static func piece(_ f: Function, _ interpreter: Interpreter, span: SourceSpan) -> ModelPieces.Piece {
        ModelPieces.Piece(name: f.name) { input, time, parameters in
            try interpreter.withParameters(Scope(parameters)) {
                let out = try interpreter.call(.function(f), CallArguments([.init(value: .tensor(input)), .init(value: .tensor(time))], span: span))
                guard case .tensor(let t) = out else {
                    throw RuntimeError("the piece '\(f.name)' must return a tensor, not '\(out.typeName)'", span: f.span)
                }
                return t
            }
        }
    }

    /// The pieces `load_model` needs: those given in `pieces=` (a dict slot → function), else the
    /// session's functions of the names the checkpoint saved.
    static func saved(_ names: [String: String], pairs: Int, _ a: Arguments) throws -> ModelPieces {
        let given = a.has("pieces") ? try a.dict("pieces") : nil
        var pieces = ModelPieces()
        for (slot, name) in names {
            let value = given?[slot] ?? a.interpreter.global(name)
            guard case .function(let f)? = value else {
                throw a.error(given == nil ? "path" : "pieces",
                              "the model's \(slot) is the script function '\(name)': define it (or give pieces={\"\(slot)\": f})")
            }
            if slot == "rope" { pieces.rope = RotaryPieces.piece(f, a.interpreter, span: a.span, pairs: pairs) } else { pieces[slot] = piece(f, a.interpreter, span: a.span) }
        }
        return pieces
    }

    /// Where `param(...)` inside a piece puts its weights: the model's, under the piece.
    final class Scope: ParameterScope {
        let parameters: PieceParameters
        init(_ parameters: PieceParameters) { self.parameters = parameters }
        func parameter(name: String?, shape: [Int], initial: ParameterInit) throws -> Tensor {
            try RuntimeError.located {
                switch initial {
                case .values(let data): return try parameters.parameter(name: name, shape: shape, values: data)
                case .normal(let std): return try parameters.parameter(name: name, shape: shape, std: std)
                case .fill(let v): return try parameters.parameter(name: name, shape: shape, fill: v)
                }
            }
        }
    }
}

/// Script position encodings: `transfusion(rope=f)`, `f(pos)` returning each position's RoPE
/// angles [n, pairs] (broadcast), evaluated once per layout and kept.
enum RotaryPieces {
    static func piece(_ a: Arguments, _ p: String, pairs: Int) -> RotaryPiece? {
        guard case .function(let f) = a[p] else { return nil }
        return piece(f, a.interpreter, span: a.span, pairs: pairs)
    }

    static func piece(_ f: Function, _ interpreter: Interpreter, span: SourceSpan, pairs: Int) -> RotaryPiece {
        RotaryPiece(name: f.name) { layout, positions in
            let n = layout.count
            let arg = RotaryPositionsValue(layout, positions: positions, pairs: pairs)
            let out = try interpreter.call(.function(f), CallArguments(positional: [.object(arg)], span: span))
            guard case .tensor(let t) = out else {
                throw RuntimeError("the position encoding '\(f.name)' must return a tensor of angles [\(n), \(pairs)], not '\(out.typeName)'", span: f.span)
            }
            guard let data = try? t.broadcast(to: [n, pairs]).realize() else {
                throw RuntimeError("the position encoding '\(f.name)' returns \(Shape.describe(t.shape)); it must broadcast to [\(n), \(pairs)] (positions × pairs of a head)", span: f.span)
            }
            return data.values
        }
    }
}

/// What a position encoding receives: per position of a layout (columns [n, 1]) its RoPE
/// position, kind and place in its image, and RoPE's frequencies per pair (a row [1, pairs]).
final class RotaryPositionsValue: ScriptObject {
    let layout: SequenceLayout, positions: [Int], pairs: Int
    init(_ layout: SequenceLayout, positions: [Int], pairs: Int) { self.layout = layout; self.positions = positions; self.pairs = pairs }

    func column(_ values: [Int]) -> Value { .tensor(.constant(TensorData(shape: [values.count, 1], values: values.map(Float.init)))) }

    /// Each patch's (row, column) in its image, read in order and laid out square; (-1, -1) elsewhere.
    var grid: [(row: Int, col: Int)] {
        var out = [(row: Int, col: Int)](repeating: (-1, -1), count: layout.count)
        var counts: [Int: Int] = [:]
        for t in layout.tokens where t.kind == .patch { counts[t.image ?? -1, default: 0] += 1 }
        var seen: [Int: Int] = [:]
        for (i, t) in layout.tokens.enumerated() where t.kind == .patch {
            let image = t.image ?? -1, j = seen[image, default: 0]
            let side = max(1, Int(Double(counts[image] ?? 1).squareRoot().rounded()))
            out[i] = (j / side, j % side); seen[image] = j + 1
        }
        return out
    }

    static let type: ValueType = {
        let m = Members<RotaryPositionsValue>("rope_positions")
        return ValueType("rope_positions", help: "What a position encoding (transfusion(rope=f)) receives: a layout's positions as columns [n, 1], and RoPE's frequencies.", fields: [
            m.field("position", "Each position's RoPE position (its index in its packed example).") { $0.column($0.positions) },
            m.field("index", "Each position's index in the sequence.") { $0.column(Array(0..<$0.layout.count)) },
            m.field("patch", "1 at image patches, else 0.") { v in v.column(v.layout.tokens.map { $0.kind == .patch ? 1 : 0 }) },
            m.field("image", "The image a position belongs to, -1 elsewhere.") { v in v.column(v.layout.tokens.map { $0.image ?? -1 }) },
            m.field("row", "A patch's row in its image (patches read in order, the image square), -1 elsewhere.") { v in v.column(v.grid.map(\.row)) },
            m.field("col", "A patch's column in its image, -1 elsewhere.") { v in v.column(v.grid.map(\.col)) },
            m.field("frequencies", "RoPE's frequency of each pair, 10000^(−j / pairs), a row [1, pairs]: position · frequencies is the built-in encoding.") { v in
                .tensor(.constant(TensorData(shape: [1, v.pairs], values: (0..<v.pairs).map { Float(pow(10_000, -Double($0) / Double(v.pairs))) })))
            },
        ])
    }()

    var description: String { "positions of a layout of \(layout.count)" }
}
