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
    static func saved(_ names: [String: String], _ a: Arguments) throws -> ModelPieces {
        let given = a.has("pieces") ? try a.dict("pieces") : nil
        var pieces = ModelPieces()
        for (slot, name) in names {
            let value = given?[slot] ?? a.interpreter.global(name)
            guard case .function(let f)? = value else {
                throw a.error(given == nil ? "path" : "pieces",
                              "the model's \(slot) is the script function '\(name)': define it (or give pieces={\"\(slot)\": f})")
            }
            let piece = piece(f, a.interpreter, span: a.span)
            pieces[slot] = piece
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
