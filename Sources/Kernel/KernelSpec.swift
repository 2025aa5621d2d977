import Foundation

/// The kernel spec Jupyter finds kernels by: `kernels/tfs/kernel.json` under a Jupyter data
/// directory, naming the command that starts the kernel (`tfs kernel -f {connection_file}`).
public enum KernelSpec {
    /// Where `tfs kernel install` writes: the user's Jupyter data directory, or `PREFIX/share/jupyter`.
    public static func directory(prefix: String?, name: String = "tfs") -> URL {
        let base: URL
        if let prefix {
            base = URL(fileURLWithPath: prefix).appendingPathComponent("share/jupyter")
        } else if let data = ProcessInfo.processInfo.environment["JUPYTER_DATA_DIR"], !data.isEmpty {
            base = URL(fileURLWithPath: data)
        } else {
            let home = URL(fileURLWithPath: NSHomeDirectory())
            #if os(macOS)
            base = home.appendingPathComponent("Library/Jupyter")
            #else
            let xdg = ProcessInfo.processInfo.environment["XDG_DATA_HOME"].map { URL(fileURLWithPath: $0) }
            base = (xdg ?? home.appendingPathComponent(".local/share")).appendingPathComponent("jupyter")
            #endif
        }
        return base.appendingPathComponent("kernels").appendingPathComponent(name)
    }

    /// The `kernel.json` object for the tfs binary at `executable`.
    public static func json(executable: String, displayName: String = "tfs") -> [String: Any] {
        [
            "argv": [executable, "kernel", "-f", "{connection_file}"],
            "display_name": displayName,
            "language": "tfs",
            "interrupt_mode": "signal",
            "metadata": ["debugger": false],
        ]
    }

    /// Writes the spec; returns the directory written.
    @discardableResult
    public static func install(executable: String, prefix: String?, name: String = "tfs") throws -> URL {
        let dir = directory(prefix: prefix, name: name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let data = try JSONSerialization.data(withJSONObject: json(executable: executable),
                                              options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try (data + Data("\n".utf8)).write(to: dir.appendingPathComponent("kernel.json"))
        return dir
    }
}
