import TensorGraph

/// The kinds of token the lexer produces.
///
/// Operators and keywords use their spelling as raw value, so a message can say
/// "expected ')'" by writing `TokenKind.rightParen.rawValue`.
public enum TokenKind: String, Sendable, CaseIterable {
    // Literals and names.
    case identifier = "name"
    case int = "integer"
    case float = "number"
    case string = "string"
    /// An f-string: the token's value is the raw text between the quotes (escapes already
    /// processed); the parser splits it into text and `{expression}` parts.
    case fstring = "f-string"

    // Keywords.
    case kwDef = "def", kwReturn = "return", kwIf = "if", kwElif = "elif", kwElse = "else"
    case kwFor = "for", kwIn = "in", kwWhile = "while", kwBreak = "break"
    case kwContinue = "continue", kwPass = "pass", kwAnd = "and", kwOr = "or", kwNot = "not"
    case kwIs = "is", kwLambda = "lambda", kwTrue = "true", kwFalse = "false", kwNone = "none"
    /// A Python keyword tfs does not support (`import`, `class`, ...): reported by the parser
    /// with a clear message rather than as a puzzling "unexpected name".
    case kwUnsupported = "unsupported keyword"

    // Brackets and punctuation.
    case leftParen = "(", rightParen = ")", leftBracket = "[", rightBracket = "]"
    case leftBrace = "{", rightBrace = "}"
    case comma = ",", colon = ":", semicolon = ";", dot = ".", ellipsis = "..."

    // Operators.
    case plus = "+", minus = "-", star = "*", slash = "/", doubleSlash = "//", percent = "%"
    case at = "@", doubleStar = "**", tilde = "~", ampersand = "&", pipe = "|"
    case shiftLeft = "<<", shiftRight = ">>"
    case less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case equalEqual = "==", bangEqual = "!="

    // Assignment.
    case equal = "="
    case plusEqual = "+=", minusEqual = "-=", starEqual = "*=", slashEqual = "/="
    case doubleSlashEqual = "//=", percentEqual = "%=", atEqual = "@=", doubleStarEqual = "**="
    case ampersandEqual = "&=", pipeEqual = "|="

    // Layout.
    case newline = "end of line"
    case indent = "indent"
    case dedent = "dedent"
    case eof = "end of input"
    /// Text the lexer could not make sense of; it has already reported why, so the
    /// parser skips the statement silently.
    case error = "invalid token"
}

/// A literal value carried by a number or string token.
public enum TokenValue: Sendable, Equatable {
    case int(Int)
    case float(Double)
    case string(String)
}

/// One token: its kind, its exact text, where it is, and its literal value if any.
public struct Token: Sendable, Equatable, CustomStringConvertible {
    public var kind: TokenKind
    public var lexeme: String
    public var span: SourceSpan
    public var value: TokenValue?

    public init(_ kind: TokenKind, _ lexeme: String, span: SourceSpan, value: TokenValue? = nil) {
        self.kind = kind; self.lexeme = lexeme; self.span = span; self.value = value
    }

    /// How a message names this token: `'foo'`, `')'`, or a phrase like "end of line".
    public var quoted: String {
        switch kind {
        case .newline, .indent, .dedent, .eof: return kind.rawValue
        case .string, .fstring: return "string \(lexeme)"
        default: return "'\(lexeme)'"
        }
    }

    public var description: String {
        switch kind {
        case .identifier, .int, .float, .string, .fstring, .error, .kwUnsupported:
            return "\(kind)(\(lexeme))"
        case .newline: return "NEWLINE"
        case .indent: return "INDENT"
        case .dedent: return "DEDENT"
        case .eof: return "EOF"
        default: return lexeme
        }
    }
}

/// Keyword spellings. Both Python's capitalised constants and lower-case ones are accepted.
let keywordTable: [String: TokenKind] = [
    "def": .kwDef, "return": .kwReturn, "if": .kwIf, "elif": .kwElif, "else": .kwElse,
    "for": .kwFor, "in": .kwIn, "while": .kwWhile, "break": .kwBreak, "continue": .kwContinue,
    "pass": .kwPass, "and": .kwAnd, "or": .kwOr, "not": .kwNot, "is": .kwIs, "lambda": .kwLambda,
    "true": .kwTrue, "True": .kwTrue, "false": .kwFalse, "False": .kwFalse,
    "none": .kwNone, "None": .kwNone,
    "import": .kwUnsupported, "from": .kwUnsupported, "class": .kwUnsupported,
    "global": .kwUnsupported, "nonlocal": .kwUnsupported, "del": .kwUnsupported,
    "with": .kwUnsupported, "try": .kwUnsupported, "except": .kwUnsupported,
    "finally": .kwUnsupported, "raise": .kwUnsupported, "yield": .kwUnsupported,
    "async": .kwUnsupported, "await": .kwUnsupported, "assert": .kwUnsupported,
]
