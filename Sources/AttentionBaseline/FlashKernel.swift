import Foundation

/// Flash-style attention kernels (FlashAttention-2's loop order) on raw pointers, vectorised over
/// `Vector`. This one file is compiled three times, into AttentionBaseline (baseline x86-64:
/// SSE), AttentionAVX2 (`-target-cpu haswell`: AVX2 + FMA) and AttentionAVX512
/// (`-target-cpu skylake-avx512`); the other two modules hold it as a symlink. Each module's
/// `Width.swift` says what `Vector` is there (SIMD8 or SIMD16 of Float) and how a product is
/// accumulated (fused where the CPU has FMA). TensorGraph picks the module from the CPU's flags
/// at run time (see its `SIMDLevel`); nothing here knows tensors.
///
/// Conventions: q, k, v, dout and the gradients hold one (batch, head): row i of q is D floats
/// at q + i·stride. The mask is that pair's dense [T, S] mask (nonzero = may attend). Tile
/// classes are BlockMask's raw values (0 empty, 1 partial, 2 full), one per `keyTile` keys.
/// Products run over blocks of 4 rows × 2 vectors held in registers (two such blocks at once at
/// AVX-512); so D must be a multiple of 2 · lanes (`supports`), and rows are padded to a
/// multiple of 4 in scratch. Work is per (batch, head), each value computed in a fixed order:
/// the caller can deal (batch, head) pairs to any number of threads and get the same bits.
public enum FlashKernel {
    public static var lanes: Int { Vector.scalarCount }

    /// Whether these kernels take head size `d` (every product's columns are pairs of vectors).
    public static func supports(headSize d: Int) -> Bool { d > 0 && d % (2 * lanes) == 0 }

    /// What is wrong with a query row: its mask allows no key (output zeros), or its scores are
    /// not finite (NaN or ±Inf in q or k).
    public struct Problem {
        public let row: Int
        public let noKey: Bool
    }

    // MARK: vector helpers (TensorGraph's VectorMath forwards to the baseline module's)

    @inlinable @inline(__always)
    public static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }

    @inlinable @inline(__always)
    static func store(_ x: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: x, as: Vector.self) }

    /// exp lane by lane, Cephes' expf: n = round(x·log₂e), r = x − n·ln 2 (ln 2 in two parts, so r
    /// is exact), e^r by a degree-6 polynomial on |r| ≤ ln 2 / 2, and 2ⁿ built in the exponent
    /// bits. Relative error is below 3e-7. Below −87.33 the result is 0 — e^−∞ included — where
    /// libm would give denormals under 1.2e-38; above 88 the lane is computed by libm. Unfused
    /// multiply-adds, so every module gives the same bits.
    @inlinable @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        let low = x .< -87.33, high = x .> 88
        let v = x.replacing(with: -87.33, where: low).replacing(with: 0, where: high)
        let magic: Float = 12_582_912   // 1.5·2²³: adding it rounds to an integer in the low bits
        let t = v * 1.442_695_04 + magic
        let n = t - magic
        let r = v - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = Vector(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        p = p * r * r + r + 1
        // 2ⁿ: t's low bits hold n + 0x400000 (the magic's mantissa); move n + 127 to the exponent.
        let bits = unsafeBitCast(t, to: Bits.self)
        let scale = unsafeBitCast((bits &- 0x4B40_0000 &+ 127) &<< 23, to: Vector.self)
        var result = (p * scale).replacing(with: 0, where: low)
        if any(high) { for i in 0..<Vector.scalarCount where high[i] { result[i] = Foundation.exp(x[i]) } }
        return result
    }

    /// The largest of n values (−∞ for none); NaNs are passed over.
    @inlinable @inline(__always)
    public static func maximum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        // Compare-and-blend, not the standard library's pointwiseMax and max(), which are not
        // specialized here and cost a call per vector.
        var m = Vector(repeating: -.infinity), i = 0
        while i + Vector.scalarCount <= n { let v = load(x + i); m = m.replacing(with: v, where: v .> m); i += Vector.scalarCount }
        var r = -Float.infinity
        for lane in 0..<Vector.scalarCount where m[lane] > r { r = m[lane] }
        while i < n { if x[i] > r { r = x[i] }; i += 1 }
        return r
    }

    /// Σ a[i]·b[i], summed in the lanes, then across them: a fixed order for a given n.
    @inlinable @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s = Vector(repeating: 0), i = 0
        while i + Vector.scalarCount <= n { s += load(a + i) * load(b + i); i += Vector.scalarCount }
        var r = s.sum()
        while i < n { r += a[i] * b[i]; i += 1 }
        return r
    }

    /// x[i] = e^(x[i] − shift) in place; returns their sum (a softmax's denominator).
    @inlinable @inline(__always)
    public static func expShifted(_ x: UnsafeMutablePointer<Float>, _ n: Int, minus shift: Float) -> Float {
        var total = Vector(repeating: 0), i = 0
        while i + Vector.scalarCount <= n {
            let e = exp(load(x + i) - shift)
            UnsafeMutableRawPointer(x + i).storeBytes(of: e, as: Vector.self)
            total += e
            i += Vector.scalarCount
        }
        var sum = total.sum()
        while i < n { let e = Foundation.exp(x[i] - shift); x[i] = e; sum += e; i += 1 }
        return sum
    }

    // MARK: the product

    /// Four rows × two vectors of C, in registers.
    struct Block {
        var c00 = Vector(), c01 = Vector(), c10 = Vector(), c11 = Vector()
        var c20 = Vector(), c21 = Vector(), c30 = Vector(), c31 = Vector()

        @inline(__always)
        init(_ c: UnsafeMutablePointer<Float>, ldc: Int, load: Bool) {
            guard load else { return }
            let w = Vector.scalarCount, r1 = c + ldc, r2 = r1 + ldc, r3 = r2 + ldc
            c00 = FlashKernel.load(c); c01 = FlashKernel.load(c + w); c10 = FlashKernel.load(r1); c11 = FlashKernel.load(r1 + w)
            c20 = FlashKernel.load(r2); c21 = FlashKernel.load(r2 + w); c30 = FlashKernel.load(r3); c31 = FlashKernel.load(r3 + w)
        }

        /// Adds A's four values a[0], a[ai], a[2·ai], a[3·ai] times the two vectors b0, b1.
        @inline(__always)
        mutating func add(_ a: UnsafePointer<Float>, _ ai: Int, _ b0: Vector, _ b1: Vector) {
            let x0 = Vector(repeating: a[0]), x1 = Vector(repeating: a[ai])
            let x2 = Vector(repeating: a[2 * ai]), x3 = Vector(repeating: a[3 * ai])
            c00 = multiplyAdd(c00, x0, b0); c01 = multiplyAdd(c01, x0, b1)
            c10 = multiplyAdd(c10, x1, b0); c11 = multiplyAdd(c11, x1, b1)
            c20 = multiplyAdd(c20, x2, b0); c21 = multiplyAdd(c21, x2, b1)
            c30 = multiplyAdd(c30, x3, b0); c31 = multiplyAdd(c31, x3, b1)
        }

        @inline(__always)
        func store(_ c: UnsafeMutablePointer<Float>, ldc: Int) {
            let w = Vector.scalarCount, r1 = c + ldc, r2 = r1 + ldc, r3 = r2 + ldc
            FlashKernel.store(c00, c); FlashKernel.store(c01, c + w); FlashKernel.store(c10, r1); FlashKernel.store(c11, r1 + w)
            FlashKernel.store(c20, r2); FlashKernel.store(c21, r2 + w); FlashKernel.store(c30, r3); FlashKernel.store(c31, r3 + w)
        }
    }

    /// C[i][j] (+)= Σₖ A(i, k) · B[k][j] for i < m (a multiple of 4), j < n (a multiple of
    /// 2 · lanes), k < depth. A(i, k) = a[i·ai + k·ak] (either layout, read one value at a time
    /// and broadcast); B's and C's rows are ldb and ldc apart. Each block of C — 4 rows × 2
    /// vectors, or 8 rows where the module has registers for two blocks — stays in registers
    /// over the whole depth.
    @inline(__always)
    static func product(m: Int, n: Int, depth: Int, a: UnsafePointer<Float>, ai: Int, ak: Int,
                        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        let w = Vector.scalarCount
        var i = 0
        while i < m {
            let eight = doubleBlocks && i + 8 <= m
            var j = 0
            while j < n {
                let top = c + i * ldc + j, bottom = top + 4 * ldc
                var upper = Block(top, ldc: ldc, load: accumulate)
                var bp = b + j, ap = a + i * ai
                if eight {
                    var lower = Block(bottom, ldc: ldc, load: accumulate)
                    for _ in 0..<depth {
                        let b0 = load(bp), b1 = load(bp + w)
                        upper.add(ap, ai, b0, b1); lower.add(ap + 4 * ai, ai, b0, b1)
                        bp += ldb; ap += ak
                    }
                    lower.store(bottom, ldc: ldc)
                } else {
                    for _ in 0..<depth {
                        upper.add(ap, ai, load(bp), load(bp + w))
                        bp += ldb; ap += ak
                    }
                }
                upper.store(top, ldc: ldc)
                j += 2 * w
            }
            i += eight ? 8 : 4
        }
    }

    /// dst[r·ld + j] = src[j·stride + r] for r < d, j < width; columns width..<tile are zeros.
    static func transpose(_ src: UnsafePointer<Float>, stride: Int, d: Int, width: Int, tile: Int,
                          into dst: UnsafeMutablePointer<Float>, ld: Int) {
        // Four keys at a time, each column's four values stored as one SIMD4 (a plain loop is
        // vectorised into scatters, which are slow).
        var j = 0
        while j + 4 <= width {
            let r0 = src + j * stride, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride
            for r in 0..<d {
                UnsafeMutableRawPointer(dst + r * ld + j).storeBytes(of: SIMD4<Float>(r0[r], r1[r], r2[r], r3[r]), as: SIMD4<Float>.self)
            }
            j += 4
        }
        while j < width {
            for r in 0..<d { dst[r * ld + j] = src[j * stride + r] }
            j += 1
        }
        if width < tile { for r in 0..<d { (dst + r * ld + width).update(repeating: 0, count: tile - width) } }
    }

    /// Scores of `rp` rows × one tile of keys in `row` (ld apart) masked: keys the mask removes
    /// (partial tiles only) and keys past S (width < tile) become −∞.
    @inline(__always)
    static func maskTile(_ scores: UnsafeMutablePointer<Float>, ld: Int, rows: Int, tile: Int, width: Int,
                         partial: Bool, mask: UnsafePointer<Float>, maskLd: Int) {
        for r in 0..<rows {
            let row = scores + r * ld
            if partial {
                let m = mask + r * maskLd, w = Vector.scalarCount
                var j = 0
                while j + w <= width { store(load(row + j).replacing(with: -.infinity, where: load(m + j) .== 0), row + j); j += w }
                while j < width { if m[j] == 0 { row[j] = -.infinity }; j += 1 }
            }
            for j in width..<tile { row[j] = -.infinity }
        }
    }

    /// The problem of a row that ends with running max `m` and sum `l`, given its mask row.
    static func problem(row: Int, m: Float, l: Float, mask: UnsafePointer<Float>, s: Int) -> Problem? {
        if m == -.infinity {
            let allowed = (0..<s).contains { mask[$0] != 0 }
            return Problem(row: row, noKey: !allowed)
        }
        return m.isFinite && l.isFinite ? nil : Problem(row: row, noKey: false)
    }

    // MARK: forward

    /// Floats of scratch `forward` needs for blocks of `rows` queries and S keys.
    public static func forwardScratch(rows: Int, s: Int, d: Int, keyTile kt: Int) -> Int {
        let rp = (rows + 3) & ~3, sp = (s + kt - 1) / kt * kt
        return 2 * rp * d + d * sp + rp * kt + 2 * rp
    }

    /// The output of one (batch, head): k transposed once, then each query block of `blockRows`
    /// by `forwardBlock`. `classes` holds the mask's tile classes, [query blocks][key tiles].
    /// Returns the first row with a problem (its output is zeros when its mask allows no key).
    public static func forward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                               mask: UnsafePointer<Float>, classes: UnsafePointer<UInt8>, out: UnsafeMutablePointer<Float>,
                               t: Int, s: Int, d: Int, stride: Int, blockRows: Int, keyTile kt: Int, scale: Float,
                               scratch: UnsafeMutablePointer<Float>) -> Problem? {
        let sp = (s + kt - 1) / kt * kt, kT = scratch
        transpose(k, stride: stride, d: d, width: s, tile: sp, into: kT, ld: sp)
        var first: Problem?, t0 = 0, block = 0
        while t0 < t {
            let problem = forwardBlock(q: q, kT: kT, ldk: sp, v: v, mask: mask, classes: classes + block * (sp / kt), out: out,
                                       t0: t0, rows: Swift.min(blockRows, t - t0), s: s, d: d, stride: stride, keyTile: kt,
                                       scale: scale, scratch: scratch + d * sp)
            if first == nil { first = problem }
            t0 += blockRows; block += 1
        }
        return first
    }

    /// out rows t0 ..< t0 + rows = softmax(scale · q kᵀ, masked) · v, by online softmax over the
    /// key tiles of `classes` (the query block's row of tile classes): per tile, scores (4 × 2-vector
    /// register blocks against kᵀ, `ldk` apart), running max m and sum l per row, the accumulator
    /// rescaled by e^(m_old − m_new), then P · v added. Empty tiles are skipped, full ones take no
    /// mask test.
    static func forwardBlock(q: UnsafePointer<Float>, kT: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>,
                             mask: UnsafePointer<Float>, classes: UnsafePointer<UInt8>, out: UnsafeMutablePointer<Float>,
                             t0: Int, rows: Int, s: Int, d: Int, stride: Int, keyTile kt: Int, scale: Float,
                             scratch: UnsafeMutablePointer<Float>) -> Problem? {
        let rp = (rows + 3) & ~3
        let qs = scratch, acc = qs + rp * d, sc = acc + rp * d, mx = sc + rp * kt, sum = mx + rp
        for r in 0..<rp {
            if r < rows {
                let src = q + (t0 + r) * stride, dst = qs + r * d
                for c in 0..<d { dst[c] = src[c] * scale }
            } else {
                (qs + r * d).update(repeating: 0, count: d)
            }
        }
        acc.update(repeating: 0, count: rp * d)
        mx.update(repeating: -.infinity, count: rp)
        sum.update(repeating: 0, count: rp)
        var s0 = 0, tile = 0
        while s0 < s {
            let width = Swift.min(kt, s - s0), cls = classes[tile]
            defer { s0 += kt; tile += 1 }
            if cls == 0 { continue }
            product(m: rp, n: kt, depth: d, a: qs, ai: d, ak: 1, b: kT + s0, ldb: ldk, c: sc, ldc: kt, accumulate: false)
            maskTile(sc, ld: kt, rows: rows, tile: kt, width: width, partial: cls == 1, mask: mask + t0 * s + s0, maskLd: s)
            for r in 0..<rp {
                let row = sc + r * kt
                let newMax = r < rows ? Swift.max(mx[r], maximum(row, kt)) : -.infinity
                if newMax == -.infinity { row.update(repeating: 0, count: kt); continue }  // nothing to add yet
                let alpha = Foundation.exp(mx[r] - newMax)
                sum[r] = sum[r] * alpha + expShifted(row, kt, minus: newMax)
                mx[r] = newMax
                if alpha != 1 {
                    let o = acc + r * d, a = Vector(repeating: alpha)
                    var c = 0
                    while c < d { store(load(o + c) * a, o + c); c += Vector.scalarCount }
                }
            }
            product(m: rp, n: d, depth: width, a: sc, ai: kt, ak: 1, b: v + s0 * stride, ldb: stride, c: acc, ldc: d, accumulate: true)
        }
        var first: Problem?
        for r in 0..<rows {
            let o = out + (t0 + r) * stride, a = acc + r * d
            if first == nil { first = problem(row: t0 + r, m: mx[r], l: sum[r], mask: mask + (t0 + r) * s, s: s) }
            if mx[r] == -.infinity { o.update(repeating: 0, count: d); continue }
            let inv = Vector(repeating: 1 / sum[r])
            var c = 0
            while c < d { store(load(a + c) * inv, o + c); c += Vector.scalarCount }
        }
        return first
    }

    // MARK: backward

    /// Floats of scratch `backward` needs for blocks of `rows` queries and S keys.
    public static func backwardScratch(rows: Int, s: Int, d: Int, keyTile kt: Int) -> Int {
        let rp = (rows + 3) & ~3, sp = (s + kt - 1) / kt * kt
        return 4 * d * sp + 3 * rp * d + 2 * rp * sp
    }

    /// The gradients of one (batch, head): dq (T rows), dk and dv (S rows), written (not added) at
    /// their pointers with `stride`. Per query block of `blockRows`: scores for its non-empty
    /// tiles, the softmax recomputed from them (each row's max and sum over all its tiles, as
    /// the forward's log-sum-exp would give), dP = dO vᵀ, D = rowsum(P ⊙ dP) (= rowsum(dO ⊙ O)),
    /// dS = P ⊙ (dP − D); dv += Pᵀ dO, dk += scale · dSᵀ q, dq = scale · dS k, all in the
    /// register-blocked product. `classes` holds the mask's tile classes, [query blocks][key tiles].
    public static func backward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                dout: UnsafePointer<Float>, mask: UnsafePointer<Float>, classes: UnsafePointer<UInt8>,
                                dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                                t: Int, s: Int, d: Int, stride: Int, blockRows: Int, keyTile kt: Int, scale: Float,
                                scratch: UnsafeMutablePointer<Float>) {
        let rpMax = (blockRows + 3) & ~3, sp = (s + kt - 1) / kt * kt, tiles = sp / kt
        let kT = scratch, vT = kT + d * sp, dkAcc = vT + d * sp, dvAcc = dkAcc + sp * d
        let qs = dvAcc + sp * d, dos = qs + rpMax * d, dqAcc = dos + rpMax * d
        let p = dqAcc + rpMax * d, ds = p + rpMax * sp
        transpose(k, stride: stride, d: d, width: s, tile: sp, into: kT, ld: sp)
        transpose(v, stride: stride, d: d, width: s, tile: sp, into: vT, ld: sp)
        dkAcc.update(repeating: 0, count: 2 * sp * d)
        var t0 = 0, block = 0
        while t0 < t {
            let rows = Swift.min(blockRows, t - t0), rp = (rows + 3) & ~3, cls = classes + block * tiles
            defer { t0 += blockRows; block += 1 }
            for r in 0..<rp {
                if r < rows {
                    let src = q + (t0 + r) * stride, g = dout + (t0 + r) * stride
                    for c in 0..<d { qs[r * d + c] = src[c] * scale; dos[r * d + c] = g[c] }
                } else {
                    (qs + r * d).update(repeating: 0, count: d); (dos + r * d).update(repeating: 0, count: d)
                }
            }
            dqAcc.update(repeating: 0, count: rp * d)
            for i in 0..<tiles where cls[i] != 0 {
                let s0 = i * kt
                product(m: rp, n: kt, depth: d, a: qs, ai: d, ak: 1, b: kT + s0, ldb: sp, c: p + s0, ldc: sp, accumulate: false)
                product(m: rp, n: kt, depth: d, a: dos, ai: d, ak: 1, b: vT + s0, ldb: sp, c: ds + s0, ldc: sp, accumulate: false)
                maskTile(p + s0, ld: sp, rows: rows, tile: kt, width: Swift.min(kt, s - s0), partial: cls[i] == 1,
                         mask: mask + t0 * s + s0, maskLd: s)
            }
            // P = softmax of each row over its tiles; dS = P ⊙ (dP − rowsum(P ⊙ dP)). Padded rows get 0.
            for r in 0..<rp {
                let pr = p + r * sp, dr = ds + r * sp
                var m = -Float.infinity
                if r < rows { for i in 0..<tiles where cls[i] != 0 { m = Swift.max(m, maximum(pr + i * kt, kt)) } }
                if m == -.infinity {
                    for i in 0..<tiles where cls[i] != 0 {
                        (pr + i * kt).update(repeating: 0, count: kt); (dr + i * kt).update(repeating: 0, count: kt)
                    }
                    continue
                }
                var total: Float = 0
                for i in 0..<tiles where cls[i] != 0 { total += expShifted(pr + i * kt, kt, minus: m) }
                let inv = Vector(repeating: 1 / total)
                var dotSum: Float = 0
                for i in 0..<tiles where cls[i] != 0 {
                    var c = i * kt
                    while c < (i + 1) * kt { store(load(pr + c) * inv, pr + c); c += Vector.scalarCount }
                    dotSum += dot(pr + i * kt, dr + i * kt, kt)
                }
                let dd = Vector(repeating: dotSum)
                for i in 0..<tiles where cls[i] != 0 {
                    var c = i * kt
                    while c < (i + 1) * kt { store(load(pr + c) * (load(dr + c) - dd), dr + c); c += Vector.scalarCount }
                }
            }
            for i in 0..<tiles where cls[i] != 0 {
                let s0 = i * kt, width = Swift.min(kt, s - s0)
                product(m: kt, n: d, depth: rp, a: p + s0, ai: 1, ak: sp, b: dos, ldb: d, c: dvAcc + s0 * d, ldc: d, accumulate: true)
                product(m: kt, n: d, depth: rp, a: ds + s0, ai: 1, ak: sp, b: qs, ldb: d, c: dkAcc + s0 * d, ldc: d, accumulate: true)
                product(m: rp, n: d, depth: width, a: ds + s0, ai: sp, ak: 1, b: k + s0 * stride, ldb: stride, c: dqAcc, ldc: d, accumulate: true)
            }
            let sv = Vector(repeating: scale)
            for r in 0..<rows {
                let o = dq + (t0 + r) * stride, a = dqAcc + r * d
                var c = 0
                while c < d { store(load(a + c) * sv, o + c); c += Vector.scalarCount }
            }
        }
        for j in 0..<s {
            (dk + j * stride).update(from: dkAcc + j * d, count: d)
            (dv + j * stride).update(from: dvAcc + j * d, count: d)
        }
    }
}
