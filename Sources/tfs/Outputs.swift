#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Script
import Visual

/// ANSI styling, on only for a terminal (and never with NO_COLOR set).
struct Style {
    var color: Bool

    static func forStream(_ fd: Int32) -> Style {
        let env = ProcessInfo.processInfo.environment
        let dumb = env["TERM"] == "dumb"
        return Style(color: isatty(fd) == 1 && env["NO_COLOR"] == nil && !dumb)
    }

    func wrap(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    func red(_ s: String) -> String { wrap(s, "31") }
    func green(_ s: String) -> String { wrap(s, "32") }
    func bold(_ s: String) -> String { wrap(s, "1") }
    func dim(_ s: String) -> String { wrap(s, "2") }
    func cyan(_ s: String) -> String { wrap(s, "36") }
}

/// Writes images a cell produced to files, named after the script (or `out`) and the cell:
/// `shapes-3-1.png` is the first image of cell 3 of `shapes.tfs`.
final class ImageSaver {
    let directory: URL
    let stem: String
    private var used = Set<String>()
    /// Drawings are written as PNG (rasterised by librsvg) instead of SVG.
    var drawingsAsPNG = false

    init(directory: URL, stem: String) { self.directory = directory; self.stem = stem }

    /// Saves `data` and returns the path written (relative to the working directory when
    /// inside it), or an error message.
    func save(_ data: Data, cell: String, index: Int, ext: String) -> Result<String, Error> {
        save(data, name: "\(stem)-\(cell)-\(index).\(ext)")
    }

    /// Saves `data` as `name` in the directory (suffixed `-2`, `-3`, … if already used by this saver).
    func save(_ data: Data, name: String) -> Result<String, Error> {
        var name = name
        let base = (name as NSString).deletingPathExtension, ext = (name as NSString).pathExtension
        var n = 2
        while used.contains(name) { name = "\(base)-\(n).\(ext)"; n += 1 }
        used.insert(name)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let url = directory.appendingPathComponent(name)
            try data.write(to: url)
            return .success(displayPath(url.path))
        } catch {
            return .failure(error)
        }
    }
}

/// `path` relative to the working directory when it lies inside it.
func displayPath(_ path: String) -> String {
    let cwd = FileManager.default.currentDirectoryPath
    let standardized = (path as NSString).standardizingPath
    if standardized.hasPrefix(cwd + "/") { return String(standardized.dropFirst(cwd.count + 1)) }
    return standardized
}

/// How an output reads in a terminal; images are saved through `saver` and shown as their path.
func terminalText(_ output: Output, style: Style, saver: ImageSaver?, cell: String, index: inout Int) -> String {
    func saved(_ data: Data, _ ext: String, _ caption: String?) -> String {
        index += 1
        let label = ext.uppercased() + (caption.map { " \($0)" } ?? "")
        guard let saver else { return style.dim("[\(label)]") + "\n" }
        switch saver.save(data, cell: cell, index: index, ext: ext) {
        case .success(let path): return style.cyan("[\(label)] \(path)") + "\n"
        case .failure(let error): return style.red("[\(label)] could not be saved: \(error.localizedDescription)") + "\n"
        }
    }
    switch output {
    case .text(let text):
        return text.isEmpty || text.hasSuffix("\n") ? text : text + "\n"
    case .table(let headers, let rows):
        return NotebookText.table(headers: headers, rows: rows) + "\n"
    case .png(let data, let caption):
        return saved(data, "png", caption)
    case .svg(let svg, let caption):
        guard saver?.drawingsAsPNG == true else { return saved(Data(svg.utf8), "svg", caption) }
        do { return saved(try SVGRaster.png(svg, scale: 2), "png", caption) } catch {
            return style.red("[SVG\(caption.map { " " + $0 } ?? "")] could not be rasterised: \(error)") + "\n"
        }
    case .error(let message):
        return message + (message.hasSuffix("\n") ? "" : "\n")   // the session colours it
    }
}
