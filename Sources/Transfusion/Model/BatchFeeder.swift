import TensorGraph

/// Turns packed rows and their images into the values of `BatchInputs` for one step: draws a
/// diffusion step t per image and its noise, noises the patches, builds RoPE tables and masks.
public struct BatchFeeder {
    public let model: TransfusionModel
    public let schedule: NoiseSchedule
    public let mask: Mask

    public init(model: TransfusionModel, schedule: NoiseSchedule = .cosine(steps: 1000),
                mask: Mask = .transfusion & .sameDocument) {
        self.model = model; self.schedule = schedule; self.mask = mask
    }

    /// `images[r][i]` holds the clean patches of the i-th image of row r, flat (patches × patchSize).
    /// `stepLimits[r][i]`, when given, caps the diffusion step drawn for that image (the
    /// paper limits noise to t ≤ 500 when the image comes before its caption).
    public func values(_ rows: [PackedSequence], images: [[[Float]]], inputs x: BatchInputs,
                       stepLimits: [[Int]]? = nil, rng: inout RNG) throws -> [Node: TensorData] {
        let c = model.config, (b, t, p) = (rows.count, rows[0].count, c.patchSize)
        var tokens = [Float](), targets = [Float](), patches = [Float](repeating: 0, count: b * t * p)
        var noise = patches, isPatch = [Float](repeating: 0, count: b * t), time = [Float](repeating: 0, count: b * t * c.timeFeatures)
        var cosines = [Float](), sines = [Float](), masks = [Float]()
        for (r, row) in rows.enumerated() {
            tokens += row.tokens.map(Float.init)
            targets += row.lmTarget.map { Float($0 ?? -1) }
            let tables = model.ropeTables(row.positions)
            cosines += tables.cos; sines += tables.sin
            masks += MaskMatrix(mask, row.layout).tensorData.values
            var position = 0
            for (i, image) in images[r].enumerated() {
                while row.layout[position].kind != .boi || row.layout[position].image != i { position += 1 }
                let step = 1 + rng.int(min(schedule.steps, stepLimits?[r][i] ?? schedule.steps))
                let features = timestepFeatures(step, dim: c.timeFeatures)
                let eps = rng.normal(image.count)
                for k in 0..<(image.count / p) {
                    let pos = position + 1 + k, base = (r * t + pos) * p
                    isPatch[r * t + pos] = 1
                    for j in 0..<p {
                        noise[base + j] = eps[k * p + j]
                        patches[base + j] = schedule.noisy(image[k * p + j], eps[k * p + j], t: step)
                    }
                    for j in 0..<c.timeFeatures { time[(r * t + pos) * c.timeFeatures + j] = features[j] }
                }
            }
        }
        func data(_ input: Tensor, _ values: [Float]) -> (Node, TensorData) {
            (input.node, TensorData(shape: input.shape, values: values))
        }
        return Dictionary(uniqueKeysWithValues: [
            data(x.tokens, tokens), data(x.targets, targets), data(x.patches, patches), data(x.noise, noise),
            data(x.isPatch, isPatch), data(x.time, time), data(x.cos, cosines), data(x.sin, sines), data(x.mask, masks),
        ])
    }
}
