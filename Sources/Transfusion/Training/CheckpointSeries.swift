import Foundation
import TensorGraph

/// The checkpoints of one run, named from its `checkpoint=` path `runs/x.safetensors`:
///
/// - `runs/x.safetensors`, written when the run ends or is stopped (Ctrl-C, SIGTERM);
/// - `runs/x.step-00000500.safetensors`, written every N steps or M minutes while it runs, of
///   which the newest `keep` stay (older ones are deleted after each new one is written).
///
/// Every file is a complete training checkpoint, written atomically; the newest of them (by the
/// step in its metadata) is where `resume="latest"` continues.
public struct CheckpointSeries: Sendable {
    public let path: String
    public let keep: Int

    public init(path: String, keep: Int = 3) { self.path = path; self.keep = keep }

    /// The folder as the path gives it ("" for a bare name: paths stay as relative as the user's).
    var directory: String { (path as NSString).deletingLastPathComponent }
    var folder: String { directory.isEmpty ? "." : directory }
    /// `x` of `x.safetensors` (the whole name when it has another extension).
    var stem: String {
        let name = (path as NSString).lastPathComponent
        return name.hasSuffix(".safetensors") ? String(name.dropLast(".safetensors".count)) : name
    }
    /// A file next to the run's checkpoint.
    func sibling(_ name: String) -> String { directory.isEmpty ? name : "\(directory)/\(name)" }

    /// Where the periodic checkpoint after `step` steps goes.
    public func periodicPath(step: Int) -> String {
        sibling("\(stem).step-\(String(format: "%08d", step)).safetensors")
    }

    /// The periodic checkpoints on disk, oldest first.
    public func periodic() -> [(step: Int, path: String)] {
        let prefix = "\(stem).step-", suffix = ".safetensors"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { name -> (step: Int, path: String)? in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix),
                  let step = Int(name.dropFirst(prefix.count).dropLast(suffix.count)), step >= 0 else { return nil }
            return (step, sibling(name))
        }.sorted { $0.step < $1.step }
    }

    /// Writes a periodic checkpoint with `save`, then deletes all but the newest `keep`, and
    /// the temp files of periodic writes that a kill cut short (no later write has their name).
    public func savePeriodic(step: Int, _ save: (String) throws -> Void) throws -> String {
        let target = periodicPath(step: step)
        try save(target)
        for old in periodic().dropLast(keep) { try? FileManager.default.removeItem(atPath: old.path) }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let cut = Set(names.compactMap { name -> String? in
            guard name.hasPrefix(".\(stem).step-"), name.hasSuffix(".tmp"), let end = name.range(of: ".safetensors.") else { return nil }
            return String(name[name.index(after: name.startIndex)..<end.lowerBound]) + ".safetensors"
        })
        for name in cut { Safetensors.removeStaleTemporaries(of: sibling(name)) }
        return target
    }

    /// The newest checkpoint of the run (the final file or a periodic one), or nil if none is
    /// readable yet.
    public func latest() -> (path: String, step: Int)? {
        Self.newest([path] + periodic().map(\.path))
    }

    /// The newest training checkpoint among `paths` by the step in its header (files that are
    /// missing or not training checkpoints are passed over).
    public static func newest(_ paths: [String]) -> (path: String, step: Int)? {
        var best: (path: String, step: Int)?
        for path in paths {
            guard let metadata = try? Safetensors.readMetadata(path: path), metadata["format"] == "tfs-checkpoint-1",
                  let step = metadata["step"].flatMap(Int.init) else { continue }
            if best == nil || step > best!.step { best = (path, step) }
        }
        return best
    }

    /// The newest training checkpoint in a folder.
    public static func newest(inFolder folder: String) -> (path: String, step: Int)? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return newest(names.filter { $0.hasSuffix(".safetensors") }.sorted().map { "\(folder)/\($0)" })
    }
}
