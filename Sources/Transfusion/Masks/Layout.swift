import TensorGraph

/// What kind of token sits at a position of a mixed-modality sequence.
public enum TokenKind: String, Sendable, CaseIterable {
    case text, boi, patch, eoi, pad

    /// One letter for pictures and labels.
    public var letter: Character {
        switch self { case .text: "T"; case .boi: "B"; case .patch: "P"; case .eoi: "E"; case .pad: "_" }
    }
}

/// The layout of one sequence: per position, its kind, the image it belongs to (patches and the
/// BOI/EOI around them), and its document. Masks are evaluated against a layout.
///
/// The model places an image as BOI, its patches left-to-right and top-to-bottom, then EOI.
/// BOI and EOI are text-side tokens (attended causally); only patches are bidirectional.
public struct SequenceLayout: Hashable, Sendable, CustomStringConvertible {
    public struct Token: Hashable, Sendable {
        public var kind: TokenKind
        public var image: Int?      // index of the image (0, 1, …) for BOI, patches and EOI
        public var document: Int
    }
    public private(set) var tokens: [Token] = []
    /// The source text (for labels), when parsed.
    public private(set) var spec: String = ""

    public init() {}
    public var count: Int { tokens.count }
    public subscript(i: Int) -> Token { tokens[i] }
    public var imageCount: Int { (tokens.compactMap(\.image).max() ?? -1) + 1 }

    public mutating func appendText(_ n: Int, document: Int = 0) {
        tokens += Array(repeating: Token(kind: .text, image: nil, document: document), count: n)
    }
    public mutating func appendPadding(_ n: Int, document: Int = 0) {
        tokens += Array(repeating: Token(kind: .pad, image: nil, document: document), count: n)
    }
    /// One position of the given kind (generation appends as it goes).
    public mutating func append(_ kind: TokenKind, image: Int? = nil, document: Int = 0) {
        tokens.append(Token(kind: kind, image: image, document: document))
    }
    /// BOI, `patches` patch tokens, EOI.
    public mutating func appendImage(patches: Int, document: Int = 0) {
        let id = imageCount
        tokens.append(Token(kind: .boi, image: id, document: document))
        tokens += Array(repeating: Token(kind: .patch, image: id, document: document), count: patches)
        tokens.append(Token(kind: .eoi, image: id, document: document))
    }

    /// Parses `"text:5 image:4x4 text:3 image:2x2"`; `image:N` means N patches, `pad:N` padding,
    /// and `/` starts a new document (for document masks).
    public init(parsing spec: String) throws {
        self.spec = spec
        var document = 0
        for word in spec.split(whereSeparator: \.isWhitespace) {
            if word == "/" { document += 1; continue }
            let parts = word.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw layoutError(spec, word, "expected kind:count, e.g. text:5 or image:4x4") }
            let count = try Self.count(parts[1], spec: spec, word: word)
            switch parts[0] {
            case "text": appendText(count, document: document)
            case "pad": appendPadding(count, document: document)
            case "image", "img": appendImage(patches: count, document: document)
            default: throw layoutError(spec, word, "unknown kind '\(parts[0])' (use text, image or pad)")
            }
        }
        guard !tokens.isEmpty else { throw TensorGraphError("layout '\(spec)' is empty") }
    }

    private static func count(_ text: String, spec: String, word: Substring) throws -> Int {
        let dims = text.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard !dims.isEmpty, dims.count <= 2, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw layoutError(spec, word, "count must be a positive number or HxW")
        }
        guard let n = MemoryLimit.count(dims.map { $0! }), n <= 1 << 16 else { throw layoutError(spec, word, "at most 65536 tokens per segment") }
        return n
    }

    public var description: String {
        if !spec.isEmpty { return spec }
        var parts: [String] = [], i = 0
        while i < tokens.count {
            let t = tokens[i]
            if i > 0 && tokens[i - 1].document != t.document { parts.append("/") }
            if t.kind == .boi {
                var j = i + 1
                while j < tokens.count && tokens[j].kind == .patch { j += 1 }
                parts.append("image:\(j - i - 1)"); i = j + 1; continue
            }
            var j = i
            while j < tokens.count && tokens[j].kind == t.kind && tokens[j].document == t.document { j += 1 }
            parts.append("\(t.kind.rawValue):\(j - i)"); i = j
        }
        return parts.joined(separator: " ")
    }

    /// "patch 3 of image 1" — how errors name a position.
    public func describe(_ i: Int) -> String {
        let t = tokens[i]
        guard let image = t.image else { return "position \(i) (\(t.kind.rawValue))" }
        if t.kind == .patch {
            let first = tokens.firstIndex { $0.image == image && $0.kind == .patch }!
            return "position \(i) (patch \(i - first) of image \(image))"
        }
        return "position \(i) (\(t.kind.rawValue) of image \(image))"
    }
}

private func layoutError(_ spec: String, _ word: Substring, _ why: String) -> TensorGraphError {
    TensorGraphError("layout '\(spec)': '\(word)': \(why)")
}
