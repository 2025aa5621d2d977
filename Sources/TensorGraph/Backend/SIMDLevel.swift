import Foundation

/// The vector instruction set tfs's own SIMD kernels run with. TensorGraph itself is compiled
/// for baseline x86-64 (SSE, no FMA), so kernels that want wider vectors live in modules
/// compiled once per level — AttentionBaseline, AttentionAVX2 (`-target-cpu haswell`) and
/// AttentionAVX512 (`-target-cpu skylake-avx512`), one source file in all three — and the level
/// is chosen at run time from the CPU's flags, the same flags the OpenBLAS core is chosen from.
public enum SIMDLevel: String, CaseIterable, Comparable, Hashable, Sendable {
    case baseline, avx2, avx512

    /// The best level this CPU runs.
    public static let supported = best(flags: BLAS.cpuFlags())

    /// The level in use: `TFS_SIMD` (baseline, avx2 or avx512) when set, capped at what the CPU
    /// runs; else `supported`. Read once.
    public static var chosen: SIMDLevel { choice.level }

    /// The level in use and how it was chosen, for `tfs --version`.
    public static var summary: String { "SIMD level \(choice.level.rawValue) for attention (\(choice.why))" }

    private static let choice: (level: SIMDLevel, why: String) = {
        guard let text = getenv("TFS_SIMD").map({ String(cString: $0).lowercased() }), !text.isEmpty, text != "auto" else {
            return (supported, "from the CPU flags")
        }
        guard let wanted = SIMDLevel(rawValue: text) else {
            FileHandle.standardError.write(Data("tfs: TFS_SIMD=\(text) is not baseline, avx2, avx512 or auto; using \(supported.rawValue)\n".utf8))
            return (supported, "from the CPU flags; TFS_SIMD=\(text) is not a level")
        }
        return wanted <= supported ? (wanted, "TFS_SIMD=\(text)") : (supported, "TFS_SIMD=\(text), but the CPU runs up to \(supported.rawValue)")
    }()

    /// Every level this CPU runs, lowest first (tests check each one).
    public static var available: [SIMDLevel] { allCases.filter { $0 <= supported } }

    public static func < (a: SIMDLevel, b: SIMDLevel) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The best level CPU flags (/proc/cpuinfo's) allow: AVX-512 needs the flags OpenBLAS's
    /// AVX-512 cores need, AVX2 what `-target-cpu haswell` assumes.
    static func best(flags: Set<String>) -> SIMDLevel {
        #if arch(x86_64)
        let avx2 = ["avx2", "fma", "bmi1", "bmi2", "f16c", "movbe"].allSatisfy(flags.contains)
        if avx2 && BLAS.avx512Flags.allSatisfy(flags.contains) { return .avx512 }
        if avx2 { return .avx2 }
        #endif
        return .baseline
    }
}
