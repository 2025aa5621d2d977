import TensorGraph

/// One planned forward pass of a `SequenceDecoder`: blocks of `width` positions per row, whose queries
/// also see `slots` cached keys. Built once per block width and re-run with new blocks; inputs
/// are written straight into the plan's buffers.
final class StepPlan {
    let model: TransfusionModel
    let batch: Int, width: Int, slots: Int
    let plan: Plan
    private let x: BatchInputs
    private let layers: Int

    init(model: TransfusionModel, batch: Int, width: Int, slots: Int, cache: TransfusionModel.KVCache?) throws {
        self.model = model; self.batch = batch; self.width = width; self.slots = slots
        // A block holds whole images or none: at most width / k of them per row for a U-Net
        // (none in a narrower block, like a token step's, which then skips the U-Net).
        let perRow = width / max(1, model.config.patchesPerImage ?? 1)
        x = try BatchInputs(batch: batch, length: width, keys: slots + width, imageSlots: batch * perRow, config: model.config)
        let f = try model.forward(x, cache: cache)
        let outputs = [try model.tokenLogits(f.hidden), try model.patchPrediction(f, x)] + (cache == nil ? [] : f.keys + f.values)
        plan = try Plan(outputs.map(\.node))
        layers = model.config.layers
    }

    private func buffer(_ t: Tensor) -> UnsafeMutableBufferPointer<Float>? { plan.buffer(t.node) }

    /// Writes row r's block: positions `start ..< start + block.count` of `layout`, seeing the
    /// first `committed` cache slots; the rest of the block is padding that only sees itself.
    func fill(row r: Int, block: [SequenceDecoder.Position], start: Int, committed: Int, layout: SequenceLayout) throws {
        let c = model.config
        let tokens = buffer(x.tokens), patches = buffer(x.patches), isPatch = buffer(x.isPatch)
        let time = buffer(x.time)
        var rope: (cos: [Float], sin: [Float])
        if model.pieces.rope != nil {
            // A script position encoding reads the whole layout: the block's rows of its tables, padding at 0.
            let count = min(block.count, width)
            rope = try model.ropeTables(layout, positions: Array(0..<layout.count), range: start..<(start + count))
            let padding = model.ropeTables(Array(repeating: 0, count: width - count))
            rope.cos += padding.cos; rope.sin += padding.sin
        } else {
            rope = model.ropeTables((0..<width).map { $0 < block.count ? start + $0 : 0 })
        }
        buffer(x.cos)?.baseAddress!.advanced(by: r * width * c.headDim).update(from: rope.cos, count: rope.cos.count)
        buffer(x.sin)?.baseAddress!.advanced(by: r * width * c.headDim).update(from: rope.sin, count: rope.sin.count)
        fillImageSlots(row: r, block: block)
        var features: (step: Double, values: [Float])? = nil
        for j in 0..<width {
            let i = r * width + j
            let position = j < block.count ? block[j] : nil
            tokens?[i] = Float(position?.token ?? Tokenizer.pad)
            isPatch?[i] = position?.patch == nil ? 0 : 1
            for v in 0..<c.patchSize { patches?[i * c.patchSize + v] = position?.patch?[v] ?? 0 }
            if let p = position, p.patch != nil, features?.step != p.step {
                features = (p.step, timestepFeatures(p.step, dim: c.timeFeatures))
            }
            for v in 0..<c.timeFeatures { time?[i * c.timeFeatures + v] = position?.patch == nil ? 0 : features!.values[v] }
        }
        fillMask(row: r, count: min(block.count, width), start: start, committed: min(committed, slots), layout: layout)
    }

    /// Row r's mask [width, slots + width] and its block mask: the block's queries see the first
    /// `committed` cache slots and the block's keys as the model's mask allows; the padding after
    /// the block's `count` positions sees only itself.
    private func fillMask(row r: Int, count: Int, start: Int, committed: Int, layout: SequenceLayout) {
        guard let mask = buffer(x.mask) else { return }
        let keys = slots + width, base = mask.baseAddress! + r * width * keys
        base.update(repeating: 0, count: width * keys)
        let queries = start..<(start + count)
        let cached = model.mask.allowed(queries: queries, keys: 0..<committed, in: layout)
        let inBlock = model.mask.allowed(queries: queries, keys: queries, in: layout)
        for j in 0..<width {
            let row = base + j * keys
            guard j < count else { row[slots + j] = 1; continue }
            for s in 0..<committed where cached[j * committed + s] { row[s] = 1 }
            for k in 0..<count where inBlock[j * count + k] { row[slots + k] = 1 }
        }
        guard let blocks = buffer(x.blocks) else { return }
        let classes = BlockMask.classes(UnsafeBufferPointer(start: base, count: width * keys), queries: width, keys: keys)
        blocks.baseAddress!.advanced(by: r * classes.count).update(from: classes, count: classes.count)
    }

    /// A U-Net model's image slots: row r's own (imageSlots / batch of them) take the block's
    /// patches, k at a time in order (the block holds whole images); unused ones read the row's
    /// first position and nothing reads them back.
    private func fillImageSlots(row r: Int, block: [SequenceDecoder.Position]) {
        guard model.config.encoder == .unet, let k = model.config.patchesPerImage else { return }
        let perRow = x.imageSlots / batch, zeroRow = Float(x.imageSlots * k)
        let patches = (0..<min(block.count, width)).filter { block[$0].patch != nil }
        precondition(patches.count % k == 0 && patches.count <= perRow * k, "a unet model needs whole images in a block")
        guard let positions = x.imagePositions.flatMap(buffer), let sources = x.patchSources.flatMap(buffer) else { return }
        for j in 0..<width { sources[r * width + j] = zeroRow }
        for n in 0..<(perRow * k) {
            let slotRow = r * perRow * k + n   // (slot r·perRow + n / k) · k + n % k
            positions[slotRow] = Float(r * width + (n < patches.count ? patches[n] : 0))
            if n < patches.count { sources[r * width + patches[n]] = Float(slotRow) }
        }
    }

    /// Row r's logits at its last pending position and predictions at its pending patches
    /// (the block holds the pending positions from `offset`).
    func output(row r: Int, offset: Int, pending: [SequenceDecoder.Position]) -> SequenceDecoder.Output {
        let c = model.config
        guard !pending.isEmpty else { return SequenceDecoder.Output(logits: nil, predictions: []) }
        let logits = plan.outputBuffer(0), predictions = plan.outputBuffer(1)
        let last = r * width + offset + pending.count - 1
        var patches: [[Float]] = []
        for (j, p) in pending.enumerated() where p.patch != nil {
            let base = (r * width + offset + j) * c.patchSize
            patches.append(Array(predictions[base..<(base + c.patchSize)]))
        }
        return SequenceDecoder.Output(logits: Array(logits[(last * c.vocabulary)..<((last + 1) * c.vocabulary)]), predictions: patches)
    }

    /// Copies row r's keys and values of block positions `from ..< from + count` into cache slots
    /// starting at `at`.
    func store(row r: Int, from: Int, count: Int, at: Int, keys: [Storage], values: [Storage]) {
        let c = model.config, wide = c.heads * c.headDim, capacity = keys.first?.shape[1] ?? 0
        for l in 0..<layers {
            for (output, cache) in [(plan.outputBuffer(2 + l), keys[l]), (plan.outputBuffer(2 + layers + l), values[l])] {
                let source = output.baseAddress! + (r * width + from) * wide
                (cache.pointer + (r * capacity + at) * wide).update(from: source, count: count * wide)
            }
        }
    }
}
