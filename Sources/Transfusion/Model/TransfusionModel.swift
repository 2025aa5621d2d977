import Foundation
import TensorGraph

/// The inputs of one training step for a batch of packed rows, as graph inputs fed per step.
public struct BatchInputs {
    public let tokens, targets, patches, noise, isPatch, learned, time, cos, sin, mask: Tensor
    /// Each patch's diffusion time t / T and signal-to-noise ratio [b, t, 1] (0 off patches):
    /// what script loss terms weight by (the built-in losses do not read them).
    public let diffusionTime, snr: Tensor
    /// The mask's `BlockMask` tile classes per row [batch, query tiles, key tiles]: built with
    /// the mask, once per layout, so attention does not classify tiles in every run.
    public let blocks: Tensor
    /// U-Net models only (nil otherwise): per image slot, the flat positions (row·length + i)
    /// of its k patches [slots, k]; per position, the row of the images' outputs it reads
    /// [batch, length] (slot·k + j at a patch, slots·k — a zero row — elsewhere).
    public let imagePositions, patchSources: Tensor?
    /// How many images the U-Net runs on per step (0 for linear models).
    public let imageSlots: Int

    /// Placeholders for a batch of `batch` rows of `length` positions; queries see `keys` keys
    /// (more than `length` when a KV cache holds earlier positions). A U-Net model runs on
    /// `imageSlots` images per step; by default as many as could fit in every row (a packed
    /// row may hold several examples), at least one per row. With 0, no position may be a
    /// patch and the U-Net is left out (a generation step too narrow to hold an image).
    public init(batch b: Int, length t: Int, keys: Int? = nil, imageSlots: Int? = nil, config c: ModelConfig) throws {
        for (what, shape) in [("attention mask", [b, t, keys ?? t]), ("patches", [b, t, c.patchSize]),
                              ("timestep features", [b, t, c.timeFeatures])] {
            try MemoryLimit.check(shape: shape, "a batch of \(b) rows of \(t) positions: its \(what) \(Shape.describe(shape))")
        }
        tokens = .input("tokens", [b, t])              // token ids (PAD at patches)
        targets = .input("targets", [b, t])            // next-token ids, −1 where no LM loss
        patches = .input("patches", [b, t, c.patchSize])   // noisy patches x_t (0 at text)
        noise = .input("noise", [b, t, c.patchSize])       // the diffusion target (ε by default)
        isPatch = .input("is_patch", [b, t, 1])        // 1 at patch positions
        learned = .input("diffusion_mask", [b, t, 1])  // 1 at patches that take the diffusion loss
        time = .input("time", [b, t, c.timeFeatures])  // sinusoidal features of each image's t
        diffusionTime = .input("diffusion_t", [b, t, 1])
        snr = .input("snr", [b, t, 1])
        cos = .input("rope_cos", [b, 1, t, c.headDim]) // RoPE tables of each row's positions
        sin = .input("rope_sin", [b, 1, t, c.headDim])
        mask = .input("mask", [b, t, keys ?? t])             // 1 where a query may attend to a key
        blocks = .input("mask_blocks", [b] + BlockMask.shape(queries: t, keys: keys ?? t))
        if c.encoder == .unet, let k = c.patchesPerImage, imageSlots ?? 1 > 0 {
            self.imageSlots = imageSlots ?? b * max(1, t / (k + 2))
            imagePositions = .input("image_positions", [self.imageSlots, k])
            patchSources = .input("patch_sources", [b, t])
        } else {
            self.imageSlots = 0; imagePositions = nil; patchSources = nil
        }
    }
}

/// How the losses combine: total = lm·L_LM + diffusion·L_diffusion + Σ weight·term. Scripts
/// write it as `lm + 5 * diffusion` (+ `0.1 * term(f)`).
public struct LossWeights: Equatable, Sendable, CustomStringConvertible {
    public var lm: Float = 1, diffusion: Float = 5
    /// Terms written in a script, in order.
    public var terms: [LossTerm] = []
    public init(lm: Float = 1, diffusion: Float = 5, terms: [LossTerm] = []) { self.lm = lm; self.diffusion = diffusion; self.terms = terms }
    public var description: String {
        func term(_ w: Float, _ name: String) -> String { w == 1 ? name : "\(w.formatted()) * \(name)" }
        let parts = [(lm, "lm"), (diffusion, "diffusion")].filter { $0.0 != 0 } + terms.map { ($0.weight, $0.name) }
        return parts.isEmpty ? "0" : parts.map { term($0.0, $0.1) }.joined(separator: " + ")
    }
    public static func == (a: LossWeights, b: LossWeights) -> Bool {
        a.lm == b.lm && a.diffusion == b.diffusion && a.terms.map(\.name) == b.terms.map(\.name) && a.terms.map(\.weight) == b.terms.map(\.weight)
    }
}

/// A Transfusion model: one transformer over text tokens and image patches, trained with
/// L = L_LM + λ·L_diffusion. Built as a lazy graph once; a training step is a plan of it.
public struct TransfusionModel {
    public let config: ModelConfig
    public let parameters: Parameters
    /// Which positions may attend to which within one example (packing adds same_document).
    public var mask: Mask
    public var process: DiffusionProcess { DiffusionProcess(schedule: config.schedule, objective: config.objective) }

    /// Script-defined pieces standing in for built-in ones (none by default).
    public let pieces: ModelPieces

    public init(_ config: ModelConfig, mask: Mask = .transfusion, seed: UInt64 = 0) {
        self.init(config, mask: mask, seed: seed, pieces: ModelPieces()) { _, _, _, _, _ in }
    }

    /// A model with script pieces, which are called once here to make their weights (where the
    /// built-in pieces make theirs) and may throw.
    public init(_ config: ModelConfig, mask: Mask = .transfusion, seed: UInt64 = 0, pieces: ModelPieces) throws {
        var config = config
        config.pieces = pieces.isEmpty ? nil : pieces.names
        let d = config.dim
        try self.init(config, mask: mask, seed: seed, pieces: pieces) { piece, prefix, input, output, parameters in
            // Placeholders of one position: the piece builds (and so makes its weights), nothing runs.
            _ = try Self.run(piece, prefix, .input("piece_input", [1, 1, input]), .input("piece_time", [1, 1, d]), parameters, returns: [1, 1, output])
        }
    }

    /// Makes the parameters in their fixed order; `materialize(piece, prefix, input width,
    /// output width, parameters)` runs a script piece where the built-in one makes its weights.
    private init(_ config: ModelConfig, mask: Mask, seed: UInt64, pieces: ModelPieces,
                 materialize: (ModelPieces.Piece, String, Int, Int, Parameters) throws -> Void) rethrows {
        if config.encoder == .unet, let problem = UNet.problem(config) { preconditionFailure(problem) }
        self.config = config; self.mask = mask; self.pieces = pieces
        parameters = Parameters(seed: seed)
        let (d, p, h) = (config.dim, config.patchSize, config.hidden)
        let std = 1 / Float(d).squareRoot()
        parameters.make("embed.tokens", [config.vocabulary, d], std: 0.02)
        // A codebook model (Chameleon) reads images as tokens: no patch encoder or decoder.
        let patches = config.codebook == nil
        if patches { parameters.make("embed.time1", [config.timeFeatures, d], std: 1 / Float(config.timeFeatures).squareRoot()) }
        // The linear encoder's parameters (a U-Net model makes its own after all the others;
        // a script encoder makes its own here).
        if patches && config.encoder == .linear, let encoder = pieces.encoder { try materialize(encoder, "encoder", p, d, parameters) }
        if patches && config.encoder == .linear && pieces.encoder == nil {
            parameters.make("embed.time2", [d, p], std: std * 0.1)
            parameters.make("embed.patches", [p, d], std: 1 / Float(p).squareRoot())
        }
        // A script norm or MLP makes its weights where the built-in one makes its own.
        func norm(_ name: String) throws {
            if let piece = pieces.norm { try materialize(piece, name, d, d, parameters) } else { parameters.make(name, [d], fill: 1) }
        }
        for l in 0..<config.layers {
            for w in ["wq", "wk", "wv"] { parameters.make("block\(l).attn.\(w)", [d, d], std: std) }
            parameters.make("block\(l).attn.wo", [d, d], std: std / Float(2 * config.layers).squareRoot())
            try norm("block\(l).attn_norm")
            if let mlp = pieces.mlp {
                try materialize(mlp, "block\(l).mlp", d, d, parameters)
            } else {
                parameters.make("block\(l).mlp.gate", [d, h], std: std)
                parameters.make("block\(l).mlp.up", [d, h], std: std)
                parameters.make("block\(l).mlp.down", [h, d], std: 1 / Float(h).squareRoot() / Float(2 * config.layers).squareRoot())
            }
            try norm("block\(l).mlp_norm")
        }
        try norm("final_norm")
        parameters.make("head.tokens", [d, config.vocabulary], std: std)
        switch config.encoder {
        case _ where !patches: break
        case .linear where pieces.decoder != nil: try materialize(pieces.decoder!, "decoder", d, p, parameters)
        case .linear: parameters.make("head.patches", [d, p], std: std)
        case .unet: unet.makeParameters()
        }
    }

    /// A script piece's output for `input`, which must have the shape the model goes on with.
    func piece(_ piece: ModelPieces.Piece, _ slot: String, _ input: Tensor, _ x: BatchInputs, returns shape: [Int]) throws -> Tensor {
        try Self.run(piece, slot, input, timeEmbedding(x), parameters, returns: shape)
    }

    private static func run(_ piece: ModelPieces.Piece, _ slot: String, _ input: Tensor, _ time: Tensor,
                            _ parameters: Parameters, returns shape: [Int]) throws -> Tensor {
        let out = try piece.call(input, time, PieceParameters(parameters, prefix: slot))
        guard out.shape == shape else {
            throw TensorGraphError("the \(slot) '\(piece.name)' returns \(Shape.describe(out.shape)) for \(Shape.describe(input.shape)); the model needs \(Shape.describe(shape))")
        }
        return out
    }

    /// The timestep embedding script pieces receive: silu(time features · embed.time1) [.., dim].
    func timeEmbedding(_ x: BatchInputs) throws -> Tensor { try x.time.matmul(parameters["embed.time1"]).silu() }

    public struct Losses {
        public let total, lm, diffusion: Tensor
        /// The script terms' values (unweighted), in the order of `LossWeights.terms`.
        public var extra: [(name: String, value: Tensor)] = []
    }

    /// The graph of both losses for a batch, combined as `weights` say (default L_LM + 5·L_diffusion).
    public func losses(_ x: BatchInputs, weights: LossWeights = LossWeights()) throws -> Losses {
        let f = try forward(x), h = f.hidden
        let lm = try Tensor.crossEntropy(tokenLogits(h), x.targets, ignoreIndex: -1)
        // A codebook model learns its images with the LM loss alone.
        if config.codebook != nil { return Losses(total: try lm * weights.lm, lm: lm, diffusion: .full([], 0)) }
        // Diffusion: MSE against the objective's target (ε by default) over noised patches only
        // (clean context images, like an edit's source, are not learned).
        let prediction = try patchPrediction(f, x)
        let error = try (prediction - x.noise) * x.learned
        let patchValues = try x.learned.sum() * Float(config.patchSize)
        let diffusion = try error.square().sum() / patchValues.maximum(.scalar(1))
        var total = try lm * weights.lm + diffusion * weights.diffusion
        var extra: [(name: String, value: Tensor)] = []
        if !weights.terms.isEmpty {
            let outputs = LossOutputs(hidden: f.hidden, prediction: prediction, target: x.noise, learned: x.learned, patches: x.patches,
                                      t: x.diffusionTime, snr: x.snr, time: try timeEmbedding(x), logits: try tokenLogits(f.hidden), targets: x.targets)
            for term in weights.terms {
                let value = try term.compute(outputs)
                guard value.shape.isEmpty || value.shape.allSatisfy({ $0 == 1 }) else {
                    throw TensorGraphError("the loss term '\(term.name)' returns \(Shape.describe(value.shape)); a loss term is one number (take .mean() or .sum())")
                }
                let scalar = try value.reshape([])
                extra.append((term.name, scalar))
                total = try total + scalar * term.weight
            }
        }
        return Losses(total: total, lm: lm, diffusion: diffusion, extra: extra)
    }

    /// Keys and values of earlier positions, per layer [batch, slots, heads·headDim] (after RoPE).
    public struct KVCache {
        public let keys: [Tensor], values: [Tensor]
        public init(keys: [Tensor], values: [Tensor]) { self.keys = keys; self.values = values }
    }

    /// The final hidden states of a block of positions, and each layer's keys and values for
    /// them (what a KV cache keeps).
    public struct Forward {
        public let hidden: Tensor; public let keys, values: [Tensor]
        /// The U-Net's down path, which its up path reuses (nil for the linear encoder).
        let encoding: UNet.Encoding?
    }

    /// The transformer over a block of positions. With a cache, the block's queries also see the
    /// cached keys: the mask is then [batch, block, slots + block], cache columns first.
    public func forward(_ x: BatchInputs, cache: KVCache? = nil) throws -> Forward {
        let P = parameters
        // Inputs: token embeddings at text positions; at patches, the patch encoder's output.
        let tokens = try P["embed.tokens"].gather(x.tokens)
        let patches: Tensor, encoding: UNet.Encoding?
        switch config.encoder {
        case _ where config.codebook != nil:
            patches = tokens; encoding = nil   // images are tokens
        case .linear:
            if let encoder = pieces.encoder {
                patches = try piece(encoder, "encoder", x.patches, x, returns: x.tokens.shape + [config.dim])
            } else {
                // The noisy patch plus the timestep embedding, through one matrix.
                patches = try (x.patches + timeEmbedding(x).matmul(P["embed.time2"])).matmul(P["embed.patches"])
            }
            encoding = nil
        case .unet where x.imageSlots == 0:
            patches = tokens; encoding = nil   // no position of these inputs is a patch
        case .unet:
            (patches, encoding) = try unetEmbeddings(x)
        }
        var h = config.codebook == nil ? try Tensor.select(x.isPatch, patches, tokens) : tokens
        var keys: [Tensor] = [], values: [Tensor] = []
        // A script norm or MLP acts on each position alone, so a KV cache stays exact.
        func norm(_ h: Tensor, _ name: String) throws -> Tensor {
            if let piece = pieces.norm { return try self.piece(piece, name, h, x, returns: h.shape) }
            return try h.rmsNorm(weight: P[name])
        }
        for l in 0..<config.layers {
            let a = try attention(try norm(h, "block\(l).attn_norm"), layer: l, x, cache: cache)
            keys.append(a.k); values.append(a.v)
            h = try h + a.out
            let n = try norm(h, "block\(l).mlp_norm")
            if let mlp = pieces.mlp {
                h = try h + piece(mlp, "block\(l).mlp", n, x, returns: n.shape)
            } else {
                let gated = try n.matmul(P["block\(l).mlp.gate"]).swiglu(n.matmul(P["block\(l).mlp.up"]))
                h = try h + gated.matmul(P["block\(l).mlp.down"])
            }
        }
        return Forward(hidden: try norm(h, "final_norm"), keys: keys, values: values, encoding: encoding)
    }

    /// Next-token logits [.., vocabulary] from final hidden states.
    public func tokenLogits(_ hidden: Tensor) throws -> Tensor { try hidden.matmul(parameters["head.tokens"]) }
    /// The linear patch head's prediction [.., patchSize] (ε, v or the flow velocity).
    public func patchPrediction(_ hidden: Tensor) throws -> Tensor {
        precondition(config.encoder == .linear, "a unet model predicts patches with patchPrediction(forward, inputs)")
        return try hidden.matmul(parameters["head.patches"])
    }
    /// The patch decoder's prediction [batch, length, patchSize] after a forward pass: the
    /// linear head, or the U-Net's up path over whole images (0 off the patches).
    public func patchPrediction(_ f: Forward, _ x: BatchInputs) throws -> Tensor {
        if config.codebook != nil { return .full(x.patches.shape, 0) }
        if let decoder = pieces.decoder { return try piece(decoder, "decoder", f.hidden, x, returns: x.patches.shape) }
        guard config.encoder == .unet else { return try patchPrediction(f.hidden) }
        guard let encoding = f.encoding else { return .full(x.patches.shape, 0) }   // inputs without image slots
        return try unetPrediction(f.hidden, encoding, x)
    }

    /// Multi-head self-attention with RoPE under the batch's mask. Queries, keys, values and the
    /// output stay in the projections' layout [batch, positions, heads·headDim]: attention reads
    /// each head in place.
    func attention(_ n: Tensor, layer l: Int, _ x: BatchInputs, cache: KVCache?) throws -> (out: Tensor, k: Tensor, v: Tensor) {
        func projection(_ w: String) throws -> Tensor { try n.matmul(parameters["block\(l).attn.\(w)"]) }
        let h = config.heads
        let q = try projection("wq").rope(heads: h, cos: x.cos, sin: x.sin)
        let k = try projection("wk").rope(heads: h, cos: x.cos, sin: x.sin), v = try projection("wv")
        let allK = try cache.map { try Tensor.concat([$0.keys[l], k], axis: 1) } ?? k
        let allV = try cache.map { try Tensor.concat([$0.values[l], v], axis: 1) } ?? v
        let o = try Tensor.attention(q, allK, allV, mask: x.mask, blocks: x.blocks, heads: h)
        return (try o.matmul(parameters["block\(l).attn.wo"]), k, v)
    }

    /// RoPE tables for positions, [count, headDim] each (cos, sin).
    public func ropeTables(_ positions: [Int]) -> (cos: [Float], sin: [Float]) {
        let half = config.headDim / 2
        return ropeTables(angles: positions.flatMap { p in (0..<half).map { Double(p) * pow(10_000, -Double($0) / Double(half)) } })
    }

    /// RoPE tables of the positions `range` of a layout whose positions are `positions` (one per
    /// position of the layout): the script position encoding's angles if the model has one.
    public func ropeTables(_ layout: SequenceLayout, positions: [Int], range: Range<Int>) throws -> (cos: [Float], sin: [Float]) {
        guard let rope = pieces.rope else { return ropeTables(Array(positions[range])) }
        let half = config.headDim / 2
        let angles = try rope.angles(layout, positions: positions, pairs: half)
        return ropeTables(angles: angles[(range.lowerBound * half)..<(range.upperBound * half)].map(Double.init))
    }

    /// The tables of angles [count × headDim/2]: each pair's angle in both halves of a head.
    private func ropeTables(angles: [Double]) -> (cos: [Float], sin: [Float]) {
        let hd = config.headDim, half = hd / 2, count = angles.count / max(half, 1)
        var c = [Float](repeating: 0, count: count * hd), s = c
        for i in 0..<count {
            for j in 0..<half {
                let angle = angles[i * half + j]
                c[i * hd + j] = Float(cos(angle)); c[i * hd + half + j] = Float(cos(angle))
                s[i * hd + j] = Float(sin(angle)); s[i * hd + half + j] = Float(sin(angle))
            }
        }
        return (c, s)
    }
}
