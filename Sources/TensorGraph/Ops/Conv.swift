/// 2-D convolutions on [N, C, H, W] images, all through `cblas_sgemm`:
///   conv2d            y[n] = W · im2col(x[n])                  W [O, C·kh·kw]
///   conv_transpose2d  y[n] = col2im(Wᵀ · x[n])                 W [C, O·kh·kw]  (the adjoint of conv2d)
///   conv2d_filter_grad dW = Σₙ dy[n] · im2col(x[n])ᵀ            (the weight gradient of both)
/// One stride and one zero padding for both spatial axes; no bias (add it with a broadcast).
/// The images of a batch go through one wide product (their columns side by side), split
/// across threads by `BLAS.product`; a stride-1 "same" transpose runs as conv2d with flipped
/// filters. im2col is parallel over its rows and col2im over (image, channel): every value is
/// written by one piece in a fixed order, so results do not depend on the thread count.

/// An image [C, H, W] seen through kh×kw windows moved by `stride` over its zero-padded copy,
/// giving an oh×ow grid of window positions (oh = (h + 2p − kh) / stride + 1).
struct ConvGeometry {
    let channels: Int, h: Int, w: Int
    let kh: Int, kw: Int, stride: Int, padding: Int
    let oh: Int, ow: Int

    init(channels: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Int, padding: Int) {
        self.channels = channels; self.h = h; self.w = w
        self.kh = kh; self.kw = kw; self.stride = stride; self.padding = padding
        oh = (h + 2 * padding - kh) / stride + 1
        ow = (w + 2 * padding - kw) / stride + 1
    }

    /// Rows (c, i, j) and columns (y, x) of the column matrix.
    var rows: Int { channels * kh * kw }
    var cols: Int { oh * ow }
    var imageCount: Int { channels * h * w }

    /// Output positions y (of `count`) whose tap `k` lands inside an axis of length `n`.
    @inline(__always)
    func inside(_ k: Int, _ n: Int, _ count: Int) -> Range<Int> {
        let lo = Swift.max(0, (padding - k + stride - 1) / stride)
        let last = n - 1 + padding - k
        if last < 0 { return 0..<0 }
        let hi = Swift.min(count, last / stride + 1)
        return lo < hi ? lo..<hi : 0..<0
    }

    /// col[(c,i,j), n·cols + (y,x)] = images[n][c, y·s − p + i, x·s − p + j], 0 outside the
    /// image, for `count` images side by side (the column matrix's rows are `count·cols` long).
    /// Each row is written front to back, one image after another.
    func im2col(_ images: UnsafePointer<Float>, count: Int, _ col: UnsafeMutablePointer<Float>) {
        let (kh, kw, oh, ow, h, w, s, p, cols, rows) = (kh, kw, oh, ow, h, w, stride, padding, cols, rows)
        let ld = count * cols, imageCount = imageCount, same = keepsSize
        Parallel.chunks(rows, work: rows * ld) { range in
            for r in range {
                let c = r / (kh * kw), i = (r / kw) % kh, j = r % kw
                let ys = inside(i, h, oh), xs = inside(j, w, ow)
                for n in 0..<count {
                    let plane = images + n * imageCount + c * h * w, dst = col + r * ld + n * cols
                    if same { shiftedCopy(plane, dst, i, j); continue }
                    dst.update(repeating: 0, count: cols)
                    for y in ys {
                        let src = plane + (y * s - p + i) * w - p + j, row = dst + y * ow
                        if s == 1 { for x in xs { row[x] = src[x] } }
                        else { for x in xs { row[x] = src[x * s] } }
                    }
                }
            }
        }
    }

    /// Stride 1 and an output the size of the input: a column row is the image plane moved by
    /// one offset, so it is one block copy, then zeros where the window left the image
    /// (rows above or below fall outside the block; columns that wrapped are cleared).
    @inline(__always)
    private func shiftedCopy(_ plane: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ i: Int, _ j: Int) {
        let offset = (i - padding) * w + (j - padding)
        let lo = Swift.max(0, -offset), hi = Swift.min(cols, cols - offset)
        guard lo < hi else { dst.update(repeating: 0, count: cols); return }
        dst.update(repeating: 0, count: lo)
        (dst + lo).update(from: plane + lo + offset, count: hi - lo)
        (dst + hi).update(repeating: 0, count: cols - hi)
        let wrapped = j < padding ? 0..<(padding - j) : (w - (j - padding))..<w
        if wrapped.isEmpty { return }
        for y in 0..<h { for x in wrapped { dst[y * w + x] = 0 } }
    }

    /// Stride 1 with the output the input's size ("same" padding: a (2p+1)-wide window).
    var keepsSize: Bool { stride == 1 && oh == h && ow == w }

    /// The adjoint of im2col: images[n][c, ...] = the sum of every column entry read from there.
    func col2im(_ col: UnsafePointer<Float>, count: Int, _ images: UnsafeMutablePointer<Float>) {
        let (kh, kw, oh, ow, h, w, s, p, cols, channels) = (kh, kw, oh, ow, h, w, stride, padding, cols, channels)
        let ld = count * cols, imageCount = imageCount
        Parallel.chunks(count * channels, work: count * rows * cols) { range in
            for nc in range {
                let n = nc / channels, c = nc % channels
                let plane = images + n * imageCount + c * h * w
                plane.update(repeating: 0, count: h * w)
                for i in 0..<kh {
                    for j in 0..<kw {
                        let src = col + ((c * kh + i) * kw + j) * ld + n * cols
                        let ys = inside(i, h, oh), xs = inside(j, w, ow)
                        for y in ys {
                            let dst = plane + (y * s - p + i) * w - p + j, row = src + y * ow
                            if s == 1 { for x in xs { dst[x] += row[x] } }
                            else { for x in xs { dst[x * s] += row[x] } }
                        }
                    }
                }
            }
        }
    }

    /// y[n] = filters · im2col(images[n]) for `count` images, filters [O, rows]. Per group of
    /// images: their columns side by side, one product giving [O, group·cols], then each
    /// image's [O, cols] block moved to its place in the output.
    func convolve(_ images: UnsafePointer<Float>, count: Int, filters: UnsafePointer<Float>, outChannels: Int,
                  _ output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let group = group(count), col = scratch, wide = scratch + rows * group * cols
        for first in Swift.stride(from: 0, to: count, by: group) {
            let n = min(group, count - first), out = output + first * outChannels * cols
            im2col(images + first * imageCount, count: n, col)
            BLAS.product(transA: false, transB: false, m: outChannels, n: n * cols, k: rows,
                         a: filters, lda: rows, b: col, ldb: n * cols,
                         c: n == 1 ? out : wide, ldc: n * cols)
            if n > 1 { swapLeadingAxes(wide, out, outChannels, n, inner: cols) }
        }
    }

    /// Images per product: as many as keep the column matrix under `columnBudget` floats, so
    /// that one wide product serves many images without the scratch growing with the batch.
    func group(_ images: Int) -> Int { max(1, min(images, Self.columnBudget / max(1, rows * cols))) }
    /// Floats (32 MB); task-local so that tests can force several groups.
    @TaskLocal static var columnBudget = 1 << 23

    /// Floats of scratch for a group: the column matrix and one [channels, group·cols] operand.
    func scratch(images: Int, channels other: Int) -> Int { group(images) * cols * (rows + other) }
}

/// [a, b, inner] → [b, a, inner]: moves a batch of images between [N, C, ·] (one image after
/// another) and [C, N, ·] (one wide matrix whose columns run over all images).
func swapLeadingAxes(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ a: Int, _ b: Int, inner: Int) {
    Parallel.chunks(a * b, work: a * b * inner) { range in
        for ij in range {
            let i = ij / b, j = ij % b
            (dst + (j * a + i) * inner).update(from: src + ij * inner, count: inner)
        }
    }
}

/// Checks shared by the three convolution ops.
private func convChecks(_ op: String, _ s: [[Int]], stride: Int, padding: Int) throws {
    guard s.allSatisfy({ $0.count == 4 }) else {
        throw shapeError(op, s, "both operands must have rank 4 ([N, C, H, W] and [O, C, kh, kw])")
    }
    guard stride >= 1, padding >= 0 else {
        throw shapeError(op, s, "stride must be ≥ 1 and padding ≥ 0 (got stride \(stride), padding \(padding))")
    }
}

// MARK: - conv2d

/// x [N, C, H, W] ⋆ w [O, C, kh, kw] → [N, O, (H + 2p − kh)/s + 1, (W + 2p − kw)/s + 1].
public struct Conv2D: Operation {
    public let stride: Int, padding: Int
    public init(stride: Int = 1, padding: Int = 0) { self.stride = stride; self.padding = padding }
    public var label: String { "conv2d(s\(stride), p\(padding))" }

    func geometry(_ x: [Int], _ w: [Int]) -> ConvGeometry {
        ConvGeometry(channels: x[1], h: x[2], w: x[3], kh: w[2], kw: w[3], stride: stride, padding: padding)
    }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        try convChecks(label, s, stride: stride, padding: padding)
        let (x, w) = (s[0], s[1])
        guard x[1] == w[1] else {
            throw shapeError(label, s, "input channels differ (the image has \(x[1]), the filters expect \(w[1]))")
        }
        guard w[2] >= 1, w[3] >= 1, x[2] + 2 * padding >= w[2], x[3] + 2 * padding >= w[3] else {
            throw shapeError(label, s, "the \(w[2])×\(w[3]) filter does not fit in the padded \(x[2] + 2 * padding)×\(x[3] + 2 * padding) image")
        }
        let g = geometry(x, w)
        return [x[0], w[0], g.oh, g.ow]
    }

    public func scratch(_ node: Node) -> Int {
        let x = node.inputs[0].shape, w = node.inputs[1].shape
        return geometry(x, w).scratch(images: x[0], channels: w[0])
    }

    public func run(_ k: Kernel) {
        let x = k.node.inputs[0].shape, w = k.node.inputs[1].shape
        geometry(x, w).convolve(k.input(0), count: x[0], filters: k.input(1), outChannels: w[0],
                                k.output, scratch: k.scratch!)
    }

    public func gradient(_ node: Node, _ upstream: Node) throws -> [Node?] {
        let x = node.inputs[0].shape, w = node.inputs[1].shape
        // Rows and columns a strided window never reached: the transpose must give them back.
        let extraH = (x[2] + 2 * padding - w[2]) % stride, extraW = (x[3] + 2 * padding - w[3]) % stride
        let dx = try Graph.build(ConvTranspose2D(stride: stride, padding: padding, extraH: extraH, extraW: extraW),
                             [upstream, node.inputs[1]])
        let dw = try Graph.build(Conv2DFilterGrad(stride: stride, padding: padding, kh: w[2], kw: w[3]),
                             [node.inputs[0], upstream])
        return [dx, dw]
    }
}

// MARK: - conv_transpose2d

/// x [N, C, H, W] with w [C, O, kh, kw] → [N, O, (H − 1)·s − 2p + kh + extraH, (W − 1)·s − 2p + kw + extraW]:
/// the adjoint of conv2d (each input value scatters a weighted kh×kw window into the output).
/// `extraH`/`extraW` (< stride; PyTorch's output_padding) add rows/columns at the end that no
/// window reaches, so that the transpose of a strided conv2d gives back the conv's input size.
public struct ConvTranspose2D: Operation {
    public let stride: Int, padding: Int, extraH: Int, extraW: Int
    public init(stride: Int = 1, padding: Int = 0, extraH: Int = 0, extraW: Int = 0) {
        self.stride = stride; self.padding = padding; self.extraH = extraH; self.extraW = extraW
    }
    public var label: String {
        "conv_transpose2d(s\(stride), p\(padding)" + (extraH + extraW > 0 ? ", +\(extraH)×\(extraW))" : ")")
    }

    func outSize(_ x: [Int], _ w: [Int]) -> (Int, Int) {
        ((x[2] - 1) * stride - 2 * padding + w[2] + extraH, (x[3] - 1) * stride - 2 * padding + w[3] + extraW)
    }
    /// The conv2d geometry of the output image, whose window grid is the input's H×W.
    func geometry(_ x: [Int], _ w: [Int]) -> ConvGeometry {
        let (oh, ow) = outSize(x, w)
        return ConvGeometry(channels: w[1], h: oh, w: ow, kh: w[2], kw: w[3], stride: stride, padding: padding)
    }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        try convChecks(label, s, stride: stride, padding: padding)
        let (x, w) = (s[0], s[1])
        guard x[1] == w[0] else {
            throw shapeError(label, s, "input channels differ (the image has \(x[1]), the filters [C, O, kh, kw] expect \(w[0]))")
        }
        guard (0..<stride).contains(extraH), (0..<stride).contains(extraW) else {
            throw shapeError(label, s, "output padding must be in 0..<stride (got \(extraH), \(extraW))")
        }
        let (oh, ow) = outSize(x, w)
        guard w[2] >= 1, w[3] >= 1, x[2] >= 1, x[3] >= 1, oh >= 1, ow >= 1 else {
            throw shapeError(label, s, "padding \(padding) leaves an empty \(oh)×\(ow) output")
        }
        return [x[0], w[1], oh, ow]
    }

    /// A stride-1 transpose that keeps the size ("same" padding) is a plain convolution with
    /// the filters flipped and their channel axes swapped: F[o, c, i, j] = w[c, o, kh−1−i, kw−1−j].
    /// That route needs no col2im and its product sums over all C·kh·kw inputs at once.
    func flippedConvolution(_ x: [Int], _ w: [Int]) -> ConvGeometry? {
        guard stride == 1, w[2] == w[3], w[2] == 2 * padding + 1 else { return nil }
        return ConvGeometry(channels: x[1], h: x[2], w: x[3], kh: w[2], kw: w[3], stride: 1, padding: padding)
    }

    public func scratch(_ node: Node) -> Int {
        let x = node.inputs[0].shape, w = node.inputs[1].shape
        if let f = flippedConvolution(x, w) { return w[0] * w[1] * w[2] * w[3] + f.scratch(images: x[0], channels: w[1]) }
        return geometry(x, w).scratch(images: x[0], channels: x[1])
    }

    public func run(_ k: Kernel) {
        let x = k.node.inputs[0].shape, w = k.node.inputs[1].shape
        if let f = flippedConvolution(x, w) {
            let (c, o, taps) = (w[0], w[1], w[2] * w[3]), filters = k.scratch!
            for oc in 0..<(o * c) {
                let (oi, ci) = oc.quotientAndRemainder(dividingBy: c)
                let src = k.input(1) + (ci * o + oi) * taps, dst = filters + oc * taps
                for t in 0..<taps { dst[t] = src[taps - 1 - t] }
            }
            f.convolve(k.input(0), count: x[0], filters: filters, outChannels: o, k.output, scratch: filters + o * c * taps)
            return
        }
        let g = geometry(x, w), inChannels = x[1], group = g.group(x[0])
        let col = k.scratch!, wide = col + g.rows * group * g.cols
        // Per group of images: their inputs as one [C, group·cols] matrix, one product Wᵀ · it
        // giving every image's columns, then col2im into each output image.
        for first in Swift.stride(from: 0, to: x[0], by: group) {
            let n = min(group, x[0] - first), input = k.input(0) + first * inChannels * g.cols
            if n > 1 { swapLeadingAxes(input, wide, n, inChannels, inner: g.cols) }
            BLAS.product(transA: true, transB: false, m: g.rows, n: n * g.cols, k: inChannels,
                         a: k.input(1), lda: g.rows, b: n == 1 ? input : UnsafePointer(wide), ldb: n * g.cols,
                         c: col, ldc: n * g.cols)
            g.col2im(col, count: n, k.output + first * g.imageCount)
        }
    }

    public func gradient(_ node: Node, _ upstream: Node) throws -> [Node?] {
        let w = node.inputs[1].shape
        let dx = try Graph.build(Conv2D(stride: stride, padding: padding), [upstream, node.inputs[1]])
        let dw = try Graph.build(Conv2DFilterGrad(stride: stride, padding: padding, kh: w[2], kw: w[3]),
                             [upstream, node.inputs[0]])
        return [dx, dw]
    }
}

// MARK: - the filter gradient

/// image [N, Ci, H, W] and grad [N, Co, Ho, Wo] (Ho, Wo the conv2d output size) →
/// [Co, Ci, kh, kw] = Σₙ grad[n] · im2col(image[n])ᵀ. The weight gradient of conv2d
/// (image = x, grad = dy) and of conv_transpose2d (image = dy, grad = x).
public struct Conv2DFilterGrad: Operation {
    public let stride: Int, padding: Int, kh: Int, kw: Int
    public var label: String { "conv2d_filter_grad(s\(stride), p\(padding), \(kh)×\(kw))" }

    func geometry(_ x: [Int]) -> ConvGeometry {
        ConvGeometry(channels: x[1], h: x[2], w: x[3], kh: kh, kw: kw, stride: stride, padding: padding)
    }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        try convChecks(label, s, stride: stride, padding: padding)
        let (x, dy) = (s[0], s[1])
        guard kh >= 1, kw >= 1, x[2] + 2 * padding >= kh, x[3] + 2 * padding >= kw else {
            throw shapeError(label, s, "the \(kh)×\(kw) filter does not fit in the padded image")
        }
        let g = geometry(x)
        guard x[0] == dy[0], dy[2] == g.oh, dy[3] == g.ow else {
            throw shapeError(label, s, "the gradient must be [\(x[0]), Co, \(g.oh), \(g.ow)]")
        }
        return [dy[1], x[1], kh, kw]
    }

    public func scratch(_ node: Node) -> Int {
        let x = node.inputs[0].shape
        return geometry(x).scratch(images: x[0], channels: node.inputs[1].shape[1])
    }

    /// Per group of images: their columns side by side and their gradients as one
    /// [Co, group·cols] matrix, one product summing over every position of every image.
    public func run(_ k: Kernel) {
        let x = k.node.inputs[0].shape, co = k.node.inputs[1].shape[1]
        let g = geometry(x), group = g.group(x[0])
        if x[0] == 0 { k.output.update(repeating: 0, count: k.node.count); return }
        let col = k.scratch!, wide = col + g.rows * group * g.cols
        for first in Swift.stride(from: 0, to: x[0], by: group) {
            let n = min(group, x[0] - first), grad = k.input(1) + first * co * g.cols
            g.im2col(k.input(0) + first * g.imageCount, count: n, col)
            if n > 1 { swapLeadingAxes(grad, wide, n, co, inner: g.cols) }
            BLAS.product(transA: false, transB: true, m: co, n: g.rows, k: n * g.cols, beta: first == 0 ? 0 : 1,
                         a: n == 1 ? grad : UnsafePointer(wide), lda: n * g.cols, b: col, ldb: n * g.cols,
                         c: k.output, ldc: g.rows)
        }
    }

    /// Bilinear in (image, grad): d image = conv_transpose2d(grad, U), d grad = conv2d(image, U).
    public func gradient(_ node: Node, _ upstream: Node) throws -> [Node?] {
        let x = node.inputs[0].shape
        let extraH = (x[2] + 2 * padding - kh) % stride, extraW = (x[3] + 2 * padding - kw) % stride
        let dImage = try Graph.build(ConvTranspose2D(stride: stride, padding: padding, extraH: extraH, extraW: extraW),
                                 [node.inputs[1], upstream])
        let dGrad = try Graph.build(Conv2D(stride: stride, padding: padding), [node.inputs[0], upstream])
        return [dImage, dGrad]
    }
}

extension Tensor {
    /// 2-D convolution (cross-correlation, as in PyTorch): self [N, C, H, W], filters [O, C, kh, kw].
    public func conv2d(_ filters: Tensor, stride: Int = 1, padding: Int = 0) throws -> Tensor {
        try .make(Conv2D(stride: stride, padding: padding), [self, filters])
    }

    /// Transposed convolution: self [N, C, H, W], filters [C, O, kh, kw] →
    /// [N, O, (H − 1)·stride − 2·padding + kh + outputPadding, …].
    public func convTranspose2d(_ filters: Tensor, stride: Int = 1, padding: Int = 0,
                                outputPadding: Int = 0) throws -> Tensor {
        try .make(ConvTranspose2D(stride: stride, padding: padding, extraH: outputPadding, extraW: outputPadding),
                  [self, filters])
    }
}
