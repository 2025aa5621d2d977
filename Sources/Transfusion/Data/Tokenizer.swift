/// Text tokens plus the specials of a mixed-modality sequence. Ids 0–255 are the UTF-8 bytes;
/// then BOS, EOS, BOI, EOI, PAD (256–260); then the merges of a byte-level BPE vocabulary
/// (261 on), each the join of two earlier text tokens. With no merges it is the byte
/// tokenizer, which every model had before BPE: its ids are unchanged, so are its checkpoints.
///
/// Text is first cut into chunks (`chunks`) and merges never cross a chunk, so a token is at
/// most a word with its leading space. Encoding applies a chunk's merges in the order they
/// were learned (lowest id first), which reproduces what training did to the same chunk.
public struct Tokenizer: Sendable, Equatable {
    public static let bos = 256, eos = 257, boi = 258, eoi = 259, pad = 260
    /// The id of the first merge: the bytes and the specials come before.
    public static let firstMerge = 261

    /// Two adjacent tokens that a merge joins.
    public struct Pair: Hashable, Sendable {
        public let left: Int, right: Int
        public init(_ left: Int, _ right: Int) { self.left = left; self.right = right }
    }

    /// Merge k makes token `firstMerge + k`.
    public let merges: [Pair]
    /// Each pair's merged id (a lower id is an earlier, higher-priority merge).
    let mergedID: [Pair: Int]
    /// The bytes each merge token spells.
    let spellings: [[UInt8]]

    /// The byte tokenizer with no merges, or a BPE vocabulary (see `Tokenizer.train`).
    public init(merges: [Pair] = []) {
        if let problem = Self.problem(merges) { preconditionFailure(problem) }
        self.merges = merges
        mergedID = Dictionary(uniqueKeysWithValues: merges.enumerated().map { ($0.element, Self.firstMerge + $0.offset) })
        var spellings: [[UInt8]] = []
        func spell(_ id: Int) -> [UInt8] { id < 256 ? [UInt8(id)] : spellings[id - Self.firstMerge] }
        for pair in merges { spellings.append(spell(pair.left) + spell(pair.right)) }
        self.spellings = spellings
    }

    /// Why merges cannot form a vocabulary (a part that is a special, or not an earlier
    /// token; a pair merged twice), or nil.
    static func problem(_ merges: [Pair]) -> String? {
        var seen = Set<Pair>()
        var lengths: [Int] = []   // bytes each merge spells: a crafted vocabulary could double them 60 times
        for (k, pair) in merges.enumerated() {
            for part in [pair.left, pair.right] where !(0..<256).contains(part) && !(firstMerge..<(firstMerge + k)).contains(part) {
                return "merge \(k) joins token \(part), which is neither a byte nor an earlier merge"
            }
            guard seen.insert(pair).inserted else { return "merge \(k) joins \(pair.left) and \(pair.right) a second time" }
            let length = [pair.left, pair.right].reduce(0) { $0 + ($1 < 256 ? 1 : lengths[$1 - firstMerge]) }
            guard length <= maxSpelling else { return "merge \(k) spells \(length) bytes (at most \(maxSpelling))" }
            lengths.append(length)
        }
        return nil
    }

    /// The longest text a single token may stand for.
    static let maxSpelling = 1 << 16

    public static func == (a: Tokenizer, b: Tokenizer) -> Bool { a.merges == b.merges }

    public var vocabularySize: Int { Self.firstMerge + merges.count }

    /// Whether an id is a text token (a byte or a merge) rather than a special.
    public func isText(_ id: Int) -> Bool { (0..<256).contains(id) || (Self.firstMerge..<vocabularySize).contains(id) }

    public func encode(_ text: String) -> [Int] {
        let bytes = Array(text.utf8)
        guard !merges.isEmpty else { return bytes.map(Int.init) }
        var out: [Int] = []
        out.reserveCapacity(bytes.count)
        for chunk in Self.chunks(bytes) { out += merged(bytes[chunk].map(Int.init)) }
        return out
    }

    /// A chunk's tokens with every applicable merge made, the earliest-learned first.
    func merged(_ tokens: [Int]) -> [Int] {
        var tokens = tokens
        while tokens.count >= 2 {
            var first = Int.max
            for i in 0..<(tokens.count - 1) {
                if let id = mergedID[Pair(tokens[i], tokens[i + 1])], id < first { first = id }
            }
            guard first != .max else { break }
            tokens = Self.replacing(merges[first - Self.firstMerge], with: first, in: tokens)
        }
        return tokens
    }

    /// `tokens` with each occurrence of `pair`, left to right and not overlapping, made `id`.
    static func replacing(_ pair: Pair, with id: Int, in tokens: [Int]) -> [Int] {
        var out: [Int] = [], i = 0
        out.reserveCapacity(tokens.count)
        while i < tokens.count {
            if i + 1 < tokens.count && tokens[i] == pair.left && tokens[i + 1] == pair.right {
                out.append(id); i += 2
            } else {
                out.append(tokens[i]); i += 1
            }
        }
        return out
    }

    /// The bytes a text token spells; nil for specials and ids outside the vocabulary.
    public func spelling(_ id: Int) -> [UInt8]? {
        if (0..<256).contains(id) { return [UInt8(id)] }
        return (Self.firstMerge..<vocabularySize).contains(id) ? spellings[id - Self.firstMerge] : nil
    }

    /// Tokens back to text; specials (and unknown ids) are shown by name, invalid UTF-8 is replaced.
    public func decode(_ ids: [Int]) -> String {
        var out = "", bytes: [UInt8] = []
        func flush() { out += String(decoding: bytes, as: UTF8.self); bytes.removeAll() }
        for id in ids {
            if let spelling = spelling(id) { bytes += spelling; continue }
            flush()
            out += Self.name(id)
        }
        flush()
        return out
    }

    /// Each token of a text as the text it spells (a token that ends inside a character shows
    /// the replacement character): what the tokenizer makes of the text, for display.
    public func pieces(_ text: String) -> [String] {
        encode(text).map { String(decoding: spelling($0) ?? [], as: UTF8.self) }
    }

    public static func name(_ id: Int) -> String {
        switch id {
        case bos: "<bos>"; case eos: "<eos>"; case boi: "<boi>"; case eoi: "<eoi>"; case pad: "<pad>"
        default: "<\(id)>"
        }
    }
}

extension Tokenizer {
    enum ByteKind { case letter, digit, space, other }

    /// Bytes of non-ASCII characters count as letters, so a character is never cut.
    static func kind(_ byte: UInt8) -> ByteKind {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x80...0xFF: .letter
        case 0x30...0x39: .digit
        case 0x20, 0x09...0x0D: .space
        default: .other
        }
    }

    /// The chunks merges stay inside, as GPT-2's pre-tokenizer roughly cuts text: runs of
    /// letters, of digits, of other symbols, each with the single space before it (" circle"),
    /// and runs of white space (whose last space goes to the word after it).
    static func chunks(_ bytes: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = [], i = 0
        while i < bytes.count {
            let start = i
            if bytes[i] == 0x20, i + 1 < bytes.count, kind(bytes[i + 1]) != .space { i += 1 }
            let k = kind(bytes[i])
            while i < bytes.count && kind(bytes[i]) == k { i += 1 }
            if k == .space, i < bytes.count, i - start > 1, bytes[i - 1] == 0x20 { i -= 1 }
            out.append(start..<i)
        }
        return out
    }
}

/// Saved in a model's config as `{"merges": [[left, right], …]}`.
extension Tokenizer: Codable {
    enum CodingKeys: String, CodingKey { case merges }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let pairs = try c.decode([[Int]].self, forKey: .merges)
        guard pairs.allSatisfy({ $0.count == 2 }) else {
            throw DecodingError.dataCorruptedError(forKey: .merges, in: c, debugDescription: "each merge must be a pair of token ids")
        }
        let merges = pairs.map { Pair($0[0], $0[1]) }
        if let problem = Self.problem(merges) {
            throw DecodingError.dataCorruptedError(forKey: .merges, in: c, debugDescription: problem)
        }
        self.init(merges: merges)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(merges.map { [$0.left, $0.right] }, forKey: .merges)
    }
}
