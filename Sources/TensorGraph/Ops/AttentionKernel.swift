import AttentionAVX2
import AttentionAVX512
import AttentionBaseline

/// Which implementation the attention ops run.
///
/// - `blas`: blocks of 32 query rows against all keys, each run of non-empty tiles one sgemm
///   (scores, P·v, and in the backward dP, dv, dk, dq), the softmax rows in between.
/// - `flash(level)`: FlashAttention-2's loop order in tfs's own SIMD kernel (`FlashKernel`, in
///   the module of that `SIMDLevel`): per query block, online softmax over the key tiles, the
///   products in register blocks, no sgemm. It takes head sizes that are a multiple of two
///   vectors (16 floats for baseline and AVX2, 32 for AVX-512).
/// - `automatic`: flash at `SIMDLevel.chosen` where it is the faster of the two, else blas:
///   at AVX-512 every head size it takes, at AVX2 head sizes up to 64, never at baseline (see
///   `automatic(level:headSize:)`).
public enum AttentionKernel: Hashable, Sendable, CustomStringConvertible {
    case automatic, blas
    case flash(SIMDLevel)

    /// What runs for head size `d`: `blas`, or `flash` at a level this CPU runs and that takes d.
    public func resolved(headSize d: Int) -> AttentionKernel {
        switch self {
        case .blas: return .blas
        case .automatic: return Self.automatic(level: SIMDLevel.chosen, headSize: d)
        case .flash(let wanted):
            let level = Swift.min(wanted, SIMDLevel.supported)
            return level.kernels.supports(headSize: d) ? .flash(level) : .blas
        }
    }

    /// The faster kernel at each level, as `tfs bench --attention` measured it on an AVX-512 CPU
    /// (docs/performance.md): flash at AVX-512 is faster than the BLAS kernel on OpenBLAS's
    /// AVX-512 sgemm at head sizes 32 and 64 and level at 128; flash at AVX2 is faster than the
    /// BLAS kernel on OpenBLAS's Haswell (AVX2) sgemm at 32 and 64 but slower at 128; flash at
    /// baseline (SSE, no FMA) is 2–5× slower than the BLAS kernel at every size.
    static func automatic(level: SIMDLevel, headSize d: Int) -> AttentionKernel {
        switch level {
        case .avx512: return AttentionKernel.flash(.avx512).resolved(headSize: d)
        case .avx2: return d <= 64 ? AttentionKernel.flash(.avx2).resolved(headSize: d) : .blas
        case .baseline: return .blas
        }
    }

    public var description: String {
        switch self {
        case .automatic: "automatic"
        case .blas: "blas"
        case .flash(let level): "flash \(level.rawValue)"
        }
    }
}

/// What TensorGraph calls in each SIMD level's module: the same source (`FlashKernel.swift`)
/// compiled for a different CPU, so the three conform alike.
protocol FlashKernelSet {
    associatedtype Problem: FlashRowProblem
    static func supports(headSize: Int) -> Bool
    static func forwardScratch(rows: Int, s: Int, d: Int, keyTile: Int) -> Int
    static func backwardScratch(rows: Int, s: Int, d: Int, keyTile: Int) -> Int
    static func forward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                        mask: UnsafePointer<Float>, classes: UnsafePointer<UInt8>, out: UnsafeMutablePointer<Float>,
                        t: Int, s: Int, d: Int, stride: Int, blockRows: Int, keyTile: Int, scale: Float,
                        scratch: UnsafeMutablePointer<Float>) -> Problem?
    static func backward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                         dout: UnsafePointer<Float>, mask: UnsafePointer<Float>, classes: UnsafePointer<UInt8>,
                         dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                         t: Int, s: Int, d: Int, stride: Int, blockRows: Int, keyTile: Int, scale: Float,
                         scratch: UnsafeMutablePointer<Float>)
}

protocol FlashRowProblem {
    var row: Int { get }
    var noKey: Bool { get }
}

extension AttentionBaseline.FlashKernel: FlashKernelSet {}
extension AttentionBaseline.FlashKernel.Problem: FlashRowProblem {}
extension AttentionAVX2.FlashKernel: FlashKernelSet {}
extension AttentionAVX2.FlashKernel.Problem: FlashRowProblem {}
extension AttentionAVX512.FlashKernel: FlashKernelSet {}
extension AttentionAVX512.FlashKernel.Problem: FlashRowProblem {}

extension SIMDLevel {
    /// This level's flash kernels.
    var kernels: any FlashKernelSet.Type {
        switch self {
        case .baseline: AttentionBaseline.FlashKernel.self
        case .avx2: AttentionAVX2.FlashKernel.self
        case .avx512: AttentionAVX512.FlashKernel.self
        }
    }
}

extension AttentionTiles.RowProblem {
    init(_ problem: any FlashRowProblem) {
        self = problem.noKey ? .noKey(row: problem.row) : .nonFinite(row: problem.row)
    }
}

extension UnsafePointer<BlockMask.Tile> {
    /// The tile classes as the flash kernels read them (BlockMask.Tile's raw bytes).
    var rawClasses: UnsafePointer<UInt8> { UnsafeRawPointer(self).assumingMemoryBound(to: UInt8.self) }
}
