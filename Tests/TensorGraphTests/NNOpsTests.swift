import Foundation
import Testing
@testable import TensorGraph

/// Neural-network ops (convolutions, pooling, attention, norms, losses): forward values against
/// naive nested-loop references computed in Double, and gradients against finite differences.
@Suite struct NNOpsTests {
    // MARK: helpers

    static func rand(_ shape: [Int], _ seed: UInt64, scale: Float = 1) -> TensorData {
        GradCheck.random(shape, seed: seed, scale: scale)
    }

    /// Every |got − want| ≤ rel · (1 + |want|).
    static func expectClose(_ got: TensorData, _ want: [Double], shape: [Int], rel: Double = 1e-4,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.shape == shape, sourceLocation: sourceLocation)
        #expect(got.values.count == want.count, sourceLocation: sourceLocation)
        var worst = 0.0, at = -1
        for (i, (g, w)) in zip(got.values, want).enumerated() {
            let e = Swift.abs(Double(g) - w) / (1 + Swift.abs(w))
            if !(e <= worst) { worst = e; at = i }
        }
        #expect(worst <= rel, "worst relative error \(worst) at \(at)", sourceLocation: sourceLocation)
    }

    static func gradCheck(_ inputs: [TensorData], sourceLocation: SourceLocation = #_sourceLocation,
                          _ f: ([Tensor]) throws -> Tensor) throws {
        let err = try GradCheck.error(inputs: inputs, f)
        #expect(err < GradCheck.tolerance, "gradient error \(err)", sourceLocation: sourceLocation)
    }

    // MARK: - convolution references

    /// y[n,o,y,x] = Σ_{c,i,j} x[n,c,y·s−p+i, x·s−p+j] · w[o,c,i,j]
    static func naiveConv(_ x: TensorData, _ w: TensorData, stride s: Int, padding p: Int) -> ([Double], [Int]) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let oh = (h + 2 * p - kh) / s + 1, ow = (wd + 2 * p - kw) / s + 1
        var out = [Double](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n { for f in 0..<o { for y in 0..<oh { for xx in 0..<ow {
            var acc = 0.0
            for ch in 0..<c { for i in 0..<kh { for j in 0..<kw {
                let iy = y * s - p + i, ix = xx * s - p + j
                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                acc += Double(x.values[((b * c + ch) * h + iy) * wd + ix]) * Double(w.values[((f * c + ch) * kh + i) * kw + j])
            }}}
            out[((b * o + f) * oh + y) * ow + xx] = acc
        }}}}
        return (out, [n, o, oh, ow])
    }

    /// Each x[n,c,y,x] scatters x · w[c,o,i,j] to y[n,o,y·s−p+i, x·s−p+j].
    static func naiveConvTranspose(_ x: TensorData, _ w: TensorData, stride s: Int, padding p: Int,
                                   outputPadding e: Int) -> ([Double], [Int]) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[1], w.shape[2], w.shape[3])
        let oh = (h - 1) * s - 2 * p + kh + e, ow = (wd - 1) * s - 2 * p + kw + e
        var out = [Double](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n { for ch in 0..<c { for y in 0..<h { for xx in 0..<wd {
            let v = Double(x.values[((b * c + ch) * h + y) * wd + xx])
            for f in 0..<o { for i in 0..<kh { for j in 0..<kw {
                let oy = y * s - p + i, ox = xx * s - p + j
                guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
                out[((b * o + f) * oh + oy) * ow + ox] += v * Double(w.values[((ch * o + f) * kh + i) * kw + j])
            }}}
        }}}}
        return (out, [n, o, oh, ow])
    }

    // MARK: - convolution

    @Test(arguments: [(1, 0), (1, 1), (2, 1), (2, 0), (3, 2)])
    func conv2dForward(_ sp: (Int, Int)) throws {
        let x = Self.rand([2, 3, 7, 6], 1), w = Self.rand([4, 3, 3, 2], 2)
        let y = try Tensor.constant(x).conv2d(.constant(w), stride: sp.0, padding: sp.1).realize()
        let (want, shape) = Self.naiveConv(x, w, stride: sp.0, padding: sp.1)
        Self.expectClose(y, want, shape: shape)
    }

    @Test func conv2dPointwise() throws {  // 1×1, stride 1, no padding: no im2col
        let x = Self.rand([2, 3, 4, 5], 3), w = Self.rand([2, 3, 1, 1], 4)
        let y = try Tensor.constant(x).conv2d(.constant(w)).realize()
        let (want, shape) = Self.naiveConv(x, w, stride: 1, padding: 0)
        Self.expectClose(y, want, shape: shape)
    }

    @Test(arguments: [(1, 0, 0), (2, 1, 0), (2, 1, 1), (3, 1, 2), (2, 0, 0)])
    func convTranspose2dForward(_ spe: (Int, Int, Int)) throws {
        let x = Self.rand([2, 3, 4, 5], 5), w = Self.rand([3, 2, 3, 4], 6)
        let y = try Tensor.constant(x).convTranspose2d(.constant(w), stride: spe.0, padding: spe.1,
                                                       outputPadding: spe.2).realize()
        let (want, shape) = Self.naiveConvTranspose(x, w, stride: spe.0, padding: spe.1, outputPadding: spe.2)
        Self.expectClose(y, want, shape: shape)
    }

    /// Stride 1 with "same" padding runs as a convolution with flipped filters.
    @Test(arguments: [(3, 1), (5, 2)])
    func convTransposeSameSize(_ kp: (Int, Int)) throws {
        let x = Self.rand([3, 4, 5, 6], 24), w = Self.rand([4, 2, kp.0, kp.0], 25)
        let y = try Tensor.constant(x).convTranspose2d(.constant(w), padding: kp.1).realize()
        let (want, shape) = Self.naiveConvTranspose(x, w, stride: 1, padding: kp.1, outputPadding: 0)
        Self.expectClose(y, want, shape: shape)
    }

    @Test func convTransposePointwise() throws {
        let x = Self.rand([2, 3, 4, 5], 7), w = Self.rand([3, 2, 1, 1], 8)
        let y = try Tensor.constant(x).convTranspose2d(.constant(w)).realize()
        let (want, shape) = Self.naiveConvTranspose(x, w, stride: 1, padding: 0, outputPadding: 0)
        Self.expectClose(y, want, shape: shape)
    }

    @Test(arguments: [(1, 0), (1, 1), (2, 1), (2, 0), (3, 1)])
    func conv2dGradient(_ sp: (Int, Int)) throws {
        // 6×5 with stride 2 or 3 leaves rows/columns no window reaches (output padding in the transpose).
        try Self.gradCheck([Self.rand([2, 2, 6, 5], 10), Self.rand([3, 2, 3, 2], 11, scale: 0.5)]) {
            try $0[0].conv2d($0[1], stride: sp.0, padding: sp.1)
        }
    }

    @Test func conv2dPointwiseGradient() throws {
        try Self.gradCheck([Self.rand([2, 3, 3, 4], 12), Self.rand([2, 3, 1, 1], 13)]) { try $0[0].conv2d($0[1]) }
    }

    @Test(arguments: [(1, 0, 0), (2, 1, 0), (2, 1, 1), (3, 2, 1)])
    func convTranspose2dGradient(_ spe: (Int, Int, Int)) throws {
        try Self.gradCheck([Self.rand([2, 2, 3, 4], 14), Self.rand([2, 3, 3, 3], 15, scale: 0.5)]) {
            try $0[0].convTranspose2d($0[1], stride: spe.0, padding: spe.1, outputPadding: spe.2)
        }
    }

    /// The weight-gradient op is itself differentiable (second-order: a gradient of a gradient).
    @Test func filterGradientGradient() throws {
        try Self.gradCheck([Self.rand([2, 2, 5, 5], 16), Self.rand([3, 2, 3, 3], 17), Self.rand([2, 3, 3, 3], 18)]) { t in
            let loss = try (t[0].conv2d(t[1], stride: 2, padding: 1) * t[2]).sum()
            return try loss.gradients(wrt: [t[1]])[0]
        }
    }

    @Test func convShapeErrors() throws {
        let x = Tensor.constant(Self.rand([1, 3, 5, 5], 1))
        #expect(throws: TensorGraphError.self) { try x.conv2d(.constant(Self.rand([2, 4, 3, 3], 2))) }
        #expect(throws: TensorGraphError.self) { try x.conv2d(.constant(Self.rand([2, 3, 7, 7], 2))) }
        #expect(throws: TensorGraphError.self) { try x.conv2d(.constant(Self.rand([2, 3, 3, 3], 2)), stride: 0) }
        #expect(throws: TensorGraphError.self) {
            try x.convTranspose2d(.constant(Self.rand([3, 2, 3, 3], 2)), stride: 2, outputPadding: 2)
        }
    }

    // MARK: - pooling

    @Test func upsampleForward() throws {
        let x = Self.rand([2, 3, 3, 4], 20)
        let y = try Tensor.constant(x).upsample(3).realize()
        var want = [Double]()
        for plane in 0..<6 { for r in 0..<9 { for c in 0..<12 {
            want.append(Double(x.values[plane * 12 + (r / 3) * 4 + c / 3]))
        }}}
        Self.expectClose(y, want, shape: [2, 3, 9, 12], rel: 0)
    }

    @Test func avgPoolForward() throws {
        let x = Self.rand([2, 3, 4, 6], 21)
        let y = try Tensor.constant(x).avgPool(2).realize()
        var want = [Double]()
        for plane in 0..<6 { for r in 0..<2 { for c in 0..<3 {
            var acc = 0.0
            for i in 0..<2 { for j in 0..<2 { acc += Double(x.values[plane * 24 + (2 * r + i) * 6 + 2 * c + j]) } }
            want.append(acc / 4)
        }}}
        Self.expectClose(y, want, shape: [2, 3, 2, 3])
        #expect(throws: TensorGraphError.self) { try Tensor.constant(x).avgPool(4) }
    }

    @Test func poolingGradients() throws {
        try Self.gradCheck([Self.rand([2, 2, 3, 2], 22)]) { try $0[0].upsample(2) }
        try Self.gradCheck([Self.rand([2, 2, 3, 2], 23)]) { try $0[0].upsample(3) }
        try Self.gradCheck([Self.rand([2, 2, 4, 6], 24)]) { try $0[0].avgPool(2) }
        try Self.gradCheck([Self.rand([1, 2, 6, 3], 25)]) { try $0[0].avgPool(3) }
    }

    // MARK: - attention

    /// Causal over the whole sequence, plus a bidirectional block (an image) at `block`.
    static func causalWithBlock(_ t: Int, _ block: Range<Int>) -> [Float] {
        var m = [Float](repeating: 0, count: t * t)
        for i in 0..<t { for j in 0..<t where j <= i || (block.contains(i) && block.contains(j)) { m[i * t + j] = 1 } }
        return m
    }

    /// softmax(scale · q kᵀ, masked) · v with an explicit softmax, in Double.
    static func naiveAttention(_ q: TensorData, _ k: TensorData, _ v: TensorData, mask: TensorData,
                               scale: Double) -> [Double] {
        let (b, h, t, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3]), s = k.shape[2]
        var out = [Double](repeating: 0, count: b * h * t * d)
        for bi in 0..<b { for hi in 0..<h {
            let pair = bi * h + hi
            for i in 0..<t {
                var scores = [Double](repeating: -.infinity, count: s)
                for j in 0..<s {
                    let m = mask.rank == 3 ? mask.values[(bi * t + i) * s + j] : mask.values[i * s + j]
                    guard m != 0 else { continue }
                    var dot = 0.0
                    for c in 0..<d { dot += Double(q.values[(pair * t + i) * d + c]) * Double(k.values[(pair * s + j) * d + c]) }
                    scores[j] = dot * scale
                }
                let mx = scores.max()!
                let e = scores.map { $0 == -.infinity ? 0 : Foundation.exp($0 - mx) }
                let total = e.reduce(0, +)
                for j in 0..<s { for c in 0..<d {
                    out[(pair * t + i) * d + c] += e[j] / total * Double(v.values[(pair * s + j) * d + c])
                }}
            }
        }}
        return out
    }

    @Test func attentionForwardCausalWithBlock() throws {
        let (b, h, t, d) = (2, 3, 7, 5)
        let q = Self.rand([b, h, t, d], 30), k = Self.rand([b, h, t, d], 31), v = Self.rand([b, h, t, d], 32)
        let mask = TensorData(shape: [t, t], values: Self.causalWithBlock(t, 2..<5))
        let y = try Tensor.attention(.constant(q), .constant(k), .constant(v), mask: .constant(mask)).realize()
        Self.expectClose(y, Self.naiveAttention(q, k, v, mask: mask, scale: 1 / Double(d).squareRoot()), shape: [b, h, t, d])
    }

    /// T ≠ S, a per-batch mask and an explicit scale.
    @Test func attentionForwardCrossWithBatchedMask() throws {
        let (b, h, t, s, d) = (2, 2, 5, 9, 4)
        let q = Self.rand([b, h, t, d], 33), k = Self.rand([b, h, s, d], 34), v = Self.rand([b, h, s, d], 35)
        var rng = RNG(seed: 36)
        var m = (0..<(b * t * s)).map { _ in Float(Int.random(in: 0...1, using: &rng)) }
        for row in 0..<(b * t) { m[row * s + row % s] = 1 }  // every query sees at least one key
        let mask = TensorData(shape: [b, t, s], values: m)
        let y = try Tensor.attention(.constant(q), .constant(k), .constant(v), mask: .constant(mask), scale: 0.3).realize()
        Self.expectClose(y, Self.naiveAttention(q, k, v, mask: mask, scale: 0.3), shape: [b, h, t, d])
    }

    /// Several query blocks (32 rows) and key blocks (64 keys), partial ones at the ends.
    @Test func attentionForwardManyTiles() throws {
        let (b, h, t, s, d) = (2, 2, 70, 150, 8)
        let q = Self.rand([b, h, t, d], 37), k = Self.rand([b, h, s, d], 38), v = Self.rand([b, h, s, d], 39)
        var m = [Float](repeating: 0, count: t * s)
        for i in 0..<t { for j in 0..<s where j <= i + 60 || j % 7 == 3 { m[i * s + j] = 1 } }
        let mask = TensorData(shape: [t, s], values: m)
        let y = try Tensor.attention(.constant(q), .constant(k), .constant(v), mask: .constant(mask)).realize()
        Self.expectClose(y, Self.naiveAttention(q, k, v, mask: mask, scale: 1 / Double(d).squareRoot()), shape: [b, h, t, d])
    }

    @Test func attentionGradientCausalWithBlock() throws {
        let (b, h, t, d) = (2, 2, 6, 4)
        let mask = Tensor.constant(TensorData(shape: [t, t], values: Self.causalWithBlock(t, 1..<4)))
        try Self.gradCheck([Self.rand([b, h, t, d], 40), Self.rand([b, h, t, d], 41), Self.rand([b, h, t, d], 42)]) {
            try Tensor.attention($0[0], $0[1], $0[2], mask: mask)
        }
    }

    /// T ≠ S, per-batch mask, several query and key blocks: the packed backward at its edges.
    @Test func attentionGradientManyTiles() throws {
        let (b, h, t, s, d) = (2, 1, 35, 70, 3)
        var m = [Float](repeating: 0, count: b * t * s)
        for bi in 0..<b { for i in 0..<t { for j in 0..<s where j <= 2 * i + bi || j % 5 == 0 { m[(bi * t + i) * s + j] = 1 } } }
        let mask = Tensor.constant(TensorData(shape: [b, t, s], values: m))
        try Self.gradCheck([Self.rand([b, h, t, d], 43), Self.rand([b, h, s, d], 44), Self.rand([b, h, s, d], 45)]) {
            try Tensor.attention($0[0], $0[1], $0[2], mask: mask, scale: 0.7)
        }
    }

    /// A query that may attend to nothing is reported by row, and its output is zeros (not NaN).
    @Test func attentionEmptyMaskRowIsReported() throws {
        let (t, d) = (4, 3)
        var m = Self.causalWithBlock(t, 0..<0)
        for j in 0..<t { m[2 * t + j] = 0 }
        let q = Self.rand([1, 2, t, d], 46), k = Self.rand([1, 2, t, d], 47), v = Self.rand([1, 2, t, d], 48)
        let y = try Tensor.attention(.constant(q), .constant(k), .constant(v),
                                     mask: .constant(TensorData(shape: [t, t], values: m)))
        let plan = try Plan([y.node])
        do {
            try plan.run()
            Issue.record("expected an error for the empty mask row")
        } catch let error as TensorGraphError {
            #expect(error.message.contains("query row 2"), "\(error.message)")
        }
        let out = plan.output(0).values
        #expect(out.allSatisfy { $0.isFinite })
        for head in 0..<2 { #expect(out[(head * t + 2) * d..<(head * t + 3) * d].allSatisfy { $0 == 0 }) }
        #expect(out[0..<d].contains { $0 != 0 })
    }

    /// F18: NaN or ±Inf in the queries or keys is reported as non-finite scores, not as an
    /// empty mask row, and the empty-row message stays for real empty rows.
    @Test func attentionTellsNonFiniteScoresFromAnEmptyMaskRow() throws {
        let (t, d) = (4, 3)
        let mask = TensorData(shape: [t, t], values: Self.causalWithBlock(t, 0..<0))
        let k = Self.rand([1, 2, t, d], 47), v = Self.rand([1, 2, t, d], 48)
        func failure(_ q: TensorData, _ mask: TensorData) throws -> String? {
            let y = try Tensor.attention(.constant(q), .constant(k), .constant(v), mask: .constant(mask))
            do { try Plan([y.node]).run(); return nil } catch let error as TensorGraphError { return error.message }
        }
        for bad in [Float.nan, .infinity, -.infinity] {
            var q = Self.rand([1, 2, t, d], 46).values
            q[1 * d] = bad                                    // head 0, query row 1
            let message = try failure(TensorData(shape: [1, 2, t, d], values: q), mask)
            #expect(message == "attention: query row 1 (batch 0, head 0) has non-finite scores — its queries or keys hold NaN or ±Inf (the mask is not the cause; in training this means the run diverged)",
                    "\(bad): \(message ?? "no error")")
        }
        var empty = mask.values
        for j in 0..<t { empty[3 * t + j] = 0 }
        #expect(try failure(Self.rand([1, 2, t, d], 46), TensorData(shape: [t, t], values: empty))
                == "attention: query row 3 (batch 0, head 0) may attend to no key — its mask row is all zeros; its output was set to zeros")
        #expect(try failure(Self.rand([1, 2, t, d], 46), mask) == nil)
    }

    /// One thread or several: bit-identical values and gradients (each output has one writer).
    /// A batch too wide for one product goes through in groups (the filter gradient summing
    /// over them): the same values as the naive convolution and the finite differences.
    @Test func convolutionsInSeveralGroups() throws {
        let x = Self.rand([5, 2, 6, 5], 19), w = Self.rand([3, 2, 3, 3], 20), t = Self.rand([5, 3, 4, 5], 21)
        let rowsTimesCols = 2 * 9 * 6 * 5   // ≤ 2 images a group
        try ConvGeometry.$columnBudget.withValue(2 * rowsTimesCols) {
            let y = try Tensor.constant(x).conv2d(.constant(w), padding: 1).realize()
            let (want, shape) = Self.naiveConv(x, w, stride: 1, padding: 1)
            Self.expectClose(y, want, shape: shape)
            let u = try Tensor.constant(t).convTranspose2d(.constant(Self.rand([3, 2, 3, 2], 22)), stride: 1, padding: 1).realize()
            let (wantU, shapeU) = Self.naiveConvTranspose(t, Self.rand([3, 2, 3, 2], 22), stride: 1, padding: 1, outputPadding: 0)
            Self.expectClose(u, wantU, shape: shapeU)
            try Self.gradCheck([x, Self.rand([3, 2, 3, 3], 23, scale: 0.5)]) { try $0[0].conv2d($0[1], padding: 1) }
        }
    }

    @Test func attentionAndConvAreDeterministicAcrossThreads() throws {
        let (b, h, t, d) = (2, 3, 45, 8)
        let q = Tensor.parameter(Self.rand([b, h, t, d], 80)), k = Tensor.parameter(Self.rand([b, h, t, d], 81))
        let v = Tensor.parameter(Self.rand([b, h, t, d], 82))
        let mask = Tensor.constant(TensorData(shape: [t, t], values: Self.causalWithBlock(t, 10..<30)))
        let x = Tensor.parameter(Self.rand([2, 8, 12, 12], 83)), w = Tensor.parameter(Self.rand([6, 8, 3, 3], 84))
        let y = try Tensor.attention(q, k, v, mask: mask)
        let c = try x.conv2d(w, stride: 2, padding: 1).upsample(2).avgPool(2)
        let loss = try (y * y).sum() + (c * c).sum()
        let grads = try loss.gradients(wrt: [q, k, v, x, w])
        func values(threads: Int?) throws -> [[Float]] {
            try Parallel.$limit.withValue(threads) {
                let plan = try Plan([y.node, c.node] + grads.map(\.node))
                try plan.run()
                return plan.outputs.indices.map { plan.output($0).values }
            }
        }
        let one = try values(threads: 1), many = try values(threads: nil)
        #expect(one == many)
    }

    @Test func attentionShapeErrors() throws {
        let q = Tensor.constant(Self.rand([1, 2, 4, 3], 1)), k = Tensor.constant(Self.rand([1, 2, 5, 3], 2))
        #expect(throws: TensorGraphError.self) { try Tensor.attention(q, k, k, mask: .full([4, 4], 1)) }
        #expect(throws: TensorGraphError.self) { try Tensor.attention(q, k, q, mask: .full([4, 5], 1)) }
        #expect(throws: TensorGraphError.self) { try Tensor.attention(q, q, q, mask: .full([2, 4, 4], 1)) }
        _ = try Tensor.attention(q, k, k, mask: .full([1, 4, 5], 1))
    }

    // MARK: - norms

    static func naiveNormRows(_ x: [Float], width n: Int, center: Bool, eps: Double) -> [Double] {
        stride(from: 0, to: x.count, by: n).flatMap { start -> [Double] in
            let row = x[start..<start + n].map(Double.init)
            let mu = center ? row.reduce(0, +) / Double(n) : 0
            let ms = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(n)
            return row.map { ($0 - mu) / (ms + eps).squareRoot() }
        }
    }

    @Test func normsForward() throws {
        let x = Self.rand([2, 3, 8], 50, scale: 2), w = Self.rand([8], 51), bias = Self.rand([8], 52)
        let rms = try Tensor.constant(x).rmsNorm(weight: .constant(w), eps: 1e-6).realize()
        let rmsWant = Self.naiveNormRows(x.values, width: 8, center: false, eps: 1e-6).enumerated()
            .map { $0.element * Double(w.values[$0.offset % 8]) }
        Self.expectClose(rms, rmsWant, shape: [2, 3, 8])

        let ln = try Tensor.constant(x).layerNorm(weight: .constant(w), bias: .constant(bias), eps: 1e-5).realize()
        let lnWant = Self.naiveNormRows(x.values, width: 8, center: true, eps: 1e-5).enumerated()
            .map { $0.element * Double(w.values[$0.offset % 8]) + Double(bias.values[$0.offset % 8]) }
        Self.expectClose(ln, lnWant, shape: [2, 3, 8])

        // [N=2, C=6, 3, 2] in 3 groups: each group is 2 channels × 6 positions, contiguous.
        let img = Self.rand([2, 6, 3, 2], 53, scale: 3), cw = Self.rand([6], 54), cb = Self.rand([6], 55)
        let gn = try Tensor.constant(img).groupNorm(groups: 3, weight: .constant(cw), bias: .constant(cb), eps: 1e-5).realize()
        let gnWant = Self.naiveNormRows(img.values, width: 12, center: true, eps: 1e-5).enumerated()
            .map { i, v in let c = (i / 6) % 6; return v * Double(cw.values[c]) + Double(cb.values[c]) }
        Self.expectClose(gn, gnWant, shape: [2, 6, 3, 2])
    }

    @Test func normGradients() throws {
        try Self.gradCheck([Self.rand([3, 6], 56), Self.rand([6], 57)]) { try $0[0].rmsNorm(weight: $0[1]) }
        try Self.gradCheck([Self.rand([2, 2, 5], 58)]) { try $0[0].rmsNorm(weight: nil) }
        try Self.gradCheck([Self.rand([3, 6], 59), Self.rand([6], 60), Self.rand([6], 61)]) {
            try $0[0].layerNorm(weight: $0[1], bias: $0[2])
        }
        try Self.gradCheck([Self.rand([2, 4, 3, 2], 62), Self.rand([4], 63), Self.rand([4], 64)]) {
            try $0[0].groupNorm(groups: 2, weight: $0[1], bias: $0[2])
        }
    }

    @Test func normShapeErrors() throws {
        let x = Tensor.constant(Self.rand([2, 6, 2, 2], 1))
        #expect(throws: TensorGraphError.self) { try x.groupNorm(groups: 4, weight: nil, bias: nil) }
        #expect(throws: TensorGraphError.self) { try x.layerNorm(weight: .full([6], 1), bias: nil) }
        #expect(throws: TensorGraphError.self) { try x.groupNorm(groups: 3, weight: .full([2], 1), bias: nil) }
    }

    // MARK: - losses

    static func naiveCrossEntropy(_ logits: TensorData, _ targets: [Float], ignore: Int?) -> Double {
        let v = logits.shape.last!
        var total = 0.0, count = 0
        for (i, target) in targets.enumerated() where ignore == nil || Int(target) != ignore! {
            let row = logits.values[i * v..<(i + 1) * v].map(Double.init)
            let mx = row.max()!
            let lse = mx + Foundation.log(row.map { Foundation.exp($0 - mx) }.reduce(0, +))
            total += lse - row[Int(target)]; count += 1
        }
        return total / Double(Swift.max(count, 1))
    }

    @Test func crossEntropyForward() throws {
        let logits = Self.rand([2, 3, 5], 70, scale: 2)
        let targets: [Float] = [1, 4, -100, 0, 2, -100]
        let t = Tensor.constant(TensorData(shape: [2, 3], values: targets))
        let ignored = try Tensor.crossEntropy(.constant(logits), t, ignoreIndex: -100).realize()
        Self.expectClose(ignored, [Self.naiveCrossEntropy(logits, targets, ignore: -100)], shape: [])

        // An ignore index inside the vocabulary (a PAD token).
        let padTargets: [Float] = [1, 4, 3, 0, 2, 3]
        let pad = try Tensor.crossEntropy(.constant(logits), .constant(TensorData(shape: [2, 3], values: padTargets)),
                                          ignoreIndex: 3).realize()
        Self.expectClose(pad, [Self.naiveCrossEntropy(logits, padTargets, ignore: 3)], shape: [])

        let plain = try Tensor.crossEntropy(.constant(logits), .constant(TensorData(shape: [2, 3], values: padTargets))).realize()
        Self.expectClose(plain, [Self.naiveCrossEntropy(logits, padTargets, ignore: nil)], shape: [])

        let allIgnored = try Tensor.crossEntropy(.constant(logits), .full([2, 3], -100), ignoreIndex: -100).realize()
        #expect(allIgnored.values == [0])
        #expect(throws: TensorGraphError.self) { try Tensor.crossEntropy(.constant(logits), .full([2, 5], 0)) }
    }

    @Test func crossEntropyGradient() throws {
        let targets = Tensor.constant(TensorData(shape: [2, 3], values: [1, 4, -100, 0, 2, -100]))
        try Self.gradCheck([Self.rand([2, 3, 5], 71)]) { try Tensor.crossEntropy($0[0], targets, ignoreIndex: -100) }
        let plain = Tensor.constant(TensorData(shape: [4], values: [0, 3, 3, 1]))
        try Self.gradCheck([Self.rand([4, 4], 72)]) { try Tensor.crossEntropy($0[0], plain) }
    }

    /// Issue 20: a target outside 0…V−1 or not whole (and not the ignore index) fails the run
    /// naming the first one, as PyTorch raises, instead of adding a silent zero; `gather` and
    /// `one_hot` the same.
    @Test func badIndicesFailTheRunNamingTheFirst() throws {
        func message(_ t: Tensor) -> String {
            do { _ = try t.realize(); return "(no error)" } catch let e as TensorGraphError { return e.message } catch { return "\(error)" }
        }
        let logits = Tensor.constant(Self.rand([2, 2, 5], 75))
        func targets(_ v: [Float]) -> Tensor { .constant(TensorData(shape: [2, 2], values: v)) }
        #expect(message(try Tensor.crossEntropy(logits, targets([1, 4, 7, 9]))) == "cross_entropy: target 7 at [1, 0] is outside 0…4 (5 classes)")
        #expect(message(try Tensor.crossEntropy(logits, targets([1, 2.5, 0, 0]))) == "cross_entropy: target 2.5 at [0, 1] is not a whole number (5 classes)")
        #expect(message(try Tensor.crossEntropy(logits, targets([1, 2, -100, 0]))) == "cross_entropy: target -100 at [1, 0] is outside 0…4 (5 classes)")
        #expect(message(try Tensor.crossEntropy(logits, targets([1, 2, -100, .nan]), ignoreIndex: -100)) == "cross_entropy: target nan at [1, 1] is not a whole number (5 classes)")
        #expect(message(try Tensor.crossEntropy(logits, targets([1, 2, -100, 5]), ignoreIndex: -100)) == "cross_entropy: target 5 at [1, 1] is outside 0…4 (5 classes)")
        let table = Tensor.constant(TensorData(shape: [3, 2], values: [0, 0, 1, 1, 2, 2]))
        #expect(message(try table.gather(.constant(TensorData(shape: [3], values: [2, 0.5, 9])))) == "gather: index 0.5 at [1] is not a whole number (a table of 3 rows)")
        #expect(message(try table.gather(.constant(TensorData(shape: [1, 2], values: [0, -1])))) == "gather: index -1 at [0, 1] is outside 0…2 (a table of 3 rows)")
        #expect(message(try Tensor.constant(TensorData(shape: [2], values: [1, 3])).oneHot(3)) == "one_hot: index 3 at [1] is outside 0…2 (3 classes)")
    }

    /// PyTorch's numbers, in closed form: rows [1, 2, 3] with targets 0 and 2 lose
    /// log(e + e² + e³) − 1 = 2.40761 and − 3 = 0.40761; an ignored row counts in neither the
    /// sum nor the mean, so the mean is 1.40761 (torch.nn.functional.cross_entropy with its
    /// default ignore_index=-100 gives the same).
    @Test func crossEntropyMatchesPyTorchsClosedForm() throws {
        let logits = Tensor.constant(TensorData(shape: [3, 3], values: [1, 2, 3, 1, 2, 3, 0, 0, 0]))
        let targets = Tensor.constant(TensorData(shape: [3], values: [0, 2, -100]))
        let lse = Foundation.log(Foundation.exp(1.0) + Foundation.exp(2.0) + Foundation.exp(3.0))
        let loss = try Tensor.crossEntropy(logits, targets, ignoreIndex: -100).realize()
        Self.expectClose(loss, [((lse - 1) + (lse - 3)) / 2], shape: [])
    }

    @Test func mse() throws {
        let a = Self.rand([3, 4], 73), b = Self.rand([3, 4], 74)
        let y = try Tensor.mse(.constant(a), .constant(b)).realize()
        let want = zip(a.values, b.values).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / 12
        Self.expectClose(y, [want], shape: [])
        try Self.gradCheck([a, b]) { try Tensor.mse($0[0], $0[1]) }
        #expect(throws: TensorGraphError.self) { try Tensor.mse(.constant(a), .full([4], 0)) }
    }
}
