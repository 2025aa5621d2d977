import Foundation
import Script
import TensorGraph
import Transfusion
import Visual

/// Where `save(path)` of images, examples and datasets writes, by the path: a folder (a path
/// ending in "/", an existing folder, or a name with no extension) gets a Hugging Face image
/// folder, a `.png` file one image at its own size (or, with grid=True, all of them as one
/// grid picture), a `.txt` or `.jsonl` file the texts as a corpus. Missing folders are made;
/// every error names the path.
enum ImageSaving {
    /// The help line the save methods share.
    static let help = "path ending in / (or an existing folder, or a name without extension): a Hugging Face image folder (PNG files and metadata.jsonl with file_name, text and the metadata fields; edits as triples with edited_file_name), what images() reads back; .png: one image at its own size (an edit's edited image; grid=True: all of them as one grid picture); .txt or .jsonl: the texts as a corpus (what text() reads). Missing folders are made."

    /// Writes `examples` by the path; `channels` 1 writes gray PNGs (the images' first values).
    static func save(_ examples: [Example], side: Int?, channels: Int, to path: String, grid: Bool) throws {
        let png = { (pixels: [Float], side: Int) in Self.png(pixels, side: side, channels: channels) }
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        let ext = (path as NSString).pathExtension.lowercased()
        if path.hasSuffix("/") || (exists && isFolder.boolValue) || ext.isEmpty {
            guard let side, examples.allSatisfy({ $0.item.pixels != nil && !isDocument($0.item) }) else {
                throw TensorGraphError("\(path): only captioned images or edit triples make an image folder; save texts to a .txt or .jsonl file")
            }
            guard !examples.isEmpty else { throw TensorGraphError("\(path): there are no images to save") }
            return try ImageFolder.write(examples, side: side, to: path, encode: png)
        }
        try makeParent(of: path)
        switch ext {
        case "txt", "jsonl": try written(path) { try TextCorpus.write(examples.map(\.item.text), to: path) }
        case "png":
            guard let side else { throw TensorGraphError("\(path): texts have no image; save them to a .txt or .jsonl file") }
            let images = examples.compactMap(\.item.pixels)
            guard !images.isEmpty else { throw TensorGraphError("\(path): there are no images to save") }
            if grid { return try written(path) { try ImageGrid.png(images, side: side).write(to: URL(fileURLWithPath: path), options: .atomic) } }
            guard examples.count == 1 else {
                throw TensorGraphError("\(path): \(examples.count) images make no single PNG; save(\"folder/\") writes each as a file of an image folder, save(\"\(path)\", grid=True) one grid picture")
            }
            try written(path) { try png(images[0], side).write(to: URL(fileURLWithPath: path), options: .atomic) }
        default:
            throw TensorGraphError("\(path): images are saved as .png files or image folders (a path ending in /), texts as .txt or .jsonl, not .\(ext)")
        }
    }

    /// One RGB image's pixels at its own size, 8 bits per value: gray (its first value of each
    /// pixel) when `channels` is 1.
    static func png(_ pixels: [Float], side: Int, channels: Int = 3) -> Data {
        let values = channels == 1 ? stride(from: 0, to: pixels.count, by: 3).map { pixels[$0] } : pixels
        return PNGEncoder.encode(width: side, height: side, channels: channels, samples: values.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) })
    }

    private static func isDocument(_ item: DatasetItem) -> Bool { if case .document = item { true } else { false } }

    private static func makeParent(of path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty else { return }
        do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
            throw TensorGraphError("cannot make the folder \(parent) for \(path): \(error.localizedDescription)")
        }
    }

    /// Runs a write, naming the path in its error.
    private static func written(_ path: String, _ write: () throws -> Void) throws {
        do { try write() } catch let error as TensorGraphError {
            throw error.message.contains(path) ? error : TensorGraphError("cannot write \(path): \(error.message)")
        } catch {
            throw TensorGraphError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// The `save(path, grid=False)` method of a type whose values hold examples.
    static func method<T>(_ m: Members<T>, example: String, _ examples: @escaping (T) throws -> (examples: [Example], side: Int?, channels: Int)) -> Builtin {
        m.method("save", "path, grid=False", "Writes them by the path: " + help + " Gray images are written as gray PNGs.", example: example) { value, a in
            let (items, side, channels) = try examples(value)
            let path = try a.path("path"), grid = try a.bool("grid")
            try RuntimeError.located { try save(items, side: side, channels: channels, to: path, grid: grid) }
            return .none
        }
    }
}
