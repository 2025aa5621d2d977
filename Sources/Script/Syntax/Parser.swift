import TensorGraph

// Statement grammar (the expression grammar is at the top of ParserExpressions.swift):
//
//   program        → statement* EOF
//   statement      → def | if | for | while | simpleLine
//   simpleLine     → simple (";" simple)* [";"] NEWLINE
//   simple         → "pass" | "break" | "continue" | "return" [expressionList]
//                  | expressionList [("=" | "+=" | "-=" | "*=" | "/=" | "//=" | "%=" | "@="
//                                     | "**=" | "&=" | "|=") expressionList]
//   def            → "def" NAME "(" parameters ")" ":" block
//   if             → "if" expression ":" block ("elif" expression ":" block)* ["else" ":" block]
//   for            → "for" targetList "in" expressionList ":" block
//   while          → "while" expression ":" block
//   block          → NEWLINE INDENT statement+ DEDENT | simpleLine
//   parameters     → [param ("," param)*] [","]   with param → NAME ["=" expression]
//                  | "*" [NAME] | "**" NAME        (Python's rules for order)

/// A recursive-descent parser from tokens to statements (the expression grammar lives in
/// ParserExpressions.swift, f-strings in ParserFStrings.swift).
///
/// Errors go to the sink. After an error the parser skips to the next statement boundary
/// (`synchronize`) and carries on, so a run reports every independent mistake; each loop
/// checks that it consumed a token, so it cannot spin forever.
public final class Parser {
    let tokens: [Token]
    let sink: DiagnosticSink
    var current = 0
    /// Column of the first token of the statement being parsed: a token at or left of it on a
    /// later line is probably a new statement, which tells "unclosed bracket" from "missing comma".
    var statementColumn = 1
    /// Open brackets, innermost last, for "does not match" and "never closed" messages.
    var openBrackets: [Token] = []
    /// Recursion depth of expressions and blocks, capped so hostile input cannot overflow the stack.
    var depth = 0
    /// The one nesting budget: the parser's recursion (brackets, blocks, comprehensions, unary
    /// operators…) and the height of every expression tree it builds stay within it.
    public static let maxDepth = 100
    /// The last column used on each line, to give a multi-line node a span reaching its line's end.
    let lineEnds: [Int: Int]
    /// Opening brackets no later token closes. An error inside one is reported as "'(' was
    /// never closed" at the bracket: what follows it is the rest of the file, not an argument.
    let unclosed: Set<SourceSpan>

    /// Thrown after an error has been reported; caught at the statement level.
    struct ParseError: Error {}

    public init(tokens: [Token], sink: DiagnosticSink) {
        self.tokens = tokens.last?.kind == .eof ? tokens
            : tokens + [Token(.eof, "", span: tokens.last?.span ?? SourceSpan(file: "<input>", line: 1, column: 1))]
        self.sink = sink
        var ends: [Int: Int] = [:]
        for t in tokens where t.kind != .dedent && t.kind != .eof {
            ends[t.span.line] = max(ends[t.span.line] ?? 0, t.span.column + t.span.length)
        }
        self.lineEnds = ends
        var stack: [SourceSpan] = []
        for t in tokens {
            switch t.kind {
            case .leftParen, .leftBracket, .leftBrace: stack.append(t.span)
            case .rightParen, .rightBracket, .rightBrace: _ = stack.popLast()
            default: break
            }
        }
        self.unclosed = Set(stack)
    }

    /// Lexes and parses a whole script (or one cell of it, starting at `line` of `file`).
    public static func parse(_ source: String, file: String = "<input>", line: Int = 1,
                             sink: DiagnosticSink) -> [Stmt] {
        var lexer = Lexer(source: source, file: file, line: line, sink: sink)
        return Parser(tokens: lexer.tokenize(), sink: sink).parseProgram()
    }

    /// Lexes and parses a single expression (REPL helpers, tests, f-string parts).
    /// `depth` is the nesting already used around it (an f-string's enclosing expression).
    public static func parseExpression(_ source: String, file: String = "<input>", line: Int = 1,
                                       column: Int = 1, depth: Int = 0, sink: DiagnosticSink) -> Expr? {
        var lexer = Lexer(source: source, file: file, line: line, column: column,
                          insideBrackets: true, sink: sink)
        let parser = Parser(tokens: lexer.tokenize(), sink: sink)
        parser.depth = depth
        do {
            let e = try parser.expression()
            if !parser.check(.eof) { throw parser.error(at: parser.peek(), "unexpected \(parser.peek().quoted)") }
            return e
        } catch { return nil }
    }

    /// Parses statements up to the end of input.
    public func parseProgram() -> [Stmt] {
        var statements: [Stmt] = []
        while !check(.eof) {
            if check(.dedent) || check(.newline) { advance(); continue }   // defensive
            statements += statementRecovering()
        }
        return statements
    }

    // MARK: - Statements

    /// One statement, or nothing if it had an error (then input is skipped to the next one).
    func statementRecovering() -> [Stmt] {
        let start = current
        if check(.indent) {
            sink.report(.syntax, "unexpected indent", at: peek().span,
                        note: "indent only the body of a def, if, for or while")
            skipIndentedBlock()
            return []
        }
        do {
            return try statement()
        } catch {
            synchronize()
            if current == start { advance() }
            return []
        }
    }

    private func statement() throws -> [Stmt] {
        statementColumn = peek().span.column
        openBrackets = []
        switch peek().kind {
        case .kwDef: return [try defStatement()]
        case .kwIf: return [try ifStatement()]
        case .kwFor: return [try forStatement()]
        case .kwWhile: return [try whileStatement()]
        case .kwElif, .kwElse:
            throw error(at: peek(), "'\(peek().lexeme)' without a matching 'if'",
                        note: "'\(peek().lexeme)' must line up with an 'if' above it")
        default: return try simpleStatements()
        }
    }

    /// `simple (';' simple)* [';'] NEWLINE`.
    func simpleStatements() throws -> [Stmt] {
        var statements = [try simpleStatement()]
        while match(.semicolon) {
            if check(.newline) || check(.eof) { break }
            statements.append(try simpleStatement())
        }
        try endOfStatement()
        return statements
    }

    private func endOfStatement() throws {
        if match(.newline) || check(.eof) { return }
        let t = peek()
        switch t.kind {
        case .rightParen, .rightBracket, .rightBrace:
            throw error(at: t, "unmatched '\(t.lexeme)'")
        case .equal:
            throw error(at: t, "chained assignment is not supported",
                        note: "assign one target per statement")
        default:
            throw error(at: t, "unexpected \(t.quoted) after statement",
                        note: "put each statement on its own line or separate them with ';'")
        }
    }

    private func simpleStatement() throws -> Stmt {
        let t = peek()
        switch t.kind {
        case .kwPass: advance(); return Stmt(.pass, t.span)
        case .kwBreak: advance(); return Stmt(.break, t.span)
        case .kwContinue: advance(); return Stmt(.continue, t.span)
        case .kwReturn:
            advance()
            if check(.newline) || check(.semicolon) || check(.eof) { return Stmt(.return(nil), t.span) }
            let value = try expressionList()
            return Stmt(.return(value), cover(t.span, value.span))
        case .kwUnsupported:
            throw unsupported(t)
        default:
            return try expressionStatement()
        }
    }

    /// An expression, an assignment `target = value` or an augmented one `target += value`.
    private func expressionStatement() throws -> Stmt {
        let target = try expressionList()
        if check(.equal) {
            let equal = advance()
            try validateTarget(target, augmented: false, operatorToken: equal)
            let value = try expressionList()
            return Stmt(.assign(target: target, value: value), cover(target.span, value.span))
        }
        if let op = augmentedOperators[peek().kind] {
            let opToken = advance()
            try validateTarget(target, augmented: true, operatorToken: opToken)
            let value = try expressionList()
            return Stmt(.augmentedAssign(target: target, op: op, value: value),
                        cover(target.span, value.span))
        }
        return Stmt(.expression(target), target.span)
    }

    /// Rejects targets that cannot be assigned, with Python's wording.
    func validateTarget(_ target: Expr, augmented: Bool, operatorToken: Token) throws {
        switch target.kind {
        case .name, .member, .index: return
        case .tuple(let items), .list(let items):
            if augmented {
                throw error(at: target.span, "cannot use '\(operatorToken.lexeme)' with several targets")
            }
            for item in items { try validateTarget(item, augmented: false, operatorToken: operatorToken) }
        case .call:
            throw error(at: target.span, "cannot assign to a function call",
                        note: operatorToken.kind == .equal ? "use '==' to compare" : nil)
        case .int, .float, .string, .bool, .none, .fstring, .ellipsis:
            throw error(at: target.span, "cannot assign to a literal",
                        note: operatorToken.kind == .equal ? "use '==' to compare" : nil)
        default:
            throw error(at: target.span, "cannot assign to an expression",
                        note: operatorToken.kind == .equal ? "use '==' to compare" : nil)
        }
    }

    private func defStatement() throws -> Stmt {
        let keyword = advance()
        guard check(.identifier) else {
            throw error(at: peek(), "expected a function name after 'def'",
                        note: peek().kind.rawValue.first!.isLetter && peek().kind != .identifier
                            && peek().kind != .newline && peek().kind != .eof
                            ? "'\(peek().lexeme)' is a reserved word" : nil)
        }
        let name = advance()
        let open = try consume(.leftParen, "expected '(' after the function name")
        openBrackets.append(open)
        let parameters = try parameterList(closer: .rightParen)
        try closeBracket(open, .rightParen, "expected ')' after parameters")
        if check(.minus) && peekNext().kind == .greater {
            throw error(at: peek(), "return annotations ('->') are not supported")
        }
        try consume(.colon, "expected ':' after the parameters of '\(name.lexeme)'")
        let body = try block(after: keyword)
        let decl = FunctionDecl(name: name.lexeme, nameSpan: name.span, parameters: parameters, body: body)
        return Stmt(.def(decl), cover(keyword.span, name.span))
    }

    private func ifStatement() throws -> Stmt {
        let keyword = advance()
        var branches: [ConditionalBlock] = []
        var header = keyword
        repeat {
            let condition = try expression()
            try consumeColon(after: header)
            branches.append(ConditionalBlock(condition: condition, body: try block(after: header)))
            header = peek()
        } while match(.kwElif)
        var orElse: [Stmt]? = nil
        if check(.kwElse) {
            let elseToken = advance()
            try consumeColon(after: elseToken)
            orElse = try block(after: elseToken)
        }
        return Stmt(.if(branches: branches, orElse: orElse), cover(keyword.span, branches[0].condition.span))
    }

    private func forStatement() throws -> Stmt {
        let keyword = advance()
        let target = try targetList()
        let inToken = try consume(.kwIn, "expected 'in' after the loop variable")
        try validateTarget(target, augmented: false, operatorToken: inToken)
        let iterable = try expressionList()
        try consumeColon(after: keyword)
        let body = try block(after: keyword)
        return Stmt(.for(target: target, iterable: iterable, body: body), cover(keyword.span, iterable.span))
    }

    private func whileStatement() throws -> Stmt {
        let keyword = advance()
        let condition = try expression()
        try consumeColon(after: keyword)
        let body = try block(after: keyword)
        return Stmt(.while(condition: condition, body: body), cover(keyword.span, condition.span))
    }

    private func consumeColon(after header: Token) throws {
        if match(.colon) { return }
        let what = header.kind == .kwElse ? "'else'" : "the '\(header.lexeme)' condition"
        let detail = header.kind == .kwFor ? "the 'for' header" : what
        throw error(at: peek(), "expected ':' after \(detail)",
                    note: check(.equal) ? "use '==' to compare" : nil)
    }

    /// The body after a `:` — an indented block, or simple statements on the same line.
    func block(after header: Token) throws -> [Stmt] {
        try deeper("blocks")
        defer { depth -= 1 }
        guard match(.newline) else { return try simpleStatements() }
        guard match(.indent) else {
            throw error(at: peek(), "expected an indented block after '\(header.lexeme)' on line \(header.span.line)")
        }
        var body: [Stmt] = []
        while !check(.dedent) && !check(.eof) {
            body += statementRecovering()
        }
        match(.dedent)
        return body
    }

    // MARK: - Recovery

    /// Skips to the start of the next statement: past the end of this line and past an
    /// indented block that follows it (the body of a broken header), but never out of the
    /// enclosing block.
    func synchronize() {
        openBrackets = []
        while !check(.eof) {
            if check(.dedent) { return }
            if match(.newline) {
                if check(.indent) { skipIndentedBlock() }
                return
            }
            advance()
        }
    }

    /// Skips an INDENT ... matching DEDENT run.
    func skipIndentedBlock() {
        var level = 0
        repeat {
            if check(.indent) { level += 1 } else if check(.dedent) { level -= 1 }
            advance()
        } while level > 0 && !check(.eof)
    }

    private func unsupported(_ t: Token) -> ParseError {
        let note: String
        switch t.lexeme {
        case "import", "from": note = "every builtin is already available; there is nothing to import"
        case "class": note = "build values with builtins and 'def' functions"
        case "assert", "raise": note = "call error(\"message\") to stop with an error"
        default: note = "tfs supports def, if, for, while, return, break, continue and pass"
        }
        return error(at: t, "'\(t.lexeme)' is not supported in tfs scripts", note: note)
    }

    // MARK: - Token helpers

    func peek() -> Token { tokens[current] }

    func peekNext() -> Token { tokens[min(current + 1, tokens.count - 1)] }

    var previous: Token { tokens[max(current - 1, 0)] }

    func check(_ kind: TokenKind) -> Bool { tokens[current].kind == kind }

    @discardableResult
    func advance() -> Token {
        let t = tokens[current]
        if current < tokens.count - 1 { current += 1 }
        return t
    }

    @discardableResult
    func match(_ kind: TokenKind) -> Bool {
        guard check(kind) else { return false }
        advance()
        return true
    }

    @discardableResult
    func consume(_ kind: TokenKind, _ message: String) throws -> Token {
        if check(kind) { return advance() }
        throw error(at: peek(), message)
    }

    /// Reports an error at a token (silently, if the lexer already reported that token).
    /// One level deeper into the nesting budget (the caller undoes it with `defer`).
    func deeper(_ what: String = "expression") throws {
        depth += 1
        if depth > Parser.maxDepth { depth -= 1; throw tooDeep(what, at: peek().span) }
    }

    func tooDeep(_ what: String = "expression", at span: SourceSpan) -> ParseError {
        error(at: span, "\(what) nested too deeply (limit \(Parser.maxDepth))",
              note: what == "expression" ? "split it with intermediate variables" : nil)
    }

    func error(at token: Token, _ message: String, note: String? = nil) -> ParseError {
        if token.kind == .error { return ParseError() }
        return error(at: token.span, message, note: note)
    }

    func error(at span: SourceSpan, _ message: String, note: String? = nil) -> ParseError {
        if let open = openBrackets.last(where: { unclosed.contains($0.span) }) {
            sink.report(.syntax, "'\(open.lexeme)' was never closed", at: open.span)
        } else {
            sink.report(.syntax, message, at: span, note: note)
        }
        return ParseError()
    }

    /// A span from the start of `a` to the end of `b`; if `b` ends on a later line, to the
    /// end of `a`'s line.
    func cover(_ a: SourceSpan, _ b: SourceSpan) -> SourceSpan {
        var s = a
        if b.line == a.line {
            s.length = max(a.length, b.column + b.length - a.column)
        } else if b.line > a.line {
            s.length = max(a.length, (lineEnds[a.line] ?? 0) - a.column)
        }
        return s
    }
}

private let augmentedOperators: [TokenKind: BinaryOperator] = [
    .plusEqual: .add, .minusEqual: .subtract, .starEqual: .multiply, .slashEqual: .divide,
    .doubleSlashEqual: .floorDivide, .percentEqual: .modulo, .atEqual: .matmul,
    .doubleStarEqual: .power, .ampersandEqual: .bitAnd, .pipeEqual: .bitOr,
]
