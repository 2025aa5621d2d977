/// Decides whether REPL input is complete or needs more lines, without parsing: a bracket or a
/// triple-quoted string still open, a trailing backslash, or a compound statement (a line
/// ending with `:`, as `for i in range(3):`) all ask for more.
public struct InputScanner {
    /// What the text read so far leaves open.
    public struct State: Equatable {
        /// `(`, `[` and `{` not yet closed (never negative).
        public var depth = 0
        /// Inside a `'''` or `"""` string.
        public var inTripleString = false
        /// The last line ends with `\` (outside a string or comment).
        public var backslash = false
        /// Some line (outside brackets) ends with `:` — a compound statement has begun.
        public var opensBlock = false

        /// True while the text cannot possibly be a finished entry.
        public var isOpen: Bool { depth > 0 || inTripleString || backslash }
    }

    public static func scan(_ text: String) -> State {
        var state = State()
        let chars = Array(text)
        var i = 0
        var quote: Character? = nil       // the open string's quote character
        var triple = false
        var lastSignificant: Character? = nil  // on the current line, outside strings and comments
        func endLine() {
            if state.depth == 0 && quote == nil && lastSignificant == ":" { state.opensBlock = true }
            lastSignificant = nil
        }
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                if c == "\\" { i += 2; continue }
                if triple {
                    if c == q && i + 2 < chars.count && chars[i + 1] == q && chars[i + 2] == q {
                        quote = nil; triple = false; i += 3; lastSignificant = q; continue
                    }
                } else if c == q {
                    quote = nil; i += 1; lastSignificant = q; continue
                } else if c == "\n" {
                    // An unterminated one-line string ends at the line's end (the parser reports it).
                    quote = nil; endLine()
                }
                i += 1
                continue
            }
            switch c {
            case "#":
                while i < chars.count && chars[i] != "\n" { i += 1 }
                continue
            case "'", "\"":
                if i + 2 < chars.count && chars[i + 1] == c && chars[i + 2] == c {
                    quote = c; triple = true; i += 3; continue
                }
                quote = c; triple = false
            case "(", "[", "{": state.depth += 1; lastSignificant = c
            case ")", "]", "}": state.depth = max(0, state.depth - 1); lastSignificant = c
            case "\n": endLine()
            case " ", "\t", "\r": break
            default: lastSignificant = c
            }
            i += 1
        }
        state.inTripleString = quote != nil && triple
        state.backslash = quote == nil && lastSignificant == "\\"
        endLine()
        return state
    }

    /// True if `line` (non-blank) continues the block above it in a piped stream: indented, or
    /// a clause that belongs to the statement above (`elif`, `else`).
    public static func continuesBlock(_ line: String) -> Bool {
        guard let first = line.first else { return false }
        if first == " " || first == "\t" { return true }
        let word = line.prefix { $0.isLetter }
        return word == "elif" || word == "else" || word == "except" || word == "finally"
    }

    public static func isBlank(_ line: String) -> Bool { line.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" } }
}
