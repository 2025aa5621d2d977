import Foundation

/// The one ceiling on the size of a single tensor or buffer: this machine's physical memory.
/// Sizes derived from input (a broadcast, a prompt's length, a packing length) are checked
/// against it where shapes are built (`Graph.make`) and where the library sizes its own
/// buffers, so an impossible size is a clear error rather than an abort inside `malloc`.
public enum MemoryLimit {
    /// Bytes of physical memory.
    public static let bytes = Int(clamping: ProcessInfo.processInfo.physicalMemory)

    /// The product of `dims`, or nil if it overflows `Int` (or a dimension is negative).
    public static func count<C: Collection<Int>>(_ dims: C) -> Int? {
        var n = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }

    /// Throws unless `values` values of `bytesPerValue` bytes each fit in memory; `what`
    /// names the thing ("tensor of shape [100000, 100000]").
    public static func check(values: Int?, bytesPerValue: Int = 4, _ what: @autoclosure () -> String) throws {
        if let values, values >= 0, values <= bytes / bytesPerValue { return }
        let size = values.map { describe(Double($0) * Double(bytesPerValue)) } ?? "more bytes than a 64-bit integer counts"
        throw TensorGraphError("\(what()) needs \(size), more than this machine's \(describe(Double(bytes))) of memory")
    }

    /// `check(values:)` for the values of a shape.
    public static func check(shape: [Int], bytesPerValue: Int = 4, _ what: @autoclosure () -> String) throws {
        try check(values: count(shape), bytesPerValue: bytesPerValue, what())
    }

    /// "40.0 GB", "512 MB".
    static func describe(_ bytes: Double) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
        var v = bytes, i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(Int(v)) bytes" : String(format: v < 10 ? "%.1f" : "%.0f", v) + " " + units[i]
    }
}
