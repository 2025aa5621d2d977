import Foundation
import Testing

/// `TFS_SIMD` forces attention's SIMD level (read once at start), and `tfs --version` says which
/// level runs and why; a value that is not a level is named and ignored.
@Suite struct SIMDLevelTests {
    @Test func tfsSimdForcesTheLevelAndVersionNamesIt() throws {
        let forced = try Tool.tfs(["--version"], environment: ["TFS_SIMD": "baseline"])
        #expect(forced.status == 0)
        #expect(forced.stdout.contains("SIMD level baseline for attention (TFS_SIMD=baseline)"), "\(forced.stdout)")
        let automatic = try Tool.tfs(["--version"], environment: ["TFS_SIMD": "auto"])
        #expect(automatic.stdout.contains("for attention (from the CPU flags)"), "\(automatic.stdout)")
        let wrong = try Tool.tfs(["--version"], environment: ["TFS_SIMD": "sse9"])
        #expect(wrong.status == 0)
        #expect(wrong.stderr.contains("TFS_SIMD=sse9 is not baseline, avx2, avx512 or auto"), "\(wrong.stderr)")
        #expect(wrong.stdout.contains("TFS_SIMD=sse9 is not a level"), "\(wrong.stdout)")
    }
}
