import Foundation
import TensorGraph

/// A Hugging Face style image folder: `metadata.jsonl` holds one line per image,
/// `{"file_name": "cat.png", "text": "a cat"}`, with the files beside it. A line that also
/// names an `edited_file_name` is an edit triple: the image, the instruction in `text`, and
/// the edited image.
///
/// Every file named must be inside the folder (no absolute paths, no `..` or symbolic links
/// leading out of it). Images must be square. One of side `size` is used as it is; one whose side is an integer
/// multiple of `size` is shrunk by averaging each block of pixels; any other size is an error.
public enum ImageFolder {
    /// Reads an image file: its width, height and RGB values in [0, 1] (channels last).
    public typealias Decoder = (URL) throws -> (width: Int, height: Int, rgb: [Float])

    public static let metadataFile = "metadata.jsonl"

    public static func load(_ folder: String, size: Int, decode: Decoder) throws -> ImageTextDataset {
        let root = URL(fileURLWithPath: folder, isDirectory: true)
        let metadata = root.appendingPathComponent(metadataFile).path
        guard FileManager.default.fileExists(atPath: metadata) else {
            throw TensorGraphError("\(folder) has no \(metadataFile) (one line per image: {\"file_name\": \"cat.png\", \"text\": \"a cat\"})")
        }
        let pairs = try DataFiles.jsonLines(metadata).map { line, object in
            let place = "\(metadata):\(line)"
            let file = try DataFiles.string(object, "file_name", path: metadata, line: line)
            let caption = try DataFiles.string(object, "text", path: metadata, line: line)
            func read(_ file: String, field: String) throws -> [Float] {
                let url = try DataFiles.file(file, inside: root, field: field, place: place)
                let image: (width: Int, height: Int, rgb: [Float])
                do { image = try decode(url) } catch { throw TensorGraphError("\(place): \(file): \(message(error))") }
                return try fit(image, size: size, file: "\(place): \(file)")
            }
            let edited = try (object["edited_file_name"] != nil ? DataFiles.string(object, "edited_file_name", path: metadata, line: line) : nil)
                .map { try read($0, field: "edited_file_name") }
            return ImageTextDataset.Pair(pixels: try read(file, field: "file_name"), caption: caption, source: file, edited: edited)
        }
        return try ImageTextDataset(side: size, pairs: pairs, name: "images('\(folder)')")
    }

    /// The image at side `size`: as it is, or box-averaged down by an integer factor.
    static func fit(_ image: (width: Int, height: Int, rgb: [Float]), size: Int, file: String) throws -> [Float] {
        guard image.width == image.height else {
            throw TensorGraphError("\(file) is \(image.width)×\(image.height); images must be square")
        }
        guard image.width % size == 0 else {
            throw TensorGraphError("\(file) is \(image.width)×\(image.height); images must be \(size)×\(size) or a multiple of it (averaged down)")
        }
        return image.width == size ? image.rgb : BoxDownsample.rgb(image.rgb, side: image.width, to: size)
    }

    static func message(_ error: Error) -> String {
        (error as? TensorGraphError)?.message ?? (error as? LocalizedError)?.errorDescription ?? "\(error)"
    }
}

extension ImageFolder {
    /// Writes dataset items as an image folder that `load` (and Hugging Face's
    /// `load_dataset("imagefolder", ...)`) reads back: `0000.png`, `0001.png`, … and
    /// `metadata.jsonl`; an edit triple's edited image goes beside it as `0000-edited.png`.
    /// `encode` turns side × side × 3 values in [0, 1] into a PNG file.
    public static func write(_ items: [DatasetItem], side: Int, to folder: String,
                             encode: ([Float], Int) -> Data) throws {
        let root = URL(fileURLWithPath: folder, isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var metadata = ""
        for (i, item) in items.enumerated() {
            var fields = ["text": item.text]
            func store(_ pixels: [Float], _ file: String, _ key: String) throws {
                try encode(pixels, side).write(to: root.appendingPathComponent(file), options: .atomic)
                fields[key] = file
            }
            switch item {
            case .pair(let pixels, _): try store(pixels, String(format: "%04d.png", i), "file_name")
            case .edit(let source, _, let target):
                try store(source, String(format: "%04d.png", i), "file_name")
                try store(target, String(format: "%04d-edited.png", i), "edited_file_name")
            case .text: throw TensorGraphError("a text item has no image; save texts to a .txt or .jsonl file")
            case .document: throw TensorGraphError("an image folder holds captioned images or edit triples, not interleaved documents")
            }
            metadata += try DataFiles.jsonLine(fields) + "\n"
        }
        try Data(metadata.utf8).write(to: root.appendingPathComponent(metadataFile), options: .atomic)
    }
}
