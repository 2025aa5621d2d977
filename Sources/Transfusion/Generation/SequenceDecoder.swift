import TensorGraph

/// Runs a model over growing sequences, a block of new positions at a time, for generation.
///
/// Each row holds the positions committed so far (tokens, and clean image patches). A step runs
/// a block of pending positions after them and returns the logits at the last one and the patch
/// predictions at pending patches; committing appends the block to the row.
///
/// With the cache, each layer's keys and values of committed positions live in storages that
/// every step plan reads in place, so a step computes only its block (the prompt once, then a
/// token at a time; during diffusion only the image's patches). Without it, every step recomputes
/// the whole row — the reference the cache must agree with.
public final class SequenceDecoder {
    /// One position: a token, or a patch's values at a diffusion step (0 = clean).
    public struct Position {
        public var token: Int
        public var patch: [Float]?
        public var step: Double
        public var kind: TokenKind
        public var image: Int?

        public static func token(_ id: Int, image: Int? = nil) -> Position {
            let kind: TokenKind = id == Tokenizer.boi ? .boi : (id == Tokenizer.eoi ? .eoi : .text)
            return Position(token: id, patch: nil, step: 0, kind: kind, image: image)
        }
        /// Any token id as plain text (a codebook model's image tokens and its BOI and EOI).
        public static func text(_ id: Int) -> Position {
            Position(token: id, patch: nil, step: 0, kind: .text, image: nil)
        }
        public static func patch(_ values: [Float], step: Double, image: Int) -> Position {
            Position(token: Tokenizer.pad, patch: values, step: step, kind: .patch, image: image)
        }
    }

    /// What a step returns for one row.
    public struct Output {
        public var logits: [Float]?          // at the row's last pending position
        public var predictions: [[Float]]    // at its pending patches, in order
    }

    public let model: TransfusionModel
    public let batch: Int, capacity: Int
    public let cached: Bool
    public private(set) var rows: [[Position]]
    private var layouts: [SequenceLayout]
    private let cacheKeys: [Storage], cacheValues: [Storage]
    private var plans: [Int: StepPlan] = [:]

    /// `capacity` bounds every row's length (positions committed plus pending). A cache that
    /// would not fit in memory (keys and values of every layer) is refused before allocating.
    public init(model: TransfusionModel, batch: Int, capacity: Int, cached: Bool = true) throws {
        let c = model.config, shape = [batch, cached ? capacity : 0, c.heads * c.headDim]
        try MemoryLimit.check(values: MemoryLimit.count([2 * c.layers] + shape),
                              "a KV cache for \(batch) rows of \(capacity) positions")
        self.model = model; self.batch = batch; self.capacity = capacity; self.cached = cached
        rows = Array(repeating: [], count: batch)
        layouts = Array(repeating: SequenceLayout(), count: batch)
        cacheKeys = cached ? (0..<c.layers).map { _ in Storage(shape: shape) } : []
        cacheValues = cached ? (0..<c.layers).map { _ in Storage(shape: shape) } : []
    }

    /// Forgets a row (its cache slots are overwritten from the start).
    public func reset(row r: Int) { rows[r] = []; layouts[r] = SequenceLayout() }

    /// Runs `pending[r]` after each row's committed positions (empty for rows that wait).
    public func step(_ pending: [[Position]], commit: Bool) throws -> [Output] {
        precondition(pending.count == batch, "one pending list per row")
        for r in 0..<batch where rows[r].count + pending[r].count > capacity {
            throw TensorGraphError("generation needs \(rows[r].count + pending[r].count) positions; the decoder holds \(capacity)")
        }
        let width = cached ? max(1, pending.map(\.count).max()!) : capacity
        let plan = try stepPlan(width)
        var outputs: [Output] = []
        for r in 0..<batch {
            let layout = extended(layouts[r], pending[r])
            let start = cached ? rows[r].count : 0
            let block = cached ? pending[r] : rows[r] + pending[r]
            try plan.fill(row: r, block: block, start: start, committed: cached ? rows[r].count : 0, layout: layout)
        }
        try plan.plan.run()
        for r in 0..<batch {
            let offset = cached ? 0 : rows[r].count
            outputs.append(plan.output(row: r, offset: offset, pending: pending[r]))
            if commit && !pending[r].isEmpty {
                if cached { plan.store(row: r, from: 0, count: pending[r].count, at: rows[r].count, keys: cacheKeys, values: cacheValues) }
                rows[r] += pending[r]
                layouts[r] = extended(layouts[r], pending[r])
            }
        }
        return outputs
    }

    private func extended(_ layout: SequenceLayout, _ positions: [Position]) -> SequenceLayout {
        var l = layout
        for p in positions { l.append(p.kind, image: p.image) }
        return l
    }

    private func stepPlan(_ width: Int) throws -> StepPlan {
        if let p = plans[width] { return p }
        let cache = cached ? TransfusionModel.KVCache(keys: cacheKeys.map(Tensor.constant), values: cacheValues.map(Tensor.constant)) : nil
        let p = try StepPlan(model: model, batch: batch, width: width, slots: cached ? capacity : 0, cache: cache)
        plans[width] = p
        return p
    }
}
