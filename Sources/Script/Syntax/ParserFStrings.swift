import TensorGraph

/// f-strings: `f"step {i}: loss {loss:.3f}"` becomes text and `{expression:format}` parts.
/// Each expression is lexed and parsed on its own, starting at its real line and column, so
/// an error inside the braces points at the right character of the file.
extension Parser {
    func fstringParts(_ token: Token, raw: String) throws -> [FStringPart] {
        let chars = Array(raw)
        let positions = sourcePositions(of: chars, token: token)
        let isRaw = token.lexeme.prefix { $0.isLetter }.lowercased().contains("r")
        var parts: [FStringPart] = [], text = "", i = 0
        func here(_ k: Int) -> SourceSpan {
            SourceSpan(file: token.span.file, line: positions[k].line, column: positions[k].column)
        }
        func flushText() {
            if !text.isEmpty { parts.append(.text(isRaw ? text : unescapeStringText(text))); text = "" }
        }
        while i < chars.count {
            let c = chars[i]
            if (c == "{" || c == "}") && i + 1 < chars.count && chars[i + 1] == c {
                text.append(c); i += 2; continue          // {{ and }} are literal braces
            }
            if c == "}" {
                throw error(at: here(i), "single '}' is not allowed in an f-string",
                            note: "write '}}' for a literal brace")
            }
            guard c == "{" else { text.append(c); i += 1; continue }
            flushText()
            let end = expressionEnd(chars, from: i + 1)
            guard end < chars.count else {
                throw error(at: here(i), "expected '}' in f-string")
            }
            let source = String(chars[(i + 1)..<end])
            if source.allSatisfy({ $0 == " " }) {
                throw error(at: here(i), "empty expression in f-string")
            }
            if chars[end] == "!" {
                throw error(at: here(end), "conversions like '!r' are not supported in f-strings")
            }
            guard let value = Parser.parseExpression(
                source, file: token.span.file, line: positions[i + 1].line,
                column: positions[i + 1].column, depth: depth, sink: sink)
            else { throw ParseError() }
            var format: String? = nil
            var close = end
            if chars[end] == ":" {
                close = end + 1
                while close < chars.count && chars[close] != "}" { close += 1 }
                guard close < chars.count else { throw error(at: here(i), "expected '}' in f-string") }
                format = String(chars[(end + 1)..<close])
            }
            parts.append(.value(value, format: format))
            i = close + 1
        }
        flushText()
        return parts
    }

    /// Index of the `}`, `:` or `!` ending the expression that starts at `start` (or the
    /// count if none): brackets and quoted strings inside the expression are skipped.
    private func expressionEnd(_ chars: [Character], from start: Int) -> Int {
        var j = start, depth = 0
        var quote: Character? = nil
        while j < chars.count {
            let ch = chars[j]
            if let q = quote {
                if ch == q { quote = nil }
            } else if ch == "'" || ch == "\"" {
                quote = ch
            } else if "([{".contains(ch) {
                depth += 1
            } else if ")]}".contains(ch) {
                if depth == 0 { return ch == "}" ? j : chars.count }
                depth -= 1
            } else if depth == 0 && ch == ":" {
                return j
            } else if depth == 0 && ch == "!" && (j + 1 >= chars.count || chars[j + 1] != "=") {
                return j
            }
            j += 1
        }
        return chars.count
    }

    /// The file line and column of each character between the quotes.
    private func sourcePositions(of chars: [Character], token: Token) -> [(line: Int, column: Int)] {
        let prefix = token.lexeme.prefix { $0.isLetter }.count
        let afterPrefix = token.lexeme.dropFirst(prefix)
        let q = afterPrefix.first ?? "\""
        let triple = afterPrefix.hasPrefix(String(repeating: q, count: 3)) && afterPrefix.count >= 6
        var line = token.span.line, column = token.span.column + prefix + (triple ? 3 : 1)
        var positions: [(line: Int, column: Int)] = []
        positions.reserveCapacity(chars.count + 1)
        for c in chars {
            positions.append((line, column))
            if isLineBreak(c) { line += 1; column = 1 } else { column += 1 }
        }
        positions.append((line, column))
        return positions
    }
}
