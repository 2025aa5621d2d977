/// Byte-level text tokens plus the specials of a mixed-modality sequence.
/// Ids 0–255 are the UTF-8 bytes; then BOS, EOS, BOI, EOI, PAD.
public struct ByteTokenizer: Sendable, Equatable {
    public static let bos = 256, eos = 257, boi = 258, eoi = 259, pad = 260
    public let vocabularySize = 261

    public init() {}

    public func encode(_ text: String) -> [Int] { text.utf8.map(Int.init) }

    /// Bytes back to text; specials are shown by name, invalid UTF-8 is replaced.
    public func decode(_ ids: [Int]) -> String {
        var out = "", bytes: [UInt8] = []
        func flush() { out += String(decoding: bytes, as: UTF8.self); bytes.removeAll() }
        for id in ids {
            if (0..<256).contains(id) { bytes.append(UInt8(id)); continue }
            flush()
            out += Self.name(id)
        }
        flush()
        return out
    }

    public static func name(_ id: Int) -> String {
        switch id {
        case bos: "<bos>"; case eos: "<eos>"; case boi: "<boi>"; case eoi: "<eoi>"; case pad: "<pad>"
        default: "<\(id)>"
        }
    }
}
