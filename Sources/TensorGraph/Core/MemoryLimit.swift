import Foundation

/// The one ceiling on the size of a single tensor or buffer: this machine's physical memory,
/// or less with `TFS_MEMORY_LIMIT` (bytes, or with a K, M, G or T suffix: `TFS_MEMORY_LIMIT=2G`).
/// Sizes derived from input (a broadcast, a prompt's length, a packing length) are checked
/// against it where shapes are built (`Graph.make`) and where the library sizes its own
/// buffers, so an impossible size is a clear error rather than an abort inside `malloc`.
public enum MemoryLimit {
    /// Bytes of physical memory.
    public static let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
    /// `TFS_MEMORY_LIMIT`, when it is set to less than the physical memory.
    public static let setting: Int? = ProcessInfo.processInfo.environment["TFS_MEMORY_LIMIT"].flatMap(parseBytes).flatMap { $0 < physical ? $0 : nil }
    /// The ceiling in bytes.
    public static var bytes: Int { setting ?? physical }

    /// "2G" → 2³¹, "512M", "4096" (bytes); nil for anything else.
    static func parseBytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = text.trimmingCharacters(in: .whitespaces).uppercased(), unit = 1
        if let last = digits.last, let u = units[last] { unit = u; digits.removeLast() }
        guard let n = Int(digits), n > 0 else { return nil }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: unit)
        return overflow ? nil : bytes
    }

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
        let ceiling = setting.map { "the \(describe(Double($0))) TFS_MEMORY_LIMIT allows" } ?? "this machine's \(describe(Double(bytes))) of memory"
        throw TensorGraphError("\(what()) needs \(size), more than \(ceiling)")
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
