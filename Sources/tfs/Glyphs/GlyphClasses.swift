import TensorGraph

/// The classes of a glyph data set: one character each, its label its index, its caption a
/// phrase ("the digit 7", "the letter k", "the capital K") or the character alone.
struct GlyphClasses {
    static let digits = Array("0123456789"), letters = Array("abcdefghijklmnopqrstuvwxyz"),
               capitals = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    let characters: [Character]

    /// `digits`, `letters` (a–z), `capitals` (A–Z); a number n from 1 to 36: the first n of
    /// the digits then the letters; anything else: its own characters ("AEKX", "0123" — a
    /// number with a leading 0 or above 36 is read as characters).
    init(_ spec: String) throws {
        switch spec {
        case "digits": characters = Self.digits
        case "letters": characters = Self.letters
        case "capitals": characters = Self.capitals
        default:
            if let n = Int(spec), !spec.hasPrefix("0"), n >= 1, n <= 36 {
                characters = Array((Self.digits + Self.letters).prefix(n))
            } else {
                characters = Array(spec)
            }
        }
        guard characters.count >= 2 else { throw TensorGraphError("--classes '\(spec)' gives \(characters.count) class; a data set needs at least 2") }
        if let blank = characters.first(where: \.isWhitespace) {
            throw TensorGraphError("--classes '\(spec)' holds a blank (\(blank.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }.joined())), which draws nothing")
        }
        var seen = Set<Character>()
        if let twice = characters.first(where: { !seen.insert($0).inserted }) {
            throw TensorGraphError("--classes '\(spec)' names '\(twice)' twice")
        }
    }

    var count: Int { characters.count }
    func name(_ label: Int) -> String { String(characters[label]) }

    /// "the digit 7", "the letter k", "the capital K", "the sign +".
    func phrase(_ label: Int) -> String {
        let c = characters[label]
        if c.isNumber { return "the digit \(c)" }
        if c.isUppercase { return "the capital \(c)" }
        if c.isLetter { return "the letter \(c)" }
        return "the sign \(c)"
    }
}
