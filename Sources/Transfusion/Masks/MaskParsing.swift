import TensorGraph

/// Mask algebra as text, read without the language: the names and calls the language defines
/// for masks (`causal | same_image`, `causal & window(3)`, `~same_image`, `document([0, 0, 1])`)
/// combined with `|`, `&`, `~` and parentheses, with the language's precedence (~ over & over |)
/// and its simplification (`causal | causal` is `causal`).
/// What `Mask.description` prints reads back (except `document(...)` of more than 8 ids, which
/// prints shortened; the JSON encoding has no such limit).
extension Mask {
    /// Masks taller than this are refused when read (text or JSON), as the language refuses
    /// expressions nested deeper than its parser's limit: every pass over a mask recurses.
    public static let maxDepth = 100
    /// The largest `prefix(n)` or `window(n)` a reader accepts (the language's size limit).
    public static let maxSize = 1 << 24

    /// The mask this text names. The text is untrusted (checkpoints carry it): anything but mask
    /// algebra, or a mask taller than `maxDepth`, is a `TensorGraphError` naming the column.
    public init(parsing text: String) throws {
        var reader = MaskTextReader(text)
        self = try reader.expression().mask
        guard reader.atEnd else { throw reader.error("expected | or & or the end, found '\(reader.peekText)'") }
    }

    /// The mask's height: 1 for a primitive, one more than its tallest part for a combinator.
    public var height: Int {
        switch self {
        case .and(let a, let b), .or(let a, let b): return 1 + Swift.max(a.height, b.height)
        case .not(let a): return 1 + a.height
        default: return 1
        }
    }

    /// The primitives the language names without arguments, by name.
    static let named: [String: Mask] = [
        "causal": .causal, "bidirectional": .full, "nothing": .none, "same_image": .sameImage,
        "same_document": .sameDocument,
        "text_to_text": .modality(query: .text, key: .text), "text_to_image": .modality(query: .text, key: .image),
        "image_to_text": .modality(query: .image, key: .text), "image_to_image": .modality(query: .image, key: .image),
    ]
}

/// A recursive-descent reader over the characters of a mask's text.
private struct MaskTextReader {
    let text: String
    let characters: [Character]
    var index = 0

    init(_ text: String) { self.text = text; characters = Array(text) }

    var atEnd: Bool { mutating get { skipSpace(); return index >= characters.count } }
    var peekText: String { String(characters[index...].prefix(12)) }

    func error(_ why: String) -> TensorGraphError {
        let shown = text.count > 60 ? "'\(text.prefix(60))…' (\(text.count) characters)" : "'\(text)'"
        return TensorGraphError("mask \(shown), column \(index + 1): \(why)")
    }

    mutating func skipSpace() { while index < characters.count && characters[index].isWhitespace { index += 1 } }

    mutating func take(_ c: Character) -> Bool {
        skipSpace()
        guard index < characters.count, characters[index] == c else { return false }
        index += 1
        return true
    }

    mutating func expect(_ c: Character) throws {
        guard take(c) else { throw error(atEnd ? "expected '\(c)', found the end" : "expected '\(c)', found '\(peekText)'") }
    }

    /// A mask and the height of the text's tree that built it (the mask itself may be smaller:
    /// the operators simplify, as in the language).
    typealias Parsed = (mask: Mask, height: Int)

    /// A combination, refused once the text's tree is taller than the limit (chains are loops,
    /// not recursion, but build trees as tall as they are long, as the language's parser does).
    func combined(_ a: Parsed, _ b: Parsed, _ op: (Mask, Mask) -> Mask) throws -> Parsed {
        let height = 1 + Swift.max(a.height, b.height)
        guard height <= Mask.maxDepth else { throw error("mask nested too deeply (limit \(Mask.maxDepth))") }
        return (op(a.mask, b.mask), height)
    }

    mutating func expression(depth: Int = 0) throws -> Parsed {
        var m = try conjunction(depth: depth)
        while take("|") { m = try combined(m, try conjunction(depth: depth), |) }
        return m
    }

    mutating func conjunction(depth: Int) throws -> Parsed {
        var m = try unary(depth: depth)
        while take("&") { m = try combined(m, try unary(depth: depth), &) }
        return m
    }

    mutating func unary(depth: Int) throws -> Parsed {
        guard depth < Mask.maxDepth else { throw error("mask nested too deeply (limit \(Mask.maxDepth))") }
        if take("~") {
            let inner = try unary(depth: depth + 1)
            guard inner.height < Mask.maxDepth else { throw error("mask nested too deeply (limit \(Mask.maxDepth))") }
            return (~inner.mask, inner.height + 1)
        }
        if take("(") {
            let m = try expression(depth: depth + 1)
            try expect(")")
            return m
        }
        return (try primitive(), 1)
    }

    mutating func primitive() throws -> Mask {
        skipSpace()
        let start = index
        while index < characters.count, characters[index] == "_" || (characters[index].isASCII && characters[index].isLetter) {
            index += 1
        }
        let name = String(characters[start..<index])
        if let m = Mask.named[name] { return m }
        switch name {
        case "prefix", "window":
            try expect("(")
            let n = try integer()
            guard (1...Mask.maxSize).contains(n) else { throw error("\(name)'s n must be from 1 to \(Mask.maxSize), got \(n)") }
            try expect(")")
            return name == "prefix" ? .prefix(n) : .window(n)
        case "document":
            try expect("("); try expect("[")
            var ids: [Int] = []
            if !take("]") {
                repeat { ids.append(try integer()) } while take(",")
                try expect("]")
            }
            try expect(")")
            return .documents(ids)
        case "":
            throw error(atEnd ? "expected a mask, found the end" : "expected a mask, found '\(peekText)'")
        default:
            throw error("'\(name)' is not a mask (masks: \(Mask.named.keys.sorted().joined(separator: ", ")), prefix(n), window(n), document([ids]))")
        }
    }

    mutating func integer() throws -> Int {
        skipSpace()
        let start = index
        if index < characters.count, characters[index] == "-" { index += 1 }
        while index < characters.count, characters[index].isASCII, characters[index].isNumber { index += 1 }
        guard let n = Int(String(characters[start..<index])) else {
            index = start
            throw error(atEnd ? "expected an integer, found the end" : "expected an integer, found '\(peekText)'")
        }
        return n
    }
}
