import Foundation

/// Scaled dot-product attention as one op, and its backward op.
///
///   out = softmax(scale · q kᵀ, masked) · v      q [B, H, T, D], k, v [B, H, S, D]
///   mask [T, S] or [B, T, S]: 1 where query t may attend to key s, 0 where it may not.
///
/// With `heads` set, q, k, v and the output are in the projections' layout instead,
/// [B, T, H·D] and [B, S, H·D]: each head is read in place as rows of D values H·D apart
/// (the products take the row stride as their leading dimension), so no head permute is needed
/// before attention or after it, forward or backward.
///
/// The T×S probabilities are never stored: the forward pass works on blocks of `BlockMask.queryTile`
/// query rows (scores for one block against all keys, in scratch), and the backward pass
/// recomputes them from q and k (flash-style). The mask is cut into the tiles of `BlockMask`
/// (32 rows × 64 keys): empty tiles are skipped everywhere (scores, softmax, products, backward),
/// full tiles skip the mask test, and only partial tiles are masked. Each run of consecutive
/// non-empty tiles is one sgemm. The tile classes come with the mask as a block-mask input
/// (built once per layout by the caller); without one, they are classified once per run (every
/// head of a batch row shares them).
///
/// Two kernels compute this (`AttentionKernel`): the one described above, its products in
/// OpenBLAS (`blas`), and a flash kernel (`FlashKernel`, vectorised for the CPU's SIMD level) that
/// skips the same tiles but runs online softmax over the key tiles with its own register-blocked
/// products, one (batch, head) per unit in both passes; `automatic` takes the flash kernel where
/// it measured faster.
///
/// Work is split over (batch·head, query block) units in the forward pass and over batch·head
/// pairs in the backward pass (dk and dv sum over all query rows). Units are dealt to a fixed
/// number of slots, each with its own scratch, and each output value is computed by one slot
/// in a fixed order: the results do not depend on the number of threads.

/// Sizes of one attention problem, read from the node's inputs (q, k, v, mask, [blocks], ...).
struct AttentionDims {
    let b: Int, h: Int, t: Int, s: Int, d: Int
    /// Floats from one row (time step) of a head to the next: D in [B, H, T, D], H·D in [B, T, H·D].
    let stride: Int
    let timeMajor: Bool
    let maskBatched: Bool
    /// Whether the node has a block-mask input (input 4).
    let hasBlocks: Bool

    /// `inputs` is how many inputs the op has without a block mask; `heads` is set for the
    /// [B, T, H·D] layout.
    init(_ node: Node, inputs: Int, heads: Int?) {
        let q = node.inputs[0].shape, k = node.inputs[1].shape
        if let heads {
            b = q[0]; h = heads; t = q[1]; s = k[1]; d = q[2] / heads
            stride = q[2]; timeMajor = true
        } else {
            b = q[0]; h = q[1]; t = q[2]; s = k[2]; d = q[3]
            stride = d; timeMajor = false
        }
        maskBatched = node.inputs[3].rank == 3
        hasBlocks = node.inputs.count > inputs
    }

    var pairs: Int { b * h }
    /// Query rows per block (no larger than T, so small problems take small scratch).
    var blockRows: Int { BlockMask.rowsPerTile(queries: t) }
    var queryBlocks: Int { (t + blockRows - 1) / blockRows }

    /// Where (batch, head) `pair`'s first row is in a tensor of `rows` rows per head.
    func offset(_ pair: Int, rows: Int) -> Int {
        timeMajor ? (pair / h) * rows * h * d + (pair % h) * d : pair * rows * d
    }
    func q(_ base: UnsafePointer<Float>, _ pair: Int) -> UnsafePointer<Float> { base + offset(pair, rows: t) }
    func kv(_ base: UnsafePointer<Float>, _ pair: Int) -> UnsafePointer<Float> { base + offset(pair, rows: s) }
    /// Sets `rows` rows of D values, `stride` apart, to zero.
    func zero(_ x: UnsafeMutablePointer<Float>, rows: Int) {
        if stride == d { x.update(repeating: 0, count: rows * d); return }
        for r in 0..<rows { (x + r * stride).update(repeating: 0, count: d) }
    }
    func mask(_ base: UnsafePointer<Float>, _ pair: Int) -> UnsafePointer<Float> {
        maskBatched ? base + (pair / h) * t * s : base
    }
}

enum AttentionTiles {
    static let keyBlock = BlockMask.keyTile
    /// Units are dealt to at most this many slots (each with scratch of a few query blocks).
    static let maxSlots = 16

    /// What the mask does to one tile of `rows` queries × one key block.
    typealias TileClass = BlockMask.Tile

    /// The class of every tile of the mask, [mask batch][query block][key block]: read from the
    /// block-mask input or classified once per run, since every head (and both passes) of a
    /// batch row shares its mask.
    struct TileMap {
        let classes: UnsafeMutablePointer<TileClass>
        let dims: AttentionDims

        /// The key blocks' classes for one query block of one (batch, head) pair.
        func row(pair: Int, block: Int) -> UnsafePointer<TileClass> {
            let maskBatch = dims.maskBatched ? pair / dims.h : 0
            return UnsafePointer(classes + (maskBatch * dims.queryBlocks + block) * blockCount(dims.s))
        }
    }

    /// The tile map of `mask` passed to `body`: read from the block mask when there is one,
    /// else classified now; every tile partial when tiles are not skipped.
    static func withTileMap<R>(_ a: AttentionDims, mask: UnsafePointer<Float>, blocks: UnsafePointer<Float>?,
                               skipTiles: Bool, _ body: (TileMap) -> R) -> R {
        let maskBatches = a.maskBatched ? a.b : 1, count = maskBatches * a.queryBlocks * blockCount(a.s)
        return withUnsafeTemporaryAllocation(of: TileClass.self, capacity: count) { buffer in
            let classes = buffer.baseAddress!
            if !skipTiles {
                classes.update(repeating: .partial, count: count)
            } else if let blocks {
                for i in 0..<count { classes[i] = TileClass(rawValue: UInt8(Swift.max(0, Swift.min(2, blocks[i])))) ?? .partial }
            } else {
                for batch in 0..<maskBatches {
                    BlockMask.classify(mask + batch * a.t * a.s, queries: a.t, keys: a.s,
                                       into: classes + batch * a.queryBlocks * blockCount(a.s))
                }
            }
            return body(TileMap(classes: classes, dims: a))
        }
    }

    /// Calls `body(start, width, index)` for each key block of `0..<s`, in order.
    @inline(__always)
    static func keyBlocks(_ s: Int, _ body: (Int, Int, Int) -> Void) {
        var start = 0, index = 0
        while start < s {
            let width = Swift.min(keyBlock, s - start)
            body(start, width, index)
            start += width; index += 1
        }
    }

    /// Calls `body(start, width)` for each maximal run of consecutive non-empty key blocks: the
    /// products span a whole run (a causal row block's keys are one run), which is faster
    /// than a product per tile.
    @inline(__always)
    static func runs(_ classes: UnsafePointer<TileClass>, _ s: Int, _ body: (Int, Int) -> Void) {
        var start = 0, index = 0, runStart = -1
        while start < s {
            if classes[index] == .empty {
                if runStart >= 0 { body(runStart, start - runStart); runStart = -1 }
            } else if runStart < 0 {
                runStart = start
            }
            start += keyBlock; index += 1
        }
        if runStart >= 0 { body(runStart, s - runStart) }
    }

    static func blockCount(_ s: Int) -> Int { (s + keyBlock - 1) / keyBlock }

    /// P = softmax(scale · q kᵀ with masked scores at −∞) for query rows t0 ..< t0 + rows of one
    /// (batch, head), into `p` (rows × s, leading dimension s). Only the keys of non-empty tiles
    /// are written: every later use of P reads those runs alone. A row that may attend to no key
    /// gets all-zero probabilities; a row whose scores are not finite (NaN or ±Inf queries or
    /// keys) keeps its non-finite values. The first problem row (absolute index) is returned.
    static func probabilities(q: UnsafePointer<Float>, k: UnsafePointer<Float>, mask: UnsafePointer<Float>,
                              t0: Int, rows: Int, s: Int, d: Int, stride: Int, scale: Float,
                              classes: UnsafePointer<TileClass>, p: UnsafeMutablePointer<Float>) -> RowProblem? {
        scores(q: q, k: k, mask: mask, t0: t0, rows: rows, s: s, d: d, stride: stride, scale: scale, classes: classes, p: p)
        var problem: RowProblem?
        for r in 0..<rows {
            let row = p + r * s
            var m = -Float.infinity
            runs(classes, s) { s0, width in m = Swift.max(m, VectorMath.maximum(row + s0, width)) }
            if m == -.infinity {
                // No finite score: either the mask allows no key, or every allowed score is NaN/−Inf.
                let allowed = (0..<s).contains { mask[(t0 + r) * s + $0] != 0 }
                if problem == nil { problem = allowed ? .nonFinite(row: t0 + r) : .noKey(row: t0 + r) }
                if !allowed { row.update(repeating: 0, count: s) }
                continue
            }
            var total: Float = 0
            runs(classes, s) { s0, width in total += VectorMath.expShifted(row + s0, width, minus: m) }
            if !(m.isFinite && total.isFinite), problem == nil { problem = .nonFinite(row: t0 + r) }
            let inv = 1 / total
            runs(classes, s) { s0, width in VectorMath.map(row + s0, row + s0, width) { $0 * inv } }
        }
        return problem
    }

    /// What can be wrong with a query row of attention: its mask row allows no key, or its
    /// scores are not finite (the queries or keys hold NaN or ±Inf).
    enum RowProblem: Equatable {
        case noKey(row: Int), nonFinite(row: Int)

        /// The run failure's message for this row of (batch, head).
        func message(batch: Int, head: Int) -> String {
            switch self {
            case .noKey(let row):
                return "attention: query row \(row) (batch \(batch), head \(head)) may attend to no key — its mask row is all zeros; its output was set to zeros"
            case .nonFinite(let row):
                return "attention: query row \(row) (batch \(batch), head \(head)) has non-finite scores — its queries or keys hold NaN or ±Inf (the mask is not the cause; in training this means the run diverged)"
            }
        }
    }

    /// Masked, scaled scores: one product per run of non-empty tiles, then the partial tiles
    /// masked (full tiles need no mask test). q's and k's rows are `stride` floats apart.
    static func scores(q: UnsafePointer<Float>, k: UnsafePointer<Float>, mask: UnsafePointer<Float>,
                       t0: Int, rows: Int, s: Int, d: Int, stride: Int, scale: Float,
                       classes: UnsafePointer<TileClass>, p: UnsafeMutablePointer<Float>) {
        runs(classes, s) { s0, width in
            BLAS.sgemm(transA: false, transB: true, m: rows, n: width, k: d, alpha: scale,
                       a: q + t0 * stride, lda: stride, b: k + s0 * stride, ldb: stride, c: p + s0, ldc: s)
        }
        keyBlocks(s) { s0, width, i in
            guard classes[i] == .partial else { return }
            for r in 0..<rows {
                let row = p + r * s + s0
                VectorMath.map(row, mask + (t0 + r) * s + s0, row, width) { x, m in
                    x.replacing(with: -.infinity, where: m .== 0)
                }
            }
        }
    }

    /// Deals `units` to `slots` (slot i takes units i, i + slots, ...); a free thread takes the next slot.
    @inline(__always)
    static func dealt(_ units: Int, slots: Int, work: Int, _ body: (_ slot: Int, _ unit: Int) -> Void) {
        Parallel.dynamic(slots, work: work) { slot in
            var unit = slot
            while unit < units { body(slot, unit); unit += slots }
        }
    }
}

// MARK: - forward

public struct Attention: Operation {
    public let scale: Float
    /// Whether tiles the mask removes are skipped (benchmarks and tests turn it off to compare).
    public let skipTiles: Bool
    /// The number of heads when q, k, v and the output are [B, T, H·D]; nil for [B, H, T, D].
    public let heads: Int?
    /// Which implementation runs (see `AttentionKernel`).
    public let kernel: AttentionKernel
    public init(scale: Float, skipTiles: Bool = true, heads: Int? = nil, kernel: AttentionKernel = .automatic) {
        self.scale = scale; self.skipTiles = skipTiles; self.heads = heads; self.kernel = kernel
    }
    public var label: String { heads.map { "attention(\($0) heads in place)" } ?? "attention" }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard s.count == 4 || s.count == 5 else { throw shapeError(label, s, "expects q, k, v, the mask and optionally its block mask") }
        try attentionShapeCheck(label, s, heads: heads)
        return s[0]
    }

    public func scratch(_ node: Node) -> Int {
        let a = AttentionDims(node, inputs: 4, heads: heads)
        if case .flash(let level) = kernel.resolved(headSize: a.d) {
            return Swift.min(a.pairs, AttentionTiles.maxSlots) * level.kernels.forwardScratch(rows: a.blockRows, s: a.s, d: a.d, keyTile: BlockMask.keyTile)
        }
        return Swift.min(a.pairs * a.queryBlocks, AttentionTiles.maxSlots) * a.blockRows * a.s
    }

    public func run(_ k: Kernel) {
        let a = AttentionDims(k.node, inputs: 4, heads: heads)
        let units = a.pairs * a.queryBlocks
        guard units > 0 else { return }
        let slots = Swift.min(units, AttentionTiles.maxSlots), bq = a.blockRows
        let q = k.input(0), key = k.input(1), v = k.input(2), mask = k.input(3), out = k.output
        let scratch = k.scratch!, scale = scale
        if case .flash(let level) = kernel.resolved(headSize: a.d) {
            // One unit per (batch, head): its keys are transposed once for all its query blocks.
            let flash = level.kernels, perSlot = flash.forwardScratch(rows: bq, s: a.s, d: a.d, keyTile: BlockMask.keyTile)
            AttentionTiles.withTileMap(a, mask: mask, blocks: a.hasBlocks ? k.input(4) : nil, skipTiles: skipTiles) { map in
                AttentionTiles.dealt(a.pairs, slots: Swift.min(a.pairs, AttentionTiles.maxSlots), work: units * bq * a.s * a.d * 4) { slot, pair in
                    let problem = flash.forward(q: a.q(q, pair), k: a.kv(key, pair), v: a.kv(v, pair), mask: a.mask(mask, pair),
                                                classes: map.row(pair: pair, block: 0).rawClasses, out: out + a.offset(pair, rows: a.t),
                                                t: a.t, s: a.s, d: a.d, stride: a.stride, blockRows: bq, keyTile: BlockMask.keyTile,
                                                scale: scale, scratch: scratch + slot * perSlot)
                    if let problem { k.fail(AttentionTiles.RowProblem(problem).message(batch: pair / a.h, head: pair % a.h)) }
                }
            }
            return
        }
        AttentionTiles.withTileMap(a, mask: mask, blocks: a.hasBlocks ? k.input(4) : nil, skipTiles: skipTiles) { map in
            AttentionTiles.dealt(units, slots: slots, work: units * bq * a.s * a.d * 4) { slot, unit in
                let pair = unit / a.queryBlocks, block = unit % a.queryBlocks
                let t0 = block * bq, rows = Swift.min(bq, a.t - t0)
                let p = scratch + slot * bq * a.s, classes = map.row(pair: pair, block: block)
                let qp = a.q(q, pair), kp = a.kv(key, pair), vp = a.kv(v, pair)
                if let problem = AttentionTiles.probabilities(q: qp, k: kp, mask: a.mask(mask, pair), t0: t0, rows: rows,
                                                              s: a.s, d: a.d, stride: a.stride, scale: scale, classes: classes, p: p) {
                    k.fail(problem.message(batch: pair / a.h, head: pair % a.h))
                }
                // out rows = P · v over the runs of non-empty tiles.
                let o = out + a.offset(pair, rows: a.t) + t0 * a.stride
                a.zero(o, rows: rows)
                AttentionTiles.runs(classes, a.s) { s0, width in
                    BLAS.sgemm(transA: false, transB: false, m: rows, n: a.d, k: width,
                               a: p + s0, lda: a.s, b: vp + s0 * a.stride, ldb: a.stride, beta: 1, c: o, ldc: a.stride)
                }
            }
        }
    }

    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        let a = AttentionDims(node, inputs: 4, heads: heads)
        let packed = Tensor(try Graph.build(AttentionBackward(scale: scale, skipTiles: skipTiles, heads: heads, kernel: kernel),
                                            node.inputs + [g]))
        let nq = a.pairs * a.t * a.d, nk = a.pairs * a.s * a.d
        let dq = try packed.slice(axis: 0, 0, nq).reshape(node.inputs[0].shape)
        let dk = try packed.slice(axis: 0, nq, nq + nk).reshape(node.inputs[1].shape)
        let dv = try packed.slice(axis: 0, nq + nk, nq + 2 * nk).reshape(node.inputs[2].shape)
        return [dq.node, dk.node, dv.node, nil] + (a.hasBlocks ? [nil] : [])  // the masks have no gradient
    }
}

/// Shapes of (q, k, v, mask, [blocks]), shared by the forward and backward ops; `heads` is set
/// for the [B, T, H·D] layout.
private func attentionShapeCheck(_ op: String, _ s: [[Int]], heads: Int?) throws {
    let (q, k, v, m) = (s[0], s[1], s[2], s[3])
    let t: Int, keys: Int
    if let heads {
        guard q.count == 3, k.count == 3, v.count == 3, heads > 0, q[2] % heads == 0 else {
            throw shapeError(op, s, "q, k and v must be [B, T, H·D], [B, S, H·D] and [B, S, H·D] with H·D divisible by \(heads) heads")
        }
        guard k == v else { throw shapeError(op, s, "k and v must have the same shape") }
        guard q[0] == k[0], q[2] == k[2] else { throw shapeError(op, s, "q and k must agree on batch and width") }
        (t, keys) = (q[1], k[1])
    } else {
        guard q.count == 4, k.count == 4, v.count == 4 else {
            throw shapeError(op, s, "q, k and v must be [B, H, T, D], [B, H, S, D] and [B, H, S, D]")
        }
        guard k == v else { throw shapeError(op, s, "k and v must have the same shape") }
        guard q[0] == k[0], q[1] == k[1], q[3] == k[3] else {
            throw shapeError(op, s, "q and k must agree on batch, heads and head size")
        }
        (t, keys) = (q[2], k[2])
    }
    guard m == [t, keys] || m == [q[0], t, keys] else {
        throw shapeError(op, s, "the mask must be [T, S] = [\(t), \(keys)] or [B, T, S] = [\(q[0]), \(t), \(keys)]")
    }
    guard s.count > 4 else { return }
    let blocks = Array(m.dropLast(2)) + BlockMask.shape(queries: t, keys: keys)
    guard s[4] == blocks else { throw shapeError(op, s, "the block mask must be \(Shape.describe(blocks)) (BlockMask tiles of the mask)") }
}

// MARK: - backward

/// The gradients of attention from (q, k, v, mask, [blocks], dOut), packed flat as
/// [dq (B·H·T·D) | dk (B·H·S·D) | dv (B·H·S·D)]; `Attention.gradient` slices them apart.
/// Per (batch, head), per query block: P recomputed, dP = dO vᵀ, dS = P ⊙ (dP − rowsum(P ⊙ dP)),
/// dq = scale · dS k, dk += scale · dSᵀ q, dv += Pᵀ dO.
public struct AttentionBackward: Operation {
    public let scale: Float
    public let skipTiles: Bool
    /// As `Attention.heads`: set for the [B, T, H·D] layout (of q, k, v, dOut and dq, dk, dv).
    public let heads: Int?
    /// As `Attention.kernel`.
    public let kernel: AttentionKernel
    public var label: String { heads.map { "attention_backward(\($0) heads in place)" } ?? "attention_backward" }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard s.count == 5 || s.count == 6 else { throw shapeError(label, s, "expects q, k, v, mask, optionally its block mask, and the output gradient") }
        try attentionShapeCheck(label, Array(s.dropLast()), heads: heads)
        guard s.last! == s[0] else { throw shapeError(label, s, "the output gradient must have q's shape") }
        return [Shape.count(s[0]) + 2 * Shape.count(s[1])]
    }

    public func scratch(_ node: Node) -> Int {
        let a = AttentionDims(node, inputs: 5, heads: heads)
        let slots = Swift.min(a.pairs, AttentionTiles.maxSlots)
        if case .flash(let level) = kernel.resolved(headSize: a.d) {
            return slots * level.kernels.backwardScratch(rows: a.blockRows, s: a.s, d: a.d, keyTile: BlockMask.keyTile)
        }
        return slots * 2 * a.blockRows * a.s
    }

    public func run(_ k: Kernel) {
        let a = AttentionDims(k.node, inputs: 5, heads: heads)
        guard a.pairs > 0 else { return }
        let slots = Swift.min(a.pairs, AttentionTiles.maxSlots), bq = a.blockRows
        let q = k.input(0), key = k.input(1), v = k.input(2), mask = k.input(3), dout = k.input(a.hasBlocks ? 5 : 4)
        let dqBase = k.output, dkBase = k.output + a.pairs * a.t * a.d, dvBase = dkBase + a.pairs * a.s * a.d
        let scratch = k.scratch!, scale = scale
        let flash: (any FlashKernelSet.Type)?
        if case .flash(let level) = kernel.resolved(headSize: a.d) { flash = level.kernels } else { flash = nil }
        let perSlot = flash?.backwardScratch(rows: bq, s: a.s, d: a.d, keyTile: BlockMask.keyTile) ?? 0
        AttentionTiles.withTileMap(a, mask: mask, blocks: a.hasBlocks ? k.input(4) : nil, skipTiles: skipTiles) { map in
            AttentionTiles.dealt(a.pairs, slots: slots, work: a.pairs * a.t * a.s * a.d * 10) { slot, pair in
                if let flash {
                    flash.backward(q: a.q(q, pair), k: a.kv(key, pair), v: a.kv(v, pair), dout: a.q(dout, pair), mask: a.mask(mask, pair),
                                   classes: map.row(pair: pair, block: 0).rawClasses, dq: dqBase + a.offset(pair, rows: a.t),
                                   dk: dkBase + a.offset(pair, rows: a.s), dv: dvBase + a.offset(pair, rows: a.s),
                                   t: a.t, s: a.s, d: a.d, stride: a.stride, blockRows: bq, keyTile: BlockMask.keyTile,
                                   scale: scale, scratch: scratch + slot * perSlot)
                    return
                }
                let p = scratch + slot * 2 * bq * a.s, ds = p + bq * a.s
                let qp = a.q(q, pair), dop = a.q(dout, pair), kp = a.kv(key, pair), vp = a.kv(v, pair)
                let mp = a.mask(mask, pair)
                let dq = dqBase + a.offset(pair, rows: a.t), dk = dkBase + a.offset(pair, rows: a.s)
                let dv = dvBase + a.offset(pair, rows: a.s), ld = a.stride
                a.zero(dq, rows: a.t); a.zero(dk, rows: a.s); a.zero(dv, rows: a.s)
                for block in 0..<a.queryBlocks {
                    let t0 = block * bq, rows = Swift.min(bq, a.t - t0), classes = map.row(pair: pair, block: block)
                    _ = AttentionTiles.probabilities(q: qp, k: kp, mask: mp, t0: t0, rows: rows,
                                                     s: a.s, d: a.d, stride: ld, scale: scale, classes: classes, p: p)
                    // Empty tiles have P = 0, so dS = 0 there: only the runs are computed and read.
                    AttentionTiles.runs(classes, a.s) { s0, width in  // dP = dO · vᵀ
                        BLAS.sgemm(transA: false, transB: true, m: rows, n: width, k: a.d,
                                   a: dop + t0 * ld, lda: ld, b: vp + s0 * ld, ldb: ld, c: ds + s0, ldc: a.s)
                    }
                    // dS = P ⊙ (dP − Σⱼ P dP): the softmax's backward, row by row.
                    for r in 0..<rows {
                        let pr = p + r * a.s, dr = ds + r * a.s
                        var dot: Float = 0
                        AttentionTiles.runs(classes, a.s) { s0, width in dot += VectorMath.dot(pr + s0, dr + s0, width) }
                        AttentionTiles.runs(classes, a.s) { s0, width in
                            VectorMath.map(pr + s0, dr + s0, dr + s0, width) { p, d in p * (d - dot) }
                        }
                    }
                    AttentionTiles.runs(classes, a.s) { s0, width in
                        // dv[s0..] += P[:, s0..]ᵀ · dO
                        BLAS.sgemm(transA: true, transB: false, m: width, n: a.d, k: rows,
                                   a: p + s0, lda: a.s, b: dop + t0 * ld, ldb: ld, beta: 1, c: dv + s0 * ld, ldc: ld)
                        // dk[s0..] += scale · dS[:, s0..]ᵀ · q
                        BLAS.sgemm(transA: true, transB: false, m: width, n: a.d, k: rows, alpha: scale,
                                   a: ds + s0, lda: a.s, b: qp + t0 * ld, ldb: ld, beta: 1, c: dk + s0 * ld, ldc: ld)
                        // dq rows += scale · dS[:, s0..] · k[s0..]
                        BLAS.sgemm(transA: false, transB: false, m: rows, n: a.d, k: width, alpha: scale,
                                   a: ds + s0, lda: a.s, b: kp + s0 * ld, ldb: ld, beta: 1, c: dq + t0 * ld, ldc: ld)
                    }
                }
            }
        }
    }
}

extension AttentionBackward {
    /// Gradients of the gradients, through attention composed from primitives: the packed
    /// [dq | dk | dv] differentiated with respect to q, k, v and the output gradient.
    public func gradient(_ node: Node, _ upstream: Node) throws -> [Node?] {
        let (q, k, v, mask, dOut) = (Tensor(node.inputs[0]), Tensor(node.inputs[1]), Tensor(node.inputs[2]),
                                     Tensor(node.inputs[3]), node.inputs.last!)
        let out: Tensor
        if let heads {   // the composed graph works per head: [B, T, H·D] ⇄ [B, H, T, D] around it
            out = try Tensor.attentionComposed(try q.splitHeads(heads), try k.splitHeads(heads), try v.splitHeads(heads),
                                               mask: mask, scale: scale).mergeHeads()
        } else {
            out = try Tensor.attentionComposed(q, k, v, mask: mask, scale: scale)
        }
        let parts = try Autodiff.gradients(of: out.node, wrt: [q.node, k.node, v.node], seed: dOut, wrtAsLeaves: true)
        let packed = try Tensor.concat(parts.map { try Tensor($0).reshape([-1]) }, axis: 0)
        let grads = try Autodiff.gradients(of: packed.node, wrt: [q.node, k.node, v.node, mask.node, dOut], seed: upstream, wrtAsLeaves: true)
        return [grads[0], grads[1], grads[2], nil] + (node.inputs.count == 6 ? [nil] : []) + [grads[4]]
    }
}

extension Tensor {
    /// Attention from primitives (scores, masked fill, softmax, product): what the attention
    /// ops compute, as a graph whose gradients the autodiff derives.
    static func attentionComposed(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor, scale: Float) throws -> Tensor {
        let m = mask.rank == 3 ? try mask.reshape([mask.shape[0], 1, mask.shape[1], mask.shape[2]]) : mask
        let scores = try q.matmul(k, transB: true) * scale
        return try Tensor.select(m, scores, .scalar(-.infinity)).softmax(axis: -1).matmul(v)
    }

    /// Scaled dot-product attention: q [B, H, T, D], k and v [B, H, S, D], mask [T, S] or
    /// [B, T, S] of 0/1 (1 = may attend) → [B, H, T, D]. `scale` defaults to 1/√D.
    /// With `heads`, q is [B, T, H·D], k and v [B, S, H·D] and the result [B, T, H·D] (the
    /// projections' layout, read and written in place).
    /// A query row whose mask row is all zeros is an error (reported when the plan runs); its
    /// output is zeros. `blocks`, the mask's `BlockMask` tile classes (the mask's batch axis,
    /// then `BlockMask.shape`), spares attention classifying the mask each run; it must
    /// describe the mask. `skipTiles: false` computes every tile (to compare). `kernel` picks the
    /// implementation (benchmarks and tests compare them).
    public static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor, blocks: Tensor? = nil,
                                 scale: Float? = nil, skipTiles: Bool = true, heads: Int? = nil,
                                 kernel: AttentionKernel = .automatic) throws -> Tensor {
        let d = Swift.max((q.shape.last ?? 1) / Swift.max(heads ?? 1, 1), 1)
        let op = Attention(scale: scale ?? 1 / Float(d).squareRoot(), skipTiles: skipTiles, heads: heads, kernel: kernel)
        return try .make(op, [q, k, v, mask] + (blocks.map { [$0] } ?? []))
    }
}
