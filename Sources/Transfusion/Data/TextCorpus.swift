import Foundation
import TensorGraph

/// Text alone, as documents: each draw is one document (or, once `fitted` to a sequence
/// length, one chunk of a long document), trained with the LM loss only.
public struct TextCorpus: IndexedDataset {
    public struct Document: Equatable, Sendable {
        public var text: String
        /// Where it came from (`file:line`), for messages.
        public var source: String
        public init(text: String, source: String) { self.text = text; self.source = source }
    }

    public let documents: [Document]
    public let name: String

    public init(documents: [Document], name: String = "text") throws {
        guard !documents.isEmpty else { throw TensorGraphError("\(name) holds no text") }
        self.documents = documents; self.name = name
    }

    public var imageSide: Int? { nil }
    public var imagesPerItem: Int { 0 }
    public var count: Int? { documents.count }
    public var description: String {
        "\(name): \(documents.count) documents, \(documents.reduce(0) { $0 + $1.text.utf8.count }) bytes"
    }

    public func draw(_ rng: inout RNG) -> DatasetItem { .text(documents[rng.int(documents.count)].text) }

    public var length: Int { documents.count }
    public func example(_ i: Int) -> Example { Example(.text(documents[i].text)) }
    public func subset(_ indices: [Int]) throws -> any IndexedDataset { try TextCorpus(documents: indices.map { documents[$0] }, name: name) }

    /// Documents longer than a sequence (BOS and EOS take two positions) are cut into chunks.
    public func fitted(length: Int, patches: Int) throws -> any Dataset {
        let limit = length - 2
        guard limit >= 4 else { throw TensorGraphError("a sequence length of \(length) leaves no room for text (at least 6 positions)") }
        let chunks = documents.flatMap { doc in
            let pieces = Self.chunks(doc.text, maxBytes: limit)
            return pieces.enumerated().map { k, piece in
                Document(text: piece, source: pieces.count == 1 ? doc.source : "\(doc.source) (chunk \(k + 1))")
            }
        }
        return try TextCorpus(documents: chunks, name: name)
    }

    public func split(heldOut fraction: Double, seed: UInt64) throws -> (train: any Dataset, heldOut: any Dataset) {
        let n = try heldOutCount(documents.count, fraction: fraction), order = shuffledIndices(documents.count, seed: seed)
        func part(_ indices: ArraySlice<Int>, _ suffix: String) throws -> TextCorpus {
            try TextCorpus(documents: indices.sorted().map { documents[$0] }, name: "\(name) (\(suffix))")
        }
        return (try part(order.dropFirst(n), "train"), try part(order.prefix(n), "held out"))
    }

    /// `text` cut into pieces of at most `maxBytes` UTF-8 bytes, never inside a character;
    /// a cut goes after the last space or line end of the second half of a piece when there
    /// is one, so words stay whole.
    static func chunks(_ text: String, maxBytes: Int) -> [String] {
        let bytes = Array(text.utf8)
        var pieces: [String] = [], start = 0
        while start < bytes.count {
            var end = min(start + maxBytes, bytes.count)
            if end < bytes.count {
                while bytes[end] & 0xC0 == 0x80 { end -= 1 }   // a continuation byte: back to the character's start
                if let space = bytes[min(start + maxBytes / 2, end)..<end].lastIndex(where: { $0 == 0x20 || $0 == 0x0A }) { end = space + 1 }
            }
            pieces.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = end
        }
        return pieces
    }
}

extension TextCorpus {
    /// A `.txt` file (documents separated by blank lines) or a `.jsonl` file (a "text" field
    /// per line; bad lines are errors naming their line). Empty documents are skipped.
    public static func load(_ path: String) throws -> TextCorpus {
        let name = (path as NSString).lastPathComponent
        switch (path as NSString).pathExtension.lowercased() {
        case "txt": return try TextCorpus(documents: plainTextDocuments(DataFiles.text(path), path: path), name: name)
        case "jsonl":
            let documents = try DataFiles.jsonLines(path).map { line, object in
                Document(text: try DataFiles.string(object, "text", path: path, line: line), source: "\(path):\(line)")
            }
            return try TextCorpus(documents: documents.filter { !$0.text.allSatisfy(\.isWhitespace) }, name: name)
        default: throw TensorGraphError("\(path): a text corpus is a .txt or .jsonl file")
        }
    }

    /// Documents of a plain text: runs of non-blank lines; each keeps its line ends inside.
    static func plainTextDocuments(_ text: String, path: String) -> [Document] {
        var documents: [Document] = [], current: [Substring] = [], first = 0
        func flush() {
            if !current.isEmpty { documents.append(Document(text: current.joined(separator: "\n"), source: "\(path):\(first)")) }
            current = []
        }
        for (number, line) in DataFiles.lines(text) {
            if line.allSatisfy(\.isWhitespace) { flush(); continue }
            if current.isEmpty { first = number }
            current.append(line)
        }
        flush()
        return documents
    }
}

extension TextCorpus {
    /// Writes texts as a corpus `load` reads back: `.jsonl` (a "text" field per line, exact)
    /// or `.txt` (separated by blank lines, so a text holding a blank line comes back as two).
    public static func write(_ texts: [String], to path: String) throws {
        let body: String
        switch (path as NSString).pathExtension.lowercased() {
        case "jsonl": body = try texts.map { try DataFiles.jsonLine(["text": $0]) + "\n" }.joined()
        case "txt": body = texts.joined(separator: "\n\n") + "\n"
        default: throw TensorGraphError("\(path): a text corpus is written as .txt or .jsonl")
        }
        try Data(body.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
