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
            // A data set with splits (train/, test/) holds one image folder in each.
            let splits = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().filter {
                FileManager.default.fileExists(atPath: root.appendingPathComponent($0).appendingPathComponent(metadataFile).path)
            }
            let hint = splits.isEmpty ? "" : "; its splits are image folders: " + splits.map { "'\((folder as NSString).appendingPathComponent($0))'" }.joined(separator: ", ")
            throw TensorGraphError("\(folder) has no \(metadataFile) (one line per image: {\"file_name\": \"cat.png\", \"text\": \"a cat\"})" + hint)
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
            let fields = object.keys.filter { !["file_name", "text", "edited_file_name"].contains($0) }.sorted()
                .map { MetadataField($0, MetadataValue(json: object[$0]!)) }
            return ImageTextDataset.Pair(pixels: try read(file, field: "file_name"), caption: caption, source: file, edited: edited, fields: fields)
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
    /// `metadata.jsonl` (each item's text and metadata fields); an edit triple's edited image
    /// goes beside it as `0000-edited.png`. `encode` turns side × side × 3 values in [0, 1]
    /// into a PNG file. The folder is made if missing; every error names the file.
    public static func write(_ examples: [Example], side: Int, to folder: String,
                             encode: ([Float], Int) -> Data) throws {
        let root = URL(fileURLWithPath: folder, isDirectory: true)
        do { try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) } catch {
            throw TensorGraphError("cannot make the folder \(folder): \(message(error))")
        }
        var metadata = ""
        let digits = max(4, String(examples.count - 1).count)
        for (i, example) in examples.enumerated() {
            let item = example.item
            var fields: [String: Any] = ["text": item.text]
            for field in example.fields where !["file_name", "text", "edited_file_name"].contains(field.name) {
                fields[field.name] = field.value.json
            }
            let stem = String(repeating: "0", count: max(0, digits - String(i).count)) + String(i)
            func store(_ pixels: [Float], _ file: String, _ key: String) throws {
                let url = root.appendingPathComponent(file)
                do { try encode(pixels, side).write(to: url, options: .atomic) } catch {
                    throw TensorGraphError("cannot write \(url.path): \(message(error))")
                }
                fields[key] = file
            }
            switch item {
            case .pair(let pixels, _): try store(pixels, stem + ".png", "file_name")
            case .edit(let source, _, let target):
                try store(source, stem + ".png", "file_name")
                try store(target, stem + "-edited.png", "edited_file_name")
            case .text: throw TensorGraphError("a text item has no image; save texts to a .txt or .jsonl file")
            case .document: throw TensorGraphError("an image folder holds captioned images or edit triples, not interleaved documents")
            }
            metadata += String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self) + "\n"
        }
        let url = root.appendingPathComponent(metadataFile)
        do { try Data(metadata.utf8).write(to: url, options: .atomic) } catch {
            throw TensorGraphError("cannot write \(url.path): \(message(error))")
        }
    }
}
