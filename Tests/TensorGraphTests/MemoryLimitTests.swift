import Testing
@testable import TensorGraph

/// The one ceiling on a tensor's size (issue 20, F12): element counts are overflow-checked and
/// an op whose output would not fit in physical memory is refused where the graph is built.
@Suite struct MemoryLimitTests {
    /// TFS_MEMORY_LIMIT's values: bytes, or K, M, G, T (binary) suffixes; nothing else.
    @Test func memoryLimitSettingsParse() {
        #expect(MemoryLimit.parseBytes("4096") == 4096)
        #expect(MemoryLimit.parseBytes("512M") == 512 << 20)
        #expect(MemoryLimit.parseBytes("2g") == 2 << 30)
        #expect(MemoryLimit.parseBytes(" 1T ") == 1 << 40)
        for bad in ["", "G", "-1G", "0", "1.5G", "2GB", "99999999999T"] { #expect(MemoryLimit.parseBytes(bad) == nil, "\(bad)") }
    }

    @Test func countsAreOverflowChecked() {
        #expect(MemoryLimit.count([2, 3, 4]) == 24)
        #expect(MemoryLimit.count([]) == 1)
        #expect(MemoryLimit.count([5, 0]) == 0)
        #expect(MemoryLimit.count([1 << 32, 1 << 32]) == nil)
        #expect(MemoryLimit.count([1 << 32, 1 << 32, 0]) == nil)   // overflows before the 0
        #expect(MemoryLimit.count([3, -1]) == nil)
    }

    /// A broadcast to 2⁴⁰ values (4 TB, more than any machine this runs on) is refused when
    /// the node is made, with its shape and size; nothing is allocated.
    @Test func anOpTooLargeForMemoryIsRefusedWhenBuilt() throws {
        let a = Tensor.full([1 << 20, 1], 1), b = Tensor.full([1, 1 << 20], 1)
        do {
            _ = try a + b
            Issue.record("a 4 TB broadcast was accepted")
        } catch let e as TensorGraphError {
            #expect(e.message.hasPrefix("a tensor of shape [1048576, 1048576] needs 4.0 TB, more than this machine's "), "\(e.message)")
        }
        // Within the limit, the same ops still build.
        #expect(try (Tensor.full([1000, 1], 1) + Tensor.full([1, 1000], 1)).shape == [1000, 1000])
    }

    /// Each tensor may fit while a plan's values together do not: the plan is refused before
    /// it allocates anything (each value here is half the ceiling; three are alive at once).
    @Test func aPlanTooLargeForMemoryIsRefusedBeforeAllocating() throws {
        let half = MemoryLimit.bytes / 4 / 2
        let x = Tensor.full([half], 1), y = try x + 1
        do {
            _ = try Plan([y.node, try (y * 2).node])
            Issue.record("a plan of 1.5× the memory ceiling was accepted")
        } catch let e as TensorGraphError {
            #expect(e.message.hasPrefix("a plan of 2 kernels (its intermediate values at their peak) needs "), "\(e.message)")
        }
    }

    @Test func messagesGiveTheSizeInReadableUnits() throws {
        #expect(throws: TensorGraphError.self) { try MemoryLimit.check(values: nil, "x") }
        do { try MemoryLimit.check(values: nil, "x") } catch let e as TensorGraphError {
            #expect(e.message.hasPrefix("x needs more bytes than a 64-bit integer counts, more than this machine's "))
        }
        #expect(MemoryLimit.describe(512) == "512 bytes")
        #expect(MemoryLimit.describe(1.5 * 1024 * 1024) == "1.5 MB")
        #expect(MemoryLimit.describe(40e9) == "37 GB")
    }
}
