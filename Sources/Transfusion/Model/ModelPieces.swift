import TensorGraph

/// Pieces of a model written outside Swift — functions in a script — that the model calls
/// while it builds its graph. They run when a graph is built, never during a step: the graph
/// they return is planned and runs like the built-in pieces. Each piece makes its weights
/// through the `scope` it is given (named under the piece: `encoder.w1`), from the model's seed,
/// at the point where the built-in piece would make its own, so a script piece that computes what
/// a built-in one does starts from the same weights.
public struct ModelPieces {
    /// A piece: the name it is saved under (the script function's) and what it computes.
    public struct Piece {
        public let name: String
        /// (input, timestep embedding [.., dim], the model's parameters under the piece) → output.
        public let call: (Tensor, Tensor, PieceParameters) throws -> Tensor
        public init(name: String, call: @escaping (Tensor, Tensor, PieceParameters) throws -> Tensor) {
            self.name = name; self.call = call
        }
    }

    /// Replaces the linear patch encoder: noisy patches [b, t, patchSize] and the timestep
    /// embedding [b, t, dim] → the patch positions' inputs [b, t, dim].
    public var encoder: Piece?
    /// Replaces the linear patch head: final hidden states [b, t, dim] and the timestep
    /// embedding [b, t, dim] → the prediction [b, t, patchSize] (ε, v or the flow velocity).
    public var decoder: Piece?
    /// Replaces every RMSNorm (before attention, before the MLP, and the final one): [b, t, dim]
    /// and the timestep embedding → [b, t, dim]. Its weights are named per place
    /// (`block0.attn_norm.NAME`, `final_norm.NAME`).
    public var norm: Piece?
    /// Replaces each block's SwiGLU MLP: the normed hidden states [b, t, dim] and the timestep
    /// embedding → the residual update [b, t, dim] (weights `block0.mlp.NAME`).
    public var mlp: Piece?

    public init(encoder: Piece? = nil, decoder: Piece? = nil, norm: Piece? = nil, mlp: Piece? = nil) {
        self.encoder = encoder; self.decoder = decoder; self.norm = norm; self.mlp = mlp
    }

    /// Every slot a piece can fill.
    public static let slots = ["encoder", "decoder", "norm", "mlp"]

    public var isEmpty: Bool { names.isEmpty }

    public subscript(slot: String) -> Piece? {
        get { switch slot { case "encoder": encoder; case "decoder": decoder; case "norm": norm; case "mlp": mlp; default: nil } }
        set { switch slot { case "encoder": encoder = newValue; case "decoder": decoder = newValue; case "norm": norm = newValue; default: mlp = newValue } }
    }
    /// Which script function each piece is, as the config saves it: ["encoder": "my_encoder"].
    public var names: [String: String] {
        var n: [String: String] = [:]
        for slot in Self.slots { if let piece = self[slot] { n[slot] = piece.name } }
        return n
    }
}

/// The model's parameters as one piece sees them: get-or-make by name under the piece's prefix,
/// unnamed ones numbered in the order the piece asks for them (one of these per call of the piece).
public final class PieceParameters {
    public let prefix: String
    let parameters: Parameters
    private var unnamed = 0

    init(_ parameters: Parameters, prefix: String) { self.parameters = parameters; self.prefix = prefix }

    /// The parameter `prefix.name` (or `prefix.N` for the next unnamed one): the existing one,
    /// which must have `shape`, or a new one drawn from the model's seed (N(0, std²)), filled,
    /// or given its values.
    public func parameter(name: String?, shape: [Int], std: Float? = nil, fill: Float? = nil,
                          values: TensorData? = nil) throws -> Tensor {
        let full: String
        if let name {
            guard !name.isEmpty, !name.contains(".") else { throw TensorGraphError("a piece's parameter name must be non-empty and have no '.', got '\(name)'") }
            full = "\(prefix).\(name)"
        } else {
            full = "\(prefix).\(unnamed)"; unnamed += 1
        }
        if let existing = parameters.tensors[full] {
            guard existing.shape == shape else {
                throw TensorGraphError("parameter \(full) is \(Shape.describe(existing.shape)); this call asks for \(Shape.describe(shape))")
            }
            return existing
        }
        if let values { return parameters.add(full, values) }
        return parameters.make(full, shape, std: std ?? 0.02, fill: fill)
    }
}
