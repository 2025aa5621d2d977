import TensorGraph

/// A JSON value whose objects keep their keys in written order (Foundation's parser gives
/// unordered dictionaries), for reading back tables whose columns have an order.
enum OrderedJSON {
    case null, bool(Bool), number(Double), string(String)
    case array([OrderedJSON])
    case object([(String, OrderedJSON)])

    /// One JSON value filling `text` (white space around it allowed).
    static func parse(_ text: String) throws -> OrderedJSON {
        var reader = Reader(bytes: Array(text.utf8))
        let value = try reader.value()
        reader.skipSpace()
        guard reader.at == reader.bytes.count else { throw reader.error("unexpected text after the value") }
        return value
    }

    private struct Reader {
        let bytes: [UInt8]
        var at = 0

        func error(_ message: String) -> TensorGraphError { TensorGraphError("invalid JSON at byte \(at + 1): \(message)") }

        mutating func skipSpace() { while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[at]) { at += 1 } }

        mutating func expect(_ byte: UInt8) throws {
            skipSpace()
            guard at < bytes.count, bytes[at] == byte else { throw error("expected '\(Character(Unicode.Scalar(byte)))'") }
            at += 1
        }

        mutating func value() throws -> OrderedJSON {
            skipSpace()
            guard at < bytes.count else { throw error("unexpected end") }
            switch bytes[at] {
            case UInt8(ascii: "{"): return try object()
            case UInt8(ascii: "["): return try array()
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try word("true"); return .bool(true)
            case UInt8(ascii: "f"): try word("false"); return .bool(false)
            case UInt8(ascii: "n"): try word("null"); return .null
            default: return .number(try number())
            }
        }

        mutating func word(_ w: String) throws {
            guard bytes[at...].starts(with: w.utf8) else { throw error("expected \(w)") }
            at += w.utf8.count
        }

        mutating func object() throws -> OrderedJSON {
            try expect(UInt8(ascii: "{"))
            var pairs: [(String, OrderedJSON)] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(pairs) }
            repeat {
                skipSpace()
                let key = try string()
                try expect(UInt8(ascii: ":"))
                pairs.append((key, try value()))
                skipSpace()
            } while try more(closing: "}")
            return .object(pairs)
        }

        mutating func array() throws -> OrderedJSON {
            try expect(UInt8(ascii: "["))
            var items: [OrderedJSON] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
            repeat { items.append(try value()); skipSpace() } while try more(closing: "]")
            return .array(items)
        }

        /// After an item: true on ",", false on the closing bracket.
        mutating func more(closing: Character) throws -> Bool {
            guard at < bytes.count else { throw error("unexpected end") }
            let byte = bytes[at]
            at += 1
            if byte == UInt8(ascii: ",") { return true }
            if byte == closing.asciiValue! { return false }
            at -= 1
            throw error("expected ',' or '\(closing)'")
        }

        mutating func string() throws -> String {
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw error("expected a string") }
            at += 1
            var out: [UInt8] = []
            while at < bytes.count, bytes[at] != UInt8(ascii: "\"") {
                guard bytes[at] == UInt8(ascii: "\\") else { out.append(bytes[at]); at += 1; continue }
                guard at + 1 < bytes.count else { break }
                let escape = bytes[at + 1]
                at += 2
                switch escape {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"): out += Array(String(try unicodeEscape()).utf8)
                default: out.append(escape)   // \" \\ \/
                }
            }
            guard at < bytes.count else { throw error("unterminated string") }
            at += 1
            return String(decoding: out, as: UTF8.self)
        }

        /// The character of a \uXXXX escape (a surrogate pair takes two).
        mutating func unicodeEscape() throws -> Character {
            func hex() throws -> UInt32 {
                guard at + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[at..<(at + 4)], as: UTF8.self), radix: 16) else {
                    throw error("bad \\u escape")
                }
                at += 4
                return v
            }
            var code = try hex()
            if (0xD800..<0xDC00).contains(code), bytes[at...].starts(with: "\\u".utf8) {
                at += 2
                code = 0x10000 + ((code - 0xD800) << 10) + (try hex() - 0xDC00)
            }
            return Character(Unicode.Scalar(code) ?? "\u{FFFD}")
        }

        mutating func number() throws -> Double {
            let start = at
            while at < bytes.count, "+-0123456789.eE".utf8.contains(bytes[at]) { at += 1 }
            guard at > start, let d = Double(String(decoding: bytes[start..<at], as: UTF8.self)) else { throw error("expected a value") }
            return d
        }
    }
}
