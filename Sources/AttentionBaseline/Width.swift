/// Baseline x86-64 (SSE, no FMA): eight lanes (two SSE registers each) and unfused
/// multiply-adds — a fused one would be a libm call per lane without FMA instructions.
extension FlashKernel {
    public typealias Vector = SIMD8<Float>
    public typealias Bits = SIMD8<UInt32>
    @inline(__always) static func multiplyAdd(_ c: Vector, _ a: Vector, _ b: Vector) -> Vector { c + a * b }
    /// Whether products hold two blocks of 4 rows × 2 vectors in registers (16 accumulators: only
    /// AVX-512 has the 32 registers for them).
    static let doubleBlocks = false
}
