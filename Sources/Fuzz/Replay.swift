import Foundation

/// Runs saved inputs through a target: every file once (the files under a folder, sorted, so
/// runs repeat). A crash ends the process, so a test replaying the corpus sees it as a signal.
enum Replay {
    static func run(_ target: FuzzTarget, paths: [String]) -> Int32 {
        var count = 0
        for path in paths {
            for file in files(path) {
                guard let bytes = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("tfs-fuzz: cannot read \(file)\n".utf8))
                    return 1
                }
                target.run(bytes)
                count += 1
            }
        }
        print("\(target.rawValue): \(count) inputs ran")
        return 0
    }

    static func files(_ path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.flatMap { files((path as NSString).appendingPathComponent($0)) }
    }
}
