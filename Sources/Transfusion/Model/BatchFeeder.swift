import TensorGraph

/// Turns packed rows and their images into the values of `BatchInputs` for one step: draws a
/// diffusion step t per image and its noise, noises the patches (and sets the objective's
/// target), builds RoPE tables and masks (the model's mask within each packed example, with its
/// block mask: both evaluated once per layout).
public struct BatchFeeder {
    public let model: TransfusionModel
    public let process: DiffusionProcess
    public let mask: Mask
    /// The mask over each layout the feeder has met.
    public let masks: LayoutMasks

    public init(model: TransfusionModel) {
        self.model = model; process = model.process; mask = model.mask & .sameDocument
        masks = LayoutMasks(mask)
    }

    /// `images[r][i]` holds the clean patches of the i-th image of row r, flat (patches × patchSize).
    /// `stepLimits[r][i]`, when given, caps the diffusion step drawn for that image (the
    /// paper limits noise to t ≤ 500 when the image comes before its caption).
    public func values(_ rows: [PackedSequence], images: [[[Float]]], inputs x: BatchInputs,
                       stepLimits: [[Int]]? = nil, rng: inout RNG) throws -> [Node: TensorData] {
        let c = model.config, (b, t, p) = (rows.count, rows[0].count, c.patchSize)
        var tokens = [Float](), targets = [Float](), patches = [Float](repeating: 0, count: b * t * p)
        var noise = patches, isPatch = [Float](repeating: 0, count: b * t), learned = isPatch, time = [Float](repeating: 0, count: b * t * c.timeFeatures)
        var diffusionTime = isPatch, snr = isPatch
        var cosines = [Float](), sines = [Float](), masks = [Float](), blocks = [Float]()
        var slots = ImageSlots(slots: x.imageSlots, patches: c.patchesPerImage ?? 0, positions: b * t)
        for (r, row) in rows.enumerated() {
            tokens += row.tokens.map(Float.init)
            targets += row.lmTarget.map { Float($0 ?? -1) }
            let tables = try model.ropeTables(row.layout, positions: row.positions, range: 0..<row.count)
            cosines += tables.cos; sines += tables.sin
            let evaluated = try self.masks.entry(row.layout)
            masks += evaluated.dense; blocks += evaluated.blocks
            var position = 0
            for (i, image) in images[r].enumerated() {
                while row.layout[position].kind != .boi || row.layout[position].image != i { position += 1 }
                // Capped images (before their caption) include t = 0: captioning reads clean images.
                let limit = stepLimits?[r][i] ?? process.steps
                let step = limit < process.steps ? rng.int(limit + 1) : 1 + rng.int(process.steps)
                let features = timestepFeatures(step, dim: c.timeFeatures)
                let eps = rng.normal(image.count)
                let level = process.level(Double(step)), (signal, spread) = (Float(level.signal), Float(level.noise))
                for k in 0..<(image.count / p) {
                    let pos = position + 1 + k, base = (r * t + pos) * p
                    isPatch[r * t + pos] = 1
                    learned[r * t + pos] = step > 0 ? 1 : 0   // clean context images take no diffusion loss
                    diffusionTime[r * t + pos] = Float(step) / Float(process.steps)
                    snr[r * t + pos] = signal * signal / max(spread * spread, 1e-12)
                    for j in 0..<p {
                        let pair = process.training(image[k * p + j], eps[k * p + j], signal: signal, noise: spread)
                        patches[base + j] = pair.xt; noise[base + j] = pair.target
                    }
                    for j in 0..<c.timeFeatures { time[(r * t + pos) * c.timeFeatures + j] = features[j] }
                }
                // A U-Net model runs each whole image through its own slot.
                if c.encoder == .unet { try slots.add((0..<(image.count / p)).map { r * t + position + 1 + $0 }) }
            }
        }
        func data(_ input: Tensor, _ values: [Float]) -> (Node, TensorData) {
            (input.node, TensorData(shape: input.shape, values: values))
        }
        // A codebook model's graph reads no patch inputs.
        if c.codebook != nil {
            return Dictionary(uniqueKeysWithValues: [data(x.tokens, tokens), data(x.targets, targets), data(x.cos, cosines), data(x.sin, sines), data(x.mask, masks), data(x.blocks, blocks)])
        }
        return Dictionary(uniqueKeysWithValues: [
            data(x.tokens, tokens), data(x.targets, targets), data(x.patches, patches), data(x.noise, noise),
            data(x.isPatch, isPatch), data(x.learned, learned), data(x.time, time), data(x.cos, cosines), data(x.sin, sines), data(x.mask, masks), data(x.blocks, blocks),
            data(x.diffusionTime, diffusionTime), data(x.snr, snr),
        ] + slots.feeds(x))
    }
}
