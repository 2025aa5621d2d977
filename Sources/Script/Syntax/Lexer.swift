import TensorGraph

/// Turns source text into tokens, Python style: significant indentation becomes INDENT and
/// DEDENT tokens, a line break ends a statement (NEWLINE) except inside brackets or after a
/// trailing backslash, and `#` starts a comment.
///
/// The lexer never stops early: text it cannot read becomes an `.error` token (already
/// reported to the sink) and lexing goes on, so one run finds every lexical error.
public struct Lexer {
    private let chars: [Character]
    private let file: String
    private let sink: DiagnosticSink
    private var pos = 0
    private var line: Int
    private var column: Int
    private var tokens: [Token] = []
    /// Widths (in columns) of the open indentation levels; the bottom is always 0.
    private var indents: [Int] = [0]
    /// Open brackets; while any is open, line breaks and indentation mean nothing.
    private var bracketDepth = 0
    private let implicitBrackets: Bool
    private var atLineStart = true
    private var reportedTab = false

    /// - Parameters:
    ///   - line, column: where `source` starts in its file, so spans of a cell (or of an
    ///     f-string's `{expression}`) point into the whole file.
    ///   - insideBrackets: lex as if inside `( )`: no NEWLINE, INDENT or DEDENT tokens.
    public init(source: String, file: String = "<input>", line: Int = 1, column: Int = 1,
                insideBrackets: Bool = false, sink: DiagnosticSink) {
        self.chars = Array(source)
        self.file = file
        self.line = line
        self.column = column
        self.sink = sink
        self.implicitBrackets = insideBrackets
        if insideBrackets { bracketDepth = 1; atLineStart = false }
    }

    /// Lexes the whole source. The result always ends with `.eof`, and every INDENT is
    /// matched by a DEDENT.
    public mutating func tokenize() -> [Token] {
        while true {
            if atLineStart && bracketDepth == 0 {
                atLineStart = false
                if skipBlankLineOrIndent() { continue }
            }
            guard let c = peek() else { break }
            scanToken(c)
        }
        finish()
        return tokens
    }

    // MARK: - Layout

    /// At the start of a line: skips it if it is blank or only a comment (returns true), or
    /// measures its indentation and emits INDENT/DEDENT tokens.
    private mutating func skipBlankLineOrIndent() -> Bool {
        var width = 0, sawTab = false, sawSpace = false
        let start = here()
        while let c = peek(), c == " " || c == "\t" {
            if c == "\t" { sawTab = true; width += 4 } else { sawSpace = true; width += 1 }
            advance()
        }
        guard let c = peek(), c != "#", !isLineBreak(c) else {
            skipToLineEnd()
            // The next line starts a line too: its indentation must be measured.
            if let c = peek(), isLineBreak(c) { newLine(); atLineStart = true }
            return true
        }
        if sawTab && !reportedTab {
            // Reported once: a tab-indented file would otherwise produce an error per line.
            reportedTab = true
            let message = sawSpace ? "indentation mixes tabs and spaces"
                                   : "tab character in indentation"
            sink.report(.syntax, message, at: span(start, length: max(1, column - start.column)),
                        note: "indent with spaces only (4 per level)")
        }
        emitIndentation(width)
        return false
    }

    private mutating func emitIndentation(_ width: Int) {
        let at = span(here(), length: 1)
        if width > indents.last! {
            indents.append(width)
            tokens.append(Token(.indent, "", span: SourceSpan(file: file, line: line, column: 1,
                                                               length: max(1, width))))
            return
        }
        while width < indents.last! {
            indents.removeLast()
            tokens.append(Token(.dedent, "", span: at))
        }
        if width != indents.last! {
            sink.report(.syntax, "unindent does not match any outer indentation level", at: at,
                        note: "indent to the same column as an enclosing block")
        }
    }

    private mutating func finish() {
        if let last = tokens.last, last.kind != .newline, last.kind != .dedent,
           !implicitBrackets {
            tokens.append(Token(.newline, "", span: span(here(), length: 1)))
        }
        let end = span(here(), length: 1)
        if !implicitBrackets {
            for _ in indents.dropFirst() { tokens.append(Token(.dedent, "", span: end)) }
        }
        indents = [0]
        tokens.append(Token(.eof, "", span: end))
    }

    // MARK: - Tokens

    private mutating func scanToken(_ c: Character) {
        if c == " " || c == "\t" || c == "\u{0C}" { advance(); return }
        if c == "#" { skipToLineEnd(); return }
        if isLineBreak(c) { lineBreak(); return }
        if c == "\\" { backslash(); return }
        if c.isASCII && c.isNumber || c == "." && startsFraction() {
            scanNumber(); return
        }
        if let prefixLength = stringPrefixLength() { scanString(prefixLength: prefixLength); return }
        if c.isLetter || c == "_" { scanIdentifier(); return }
        if scanOperator() { return }
        let start = here()
        advance()
        var note: String? = nil
        if c == "!" { note = "use 'not' for logical negation" }
        if c == "^" { note = "use '**' for powers" }
        if c == "?" { note = "use 'a if condition else b' for a conditional expression" }
        error("unexpected character '\(c)'", start, note: note)
    }

    /// `.5` is a number, but in `x.1` or `f().2` the dot is member access (and an error).
    private func startsFraction() -> Bool {
        guard let d = peek(1), d.isASCII && d.isNumber else { return false }
        switch tokens.last?.kind {
        case .identifier?, .int?, .float?, .string?, .rightParen?, .rightBracket?, .rightBrace?: return false
        default: return true
        }
    }

    private mutating func lineBreak() {
        if bracketDepth == 0, let last = tokens.last, last.kind != .newline {
            tokens.append(Token(.newline, "", span: span(here(), length: 1)))
        }
        newLine()
        atLineStart = bracketDepth == 0
    }

    /// A backslash at the end of a line joins it to the next; anywhere else it is an error.
    private mutating func backslash() {
        let start = here()
        advance()
        if let next = peek(), isLineBreak(next) { newLine(); return }
        error("unexpected character '\\'", start,
              note: "a backslash continues a line only as the line's last character")
    }

    private mutating func scanIdentifier() {
        let start = here(), from = pos
        while let c = peek(), c.isLetter || c == "_" || (c.isASCII && c.isNumber) { advance() }
        let text = String(chars[from..<pos])
        add(keywordTable[text] ?? .identifier, text, start)
    }

    /// Longest-match operators and punctuation; updates the bracket depth.
    private mutating func scanOperator() -> Bool {
        for (spelling, kind) in operatorTable[peek()!] ?? [] where matches(spelling) {
            let start = here()
            for _ in spelling { advance() }
            switch kind {
            case .leftParen, .leftBracket, .leftBrace: bracketDepth += 1
            case .rightParen, .rightBracket, .rightBrace:
                bracketDepth = max(implicitBrackets ? 1 : 0, bracketDepth - 1)
            default: break
            }
            add(kind, spelling, start)
            return true
        }
        return false
    }

    // MARK: - Numbers

    /// Integers (`3`, `1_000`) and floats (`0.5`, `.5`, `1.`, `1e-3`, `3E+4`).
    private mutating func scanNumber() {
        if peek() == "0", let p = peek(1), "xXoObB".contains(p) { return scanRadixInteger() }
        let start = here(), from = pos
        var isFloat = false
        skipDigits()
        if peek() == ".", !(peek(1)?.isLetter ?? false), peek(1) != "_", peek(1) != "." {
            isFloat = true
            advance()
            skipDigits()
        }
        var exponentError = false
        if peek() == "e" || peek() == "E" {
            isFloat = true
            advance()
            if peek() == "+" || peek() == "-" { advance() }
            if let d = peek(), d.isASCII && d.isNumber { skipDigits() } else { exponentError = true }
        }
        // Letters glued to a number ("3abc", "1.5x") make the whole word invalid.
        var glued = false
        while let c = peek(), c.isLetter || c == "_" || (c.isASCII && c.isNumber) {
            glued = true; advance()
        }
        let text = String(chars[from..<pos])
        if glued || text.hasSuffix("_") || text.contains("__") || text.contains("_.") {
            return error("invalid number '\(text)'", start, length: text.count)
        }
        if exponentError {
            return error("invalid number '\(text)': exponent has no digits", start,
                         length: text.count, note: "write the exponent's digits, as in 1e-3")
        }
        let digits = text.filter { $0 != "_" }
        if isFloat, let value = Double(digits) {
            add(.float, text, start, value: .float(value))
        } else if !isFloat, let value = Int(digits) {
            add(.int, text, start, value: .int(value))
        } else if !isFloat {
            error("integer literal '\(text)' is too large", start, length: text.count)
        } else {
            error("invalid number '\(text)'", start, length: text.count)
        }
    }

    /// `0xFF`, `0o17`, `0b1010`.
    private mutating func scanRadixInteger() {
        let start = here(), from = pos
        advance()
        let radix = ["x": 16, "o": 8, "b": 2][peek()!.lowercased()]!
        advance()
        while let c = peek(), c.isLetter || c.isNumber || c == "_" { advance() }
        let text = String(chars[from..<pos])
        if let value = Int(text.dropFirst(2).filter { $0 != "_" }, radix: radix), !text.hasSuffix("_") {
            add(.int, text, start, value: .int(value))
        } else {
            error("invalid number '\(text)'", start, length: text.count)
        }
    }

    private mutating func skipDigits() {
        while let c = peek(), (c.isASCII && c.isNumber) || c == "_" { advance() }
    }

    // MARK: - Strings

    /// If a string literal starts here, the length of its prefix (`f`, `r`, `rf`, ...).
    private func stringPrefixLength() -> Int? {
        var n = 0
        while n < 2, let c = peek(n), "fFrR".contains(c) { n += 1 }
        guard let q = peek(n), q == "\"" || q == "'" else { return nil }
        if n == 2 {   // only one f and one r
            let p = String(chars[pos..<pos + 2]).lowercased()
            if p != "rf" && p != "fr" { return nil }
        }
        return n
    }

    /// `"..."`, `'...'`, triple-quoted `"""..."""` (may span lines), with prefixes `r` (no
    /// escapes) and `f` (formatted: the parser reads its `{expressions}`).
    private mutating func scanString(prefixLength: Int) {
        let start = here(), from = pos
        let prefix = String(chars[pos..<pos + prefixLength]).lowercased()
        for _ in 0..<prefixLength { advance() }
        let quote = peek()!
        let triple = peek(1) == quote && peek(2) == quote
        for _ in 0..<(triple ? 3 : 1) { advance() }
        let isRaw = prefix.contains("r"), isFormat = prefix.contains("f")
        var value = "", raw = ""
        while true {
            guard let c = peek(), triple || !isLineBreak(c) else {
                let length = pos - from
                let what = triple ? "unterminated triple-quoted string" : "unterminated string"
                return error(what, start, length: triple ? 3 : length,
                             note: "add the closing \(triple ? String(repeating: quote, count: 3) : String(quote))")
            }
            if c == quote && (!triple || (peek(1) == quote && peek(2) == quote)) {
                for _ in 0..<(triple ? 3 : 1) { advance() }
                break
            }
            if c == "\\" && !isRaw {
                raw.append(c)
                let escapeStart = here()
                advance()
                guard let e = peek() else { continue }
                raw.append(e)
                if isLineBreak(e) { newLine(); continue }   // backslash-newline: joined
                advance()
                if let decoded = decodeEscape(e) { value.append(decoded) } else {
                    error("unknown escape sequence '\\\(e)'", escapeStart, length: 2,
                          note: "write '\\\\' for a backslash", emitToken: false)
                }
                continue
            }
            value.append(c); raw.append(c)
            if isLineBreak(c) { newLine() } else { advance() }
        }
        let lexeme = String(chars[from..<pos])
        add(isFormat ? .fstring : .string, lexeme, start, value: .string(isFormat ? raw : value))
    }

    /// The character an escape stands for; `\x` and `\u` read their hex digits.
    private mutating func decodeEscape(_ e: Character) -> Character? {
        switch e {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "0": return "\0"
        case "\\", "'", "\"": return e
        case "x", "u":
            let count = e == "x" ? 2 : 4
            var hex = ""
            while hex.count < count, let h = peek(), h.isHexDigit { hex.append(h); advance() }
            guard hex.count == count, let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v)
            else { return nil }
            return Character(s)
        default: return nil
        }
    }

    // MARK: - Helpers

    private func peek(_ ahead: Int = 0) -> Character? {
        pos + ahead < chars.count ? chars[pos + ahead] : nil
    }

    private func matches(_ s: String) -> Bool {
        var i = 0
        for c in s {
            guard peek(i) == c else { return false }
            i += 1
        }
        return true
    }

    private mutating func advance() { pos += 1; column += 1 }

    private mutating func newLine() { pos += 1; line += 1; column = 1 }

    private mutating func skipToLineEnd() {
        while let c = peek(), !isLineBreak(c) { advance() }
    }

    private func here() -> (line: Int, column: Int) { (line, column) }

    private func span(_ at: (line: Int, column: Int), length: Int) -> SourceSpan {
        SourceSpan(file: file, line: at.line, column: at.column, length: length)
    }

    private mutating func add(_ kind: TokenKind, _ text: String, _ start: (line: Int, column: Int),
                              value: TokenValue? = nil) {
        // A multi-line token (triple-quoted string) spans to the end of its first line only.
        let length = start.line == line ? column - start.column : text.prefix { !isLineBreak($0) }.count
        tokens.append(Token(kind, text, span: span(start, length: max(1, length)), value: value))
    }

    private mutating func error(_ message: String, _ start: (line: Int, column: Int),
                                length: Int = 1, note: String? = nil, emitToken: Bool = true) {
        let s = span(start, length: max(1, length))
        sink.report(.syntax, message, at: s, note: note)
        if emitToken { tokens.append(Token(.error, message, span: s)) }
    }
}

/// Operator spellings, longest first so `**=` wins over `**` over `*`.
/// Keyed by first character, so each character tries only a few spellings.
private let operatorTable: [Character: [(String, TokenKind)]] = Dictionary(
    grouping: TokenKind.allCases
        .filter { !$0.rawValue.contains { $0.isLetter || $0 == " " } }
        .map { ($0.rawValue, $0) }
        .sorted { $0.0.count > $1.0.count },
    by: { $0.0.first! })

/// Decodes the escapes of raw string text the lexer has already validated (used for the
/// text parts of f-strings); an escape it does not know is kept as written.
func unescapeStringText(_ raw: String) -> String {
    var out = "", chars = Array(raw), i = 0
    while i < chars.count {
        let c = chars[i]
        guard c == "\\", i + 1 < chars.count else { out.append(c); i += 1; continue }
        let e = chars[i + 1]
        i += 2
        switch e {
        case "n": out.append("\n")
        case "t": out.append("\t")
        case "r": out.append("\r")
        case "0": out.append("\0")
        case "\\", "'", "\"": out.append(e)
        case "x", "u":
            let count = e == "x" ? 2 : 4
            let hex = String(chars[i..<min(i + count, chars.count)])
            if hex.count == count, let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v) {
                out.append(Character(s)); i += count
            } else {
                out.append("\\"); out.append(e)
            }
        default:
            if !isLineBreak(e) { out.append("\\"); out.append(e) }
        }
    }
    return out
}
