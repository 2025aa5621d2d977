import Foundation
import TensorGraph

/// Reading the files datasets come from: UTF-8 text, and JSON Lines (one JSON object per
/// line) with each object's line number, so a bad line is reported where it is.
enum DataFiles {
    static func text(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw TensorGraphError("\(path): no such file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw TensorGraphError("\(path): cannot be read") }
        guard let text = String(data: data, encoding: .utf8) else { throw TensorGraphError("\(path): not UTF-8 text") }
        return text
    }

    /// The lines of a text file, numbered from 1, without their line ends ("\n" or "\r\n",
    /// which Swift reads as one character).
    static func lines(_ text: String) -> [(number: Int, text: Substring)] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .enumerated().map { ($0 + 1, $1) }
    }

    /// The objects of a JSON Lines file; blank lines are skipped, anything else must be an object.
    static func jsonLines(_ path: String) throws -> [(line: Int, object: [String: Any])] {
        try lines(text(path)).compactMap { number, line in
            guard !line.allSatisfy(\.isWhitespace) else { return nil }
            guard let value = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) else {
                throw TensorGraphError("\(path):\(number): not valid JSON")
            }
            guard let object = value as? [String: Any] else {
                throw TensorGraphError("\(path):\(number): expected a JSON object ({...}) per line")
            }
            return (number, object)
        }
    }

    /// The file a data file names (`file_name` in a `metadata.jsonl`), which must stay inside
    /// `root`: a relative path that neither `..` nor a symbolic link leads out of. `place` is
    /// the naming line (`path:line`), for messages.
    static func file(_ name: String, inside root: URL, field: String, place: String) throws -> URL {
        guard !name.hasPrefix("/") else {
            throw TensorGraphError("\(place): \"\(field)\" is an absolute path ('\(name)'); it must name a file inside \(root.path)")
        }
        guard !name.utf8.contains(0) else { throw TensorGraphError("\(place): \"\(field)\" contains a NUL byte") }
        guard let base = realPath(root.path), let resolved = realPath(root.appendingPathComponent(name).path) else {
            throw TensorGraphError("\(place): no file \(name) in \(root.path)")
        }
        guard resolved.hasPrefix(base.hasSuffix("/") ? base : base + "/") else {
            throw TensorGraphError("\(place): \"\(field)\" '\(name)' leads outside \(root.path) (to \(resolved))")
        }
        return URL(fileURLWithPath: resolved)
    }

    /// The absolute path with every symbolic link, `.` and `..` resolved; nil if it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// A string field of a JSON Lines object, or an error naming the file, line and field.
    static func string(_ object: [String: Any], _ key: String, path: String, line: Int) throws -> String {
        guard let field = object[key] else { throw TensorGraphError("\(path):\(line): no \"\(key)\" field") }
        guard let s = field as? String else { throw TensorGraphError("\(path):\(line): \"\(key)\" must be a string") }
        return s
    }
}

extension DataFiles {
    /// One JSON Lines line: the fields of an object, keys sorted, no line breaks.
    static func jsonLine(_ fields: [String: String]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }
}
