import Foundation
import Testing
@testable import TensorGraph

/// The flash attention kernel (`AttentionKernel.flash`) at every SIMD level this CPU runs,
/// against the naive reference (forward and gradients in Double), against the BLAS kernel, and
/// across thread counts; head sizes 32, 64, 128 and ones only some levels take (the others fall
/// back to the BLAS kernel), masks with skipped, partial and full tiles, T not a multiple of the
/// 32-row query tile.
@Suite struct FlashAttentionTests {
    typealias T = NNOpsTests

    enum Mask: CaseIterable { case causal, images, holes }

    /// [b, t, s] masks: causal; causal with bidirectional image blocks (Transfusion's); and one
    /// with whole tiles removed (rows attending only to some key tiles) and a T ≠ S shape.
    static func mask(_ kind: Mask, b: Int, t: Int, s: Int) -> TensorData {
        var m = [Float](repeating: 0, count: b * t * s)
        for bi in 0..<b { for i in 0..<t { for j in 0..<s {
            let allowed: Bool
            switch kind {
            case .causal: allowed = j <= i
            case .images:
                let image = (bi == 0 ? 20..<60 : 5..<37)   // per batch row: a block crossing tile edges
                allowed = j <= i || (image.contains(i) && image.contains(j))
            case .holes: allowed = (j / 64 + i / 32) % 2 == 0 || j == i % s
            }
            if allowed { m[(bi * t + i) * s + j] = 1 }
        }}}
        return TensorData(shape: [b, t, s], values: m)
    }

    /// softmax(scale · q kᵀ, masked) · v and its gradients for output gradient g, in Double,
    /// [B, H, T, D] layout: (out, dq, dk, dv).
    static func naive(_ q: TensorData, _ k: TensorData, _ v: TensorData, mask: TensorData, g: TensorData,
                      scale: Double) -> [[Double]] {
        let (b, h, t, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3]), s = k.shape[2]
        var out = [Double](repeating: 0, count: b * h * t * d), dq = out
        var dk = [Double](repeating: 0, count: b * h * s * d), dv = dk
        func at(_ x: TensorData, _ pair: Int, _ rows: Int, _ i: Int, _ c: Int) -> Double { Double(x.values[(pair * rows + i) * d + c]) }
        for bi in 0..<b { for hi in 0..<h {
            let pair = bi * h + hi
            for i in 0..<t {
                var p = [Double](repeating: 0, count: s)
                var mx = -Double.infinity
                for j in 0..<s where mask.values[(bi * t + i) * s + j] != 0 {
                    p[j] = (0..<d).reduce(0) { $0 + at(q, pair, t, i, $1) * at(k, pair, s, j, $1) } * scale
                    mx = Swift.max(mx, p[j])
                }
                var total = 0.0
                for j in 0..<s { p[j] = mask.values[(bi * t + i) * s + j] != 0 ? Foundation.exp(p[j] - mx) : 0; total += p[j] }
                for j in 0..<s { p[j] /= total }
                let dp = (0..<s).map { j in (0..<d).reduce(0) { $0 + at(g, pair, t, i, $1) * at(v, pair, s, j, $1) } }
                let rowDot = zip(p, dp).reduce(0) { $0 + $1.0 * $1.1 }
                for j in 0..<s where p[j] != 0 {
                    let ds = p[j] * (dp[j] - rowDot)
                    for c in 0..<d {
                        out[(pair * t + i) * d + c] += p[j] * at(v, pair, s, j, c)
                        dq[(pair * t + i) * d + c] += scale * ds * at(k, pair, s, j, c)
                        dk[(pair * s + j) * d + c] += scale * ds * at(q, pair, t, i, c)
                        dv[(pair * s + j) * d + c] += p[j] * at(g, pair, t, i, c)
                    }
                }
            }
        }}
        return [out, dq, dk, dv]
    }

    /// Attention in the [B, T, H·D] layout with `kernel`: output and gradients of Σ out ⊙ g, on
    /// `threads` (nil: all).
    static func run(_ q: TensorData, _ k: TensorData, _ v: TensorData, mask: TensorData, g: TensorData, heads: Int,
                    kernel: AttentionKernel, threads: Int? = nil) throws -> [[Float]] {
        let (qt, kt, vt) = (Tensor.parameter(q), Tensor.parameter(k), Tensor.parameter(v))
        let out = try Tensor.attention(qt, kt, vt, mask: .constant(mask), heads: heads, kernel: kernel)
        let grads = try (out * .constant(g)).sum().gradients(wrt: [qt, kt, vt])
        return try Parallel.$limit.withValue(threads) {
            let plan = try Plan([out.node] + grads.map(\.node))
            try plan.run()
            return plan.outputs.indices.map { plan.output($0).values }
        }
    }

    /// Every |got − want| ≤ rel · (1 + |want|), with the worst named.
    static func expectClose(_ got: [Float], _ want: [Double], rel: Double, _ what: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == want.count, sourceLocation: sourceLocation)
        var worst = 0.0
        for (g, w) in zip(got, want) { worst = Swift.max(worst, Swift.abs(Double(g) - w) / (1 + Swift.abs(w))) }
        #expect(worst <= rel, "\(what): worst relative error \(worst)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [32, 64, 128, 24, 40, 48])
    func matchesNaiveReferenceAndBlasKernel(headSize d: Int) throws {
        let (b, h) = (2, 2)
        for kind in Mask.allCases {
            let (t, s) = kind == .holes ? (70, 150) : (100, 100)
            let q = T.rand([b, h, t, d], 200), k = T.rand([b, h, s, d], 201), v = T.rand([b, h, s, d], 202)
            let g = T.rand([b, h, t, d], 203), mask = Self.mask(kind, b: b, t: t, s: s)
            let want = Self.naive(q, k, v, mask: mask, g: g, scale: 1 / Double(d).squareRoot())
            let tm = AttentionLayoutTests.timeMajor
            // The reference's [B, H, T, D] results in the [B, T, H·D] layout.
            let wantTM = [(want[0], t), (want[1], t), (want[2], s), (want[3], s)].map { values, rows in
                tm(TensorData(shape: [b, h, rows, d], values: values.map(Float.init))).values.map(Double.init)
            }
            let blas = try Self.run(tm(q), tm(k), tm(v), mask: mask, g: tm(g), heads: h, kernel: .blas)
            for level in SIMDLevel.available {
                let kernel = AttentionKernel.flash(level)
                let got = try Self.run(tm(q), tm(k), tm(v), mask: mask, g: tm(g), heads: h, kernel: kernel)
                for (i, name) in ["out", "dq", "dk", "dv"].enumerated() {
                    let what = "\(name), head size \(d), \(kind) mask, \(kernel.resolved(headSize: d))"
                    Self.expectClose(got[i], wantTM[i], rel: 1e-5, what + " against the naive reference")
                    Self.expectClose(got[i], blas[i].map(Double.init), rel: 1e-5, what + " against the BLAS kernel")
                }
            }
        }
    }

    /// Finite differences through the flash kernel at each level (head size 32, two query tiles).
    @Test func gradientsMatchFiniteDifferences() throws {
        let (b, t, s, h, d) = (1, 40, 70, 1, 32)
        let mask = Tensor.constant(Self.mask(.images, b: b, t: t, s: s))
        for level in SIMDLevel.available {
            #expect(AttentionKernel.flash(level).resolved(headSize: d) == .flash(level))
            try T.gradCheck([T.rand([b, t, h * d], 210), T.rand([b, s, h * d], 211), T.rand([b, s, h * d], 212)]) {
                try Tensor.attention($0[0], $0[1], $0[2], mask: mask, heads: h, kernel: .flash(level))
            }
        }
    }

    /// Each unit of work (a query block forward, a (batch, head) backward) is computed by one
    /// thread in a fixed order: one thread or all give the same bits.
    @Test func bitIdenticalAcrossThreads() throws {
        let (b, h, t, d) = (3, 4, 97, 64)
        let q = T.rand([b, t, h * d], 220), k = T.rand([b, t, h * d], 221), v = T.rand([b, t, h * d], 222)
        let g = T.rand([b, t, h * d], 223), mask = Self.mask(.images, b: b, t: t, s: t)
        for level in SIMDLevel.available {
            let one = try Self.run(q, k, v, mask: mask, g: g, heads: h, kernel: .flash(level), threads: 1)
            let all = try Self.run(q, k, v, mask: mask, g: g, heads: h, kernel: .flash(level), threads: nil)
            #expect(one == all, "\(level)")
        }
    }

    /// Rows that may attend to no key, or whose scores are not finite, fail the run with the
    /// same messages as the BLAS kernel (the output of an empty row is zeros).
    @Test func reportsRowProblemsAsTheBlasKernel() throws {
        let (t, d) = (40, 32)
        var m = Self.mask(.causal, b: 1, t: t, s: t).values
        for j in 0..<t { m[35 * t + j] = 0 }
        let mask = TensorData(shape: [t, t], values: m)
        let k = T.rand([1, t, d], 231), v = T.rand([1, t, d], 232)
        func failure(_ q: TensorData, _ kernel: AttentionKernel) throws -> String? {
            let y = try Tensor.attention(.constant(q), .constant(k), .constant(v), mask: .constant(mask), heads: 1, kernel: kernel)
            do { try Plan([y.node]).run(); return nil } catch let error as TensorGraphError { return error.message }
        }
        var bad = T.rand([1, t, d], 230).values
        bad[3 * d + 5] = .nan
        for kernel in [AttentionKernel.blas] + SIMDLevel.available.map(AttentionKernel.flash) {
            #expect(try failure(T.rand([1, t, d], 230), kernel)
                    == "attention: query row 35 (batch 0, head 0) may attend to no key — its mask row is all zeros; its output was set to zeros")
            #expect(try failure(TensorData(shape: [1, t, d], values: bad), kernel)
                    == "attention: query row 3 (batch 0, head 0) has non-finite scores — its queries or keys hold NaN or ±Inf (the mask is not the cause; in training this means the run diverged)")
        }
    }

    /// The level from CPU flags, and which head sizes each level's kernel takes.
    @Test func levelsAndHeadSizes() {
        let avx2: Set<String> = ["avx2", "fma", "bmi1", "bmi2", "f16c", "movbe"]
        #expect(SIMDLevel.best(flags: []) == .baseline)
        #expect(SIMDLevel.best(flags: ["avx2"]) == .baseline)
        #if arch(x86_64)
        #expect(SIMDLevel.best(flags: avx2) == .avx2)
        #expect(SIMDLevel.best(flags: avx2.union(BLAS.avx512Flags)) == .avx512)
        #endif
        #expect(SIMDLevel.available.contains(SIMDLevel.chosen))
        #expect(AttentionKernel.flash(.baseline).resolved(headSize: 48) == .flash(.baseline))
        #expect(AttentionKernel.flash(.baseline).resolved(headSize: 40) == .blas)
        if SIMDLevel.supported == .avx512 {
            #expect(AttentionKernel.flash(.avx512).resolved(headSize: 32) == .flash(.avx512))
            #expect(AttentionKernel.flash(.avx512).resolved(headSize: 48) == .blas)
        }
        #expect(AttentionKernel.blas.resolved(headSize: 64) == .blas)
        #expect(AttentionKernel.automatic(level: .baseline, headSize: 32) == .blas)
        #expect(AttentionKernel.automatic(level: .avx2, headSize: 128) == .blas)
        if SIMDLevel.supported >= .avx2 { #expect(AttentionKernel.automatic(level: .avx2, headSize: 64) == .flash(.avx2)) }
        #expect(AttentionKernel.automatic(level: .avx2, headSize: 40) == .blas)
        if SIMDLevel.supported == .avx512 {
            #expect(AttentionKernel.automatic(level: .avx512, headSize: 128) == .flash(.avx512))
            #expect(AttentionKernel.automatic(level: .avx512, headSize: 48) == .blas)
        }
    }
}
