/// AVX-512 (Skylake-AVX512 and later): sixteen lanes, one zmm register; fused multiply-adds.
extension FlashKernel {
    public typealias Vector = SIMD16<Float>
    public typealias Bits = SIMD16<UInt32>
    @inline(__always) static func multiplyAdd(_ c: Vector, _ a: Vector, _ b: Vector) -> Vector { c.addingProduct(a, b) }
    /// Whether products hold two blocks of 4 rows × 2 vectors in registers (16 accumulators: only
    /// AVX-512 has the 32 registers for them).
    static let doubleBlocks = true
}
