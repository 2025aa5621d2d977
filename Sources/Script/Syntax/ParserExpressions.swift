import TensorGraph

// Expression grammar, lowest precedence first (Python's order):
//
//   expressionList → expression ("," expression)* [","]          (a tuple if there is a comma)
//   expression     → "lambda" parameters ":" expression
//                  | disjunction ["if" disjunction "else" expression]
//   disjunction    → conjunction ("or" conjunction)*
//   conjunction    → inversion ("and" inversion)*
//   inversion      → "not" inversion | comparison
//   comparison     → bitOr [compareOp bitOr]          (no chains: a < b < c is an error)
//   bitOr          → bitAnd ("|" bitAnd)*
//   bitAnd         → shift ("&" shift)*
//   shift          → sum (("<<" | ">>") sum)*
//   sum            → term (("+" | "-") term)*
//   term           → factor (("*" | "/" | "//" | "%" | "@") factor)*
//   factor         → ("-" | "+" | "~") factor | power
//   power          → postfix ["**" factor]             (right-assoc; -x**2 is -(x**2))
//   postfix        → primary ("(" arguments ")" | "[" subscripts "]" | "." name)*
//   primary        → number | string+ | f-string | True | False | None | name | "..."
//                  | "(" [expressionList] ")" | "[" list or comprehension "]" | "{" dict "}"

// Operator tables, built once (a dictionary literal in a hot function is rebuilt per call).
private let comparisonOperators: [TokenKind: BinaryOperator] = [
    .equalEqual: .equal, .bangEqual: .notEqual, .less: .less, .lessEqual: .lessEqual,
    .greater: .greater, .greaterEqual: .greaterEqual, .kwIn: .in,
]
private let bitOrOperators: [TokenKind: BinaryOperator] = [.pipe: .bitOr]
private let bitAndOperators: [TokenKind: BinaryOperator] = [.ampersand: .bitAnd]
private let shiftOperators: [TokenKind: BinaryOperator] = [.shiftLeft: .shiftLeft, .shiftRight: .shiftRight]
private let sumOperators: [TokenKind: BinaryOperator] = [.plus: .add, .minus: .subtract]
private let termOperators: [TokenKind: BinaryOperator] = [
    .star: .multiply, .slash: .divide, .doubleSlash: .floorDivide, .percent: .modulo, .at: .matmul,
]
private let unaryOperators: [TokenKind: UnaryOperator] = [.minus: .negate, .plus: .plus, .tilde: .invert]

extension Parser {
    /// Expressions separated by commas: one expression, or a tuple (`a, b = b, a`).
    func expressionList() throws -> Expr {
        let first = try expression()
        guard check(.comma) else { return first }
        var items = [first]
        while match(.comma) {
            if !startsExpression(peek()) { break }
            items.append(try expression())
        }
        return try node(.tuple(items), cover(first.span, items.last!.span))
    }

    /// Loop targets: `x`, `i, x`, `(a, b), c` — stops before `in`.
    func targetList() throws -> Expr {
        let first = try bitOr()
        guard check(.comma) else { return first }
        var items = [first]
        while match(.comma) {
            if check(.kwIn) { break }
            items.append(try bitOr())
        }
        return try node(.tuple(items), cover(first.span, items.last!.span))
    }

    func expression() throws -> Expr {
        try deeper()
        defer { depth -= 1 }
        if check(.kwLambda) { return try lambda() }
        let then = try disjunction()
        guard match(.kwIf) else { return then }
        let condition = try disjunction()
        try consume(.kwElse, "expected 'else' in conditional expression")
        let otherwise = try expression()
        return try node(.conditional(condition: condition, then: then, otherwise: otherwise),
                    cover(then.span, otherwise.span))
    }

    private func lambda() throws -> Expr {
        let keyword = advance()
        let parameters = try parameterList(closer: .colon)
        try consume(.colon, "expected ':' after lambda parameters")
        let body = try expression()
        return try node(.lambda(parameters, body: body), cover(keyword.span, body.span))
    }

    private func disjunction() throws -> Expr {
        var left = try conjunction()
        while match(.kwOr) {
            let right = try conjunction()
            left = try node(.logical(.or, left, right), cover(left.span, right.span))
        }
        return left
    }

    private func conjunction() throws -> Expr {
        var left = try inversion()
        while match(.kwAnd) {
            let right = try inversion()
            left = try node(.logical(.and, left, right), cover(left.span, right.span))
        }
        return left
    }

    private func inversion() throws -> Expr {
        guard check(.kwNot) else { return try comparison() }
        let op = advance()
        let operand = try nested { try self.inversion() }
        return try node(.unary(.not, operand), cover(op.span, operand.span))
    }

    private func comparison() throws -> Expr {
        let left = try bitOr()
        guard let op = comparisonOperator() else { return left }
        let right = try bitOr()
        if let _ = comparisonOperator() {
            throw error(at: previous, "chained comparisons like 'a < b < c' are not supported",
                        note: "write 'a < b and b < c'")
        }
        return try node(.binary(op, left, right), cover(left.span, right.span))
    }

    /// Consumes a comparison operator (`not in` and `is not` are two tokens) if one is next.
    private func comparisonOperator() -> BinaryOperator? {
        if let op = comparisonOperators[peek().kind] { advance(); return op }
        if check(.kwNot) && peekNext().kind == .kwIn { advance(); advance(); return .notIn }
        if match(.kwIs) { return match(.kwNot) ? .isNot : .is }
        return nil
    }

    private func bitOr() throws -> Expr {
        try leftAssociative(bitOrOperators, next: bitAnd)
    }

    private func bitAnd() throws -> Expr {
        try leftAssociative(bitAndOperators, next: shift)
    }

    private func shift() throws -> Expr {
        try leftAssociative(shiftOperators, next: sum)
    }

    private func sum() throws -> Expr {
        try leftAssociative(sumOperators, next: term)
    }

    private func term() throws -> Expr {
        try leftAssociative(termOperators, next: factor)
    }

    /// `operand (op operand)*`, grouping to the left.
    private func leftAssociative(_ ops: [TokenKind: BinaryOperator],
                                 next: () throws -> Expr) throws -> Expr {
        var left = try next()
        while let op = ops[peek().kind] {
            advance()
            let right = try next()
            left = try node(.binary(op, left, right), cover(left.span, right.span))
        }
        return left
    }

    private func factor() throws -> Expr {
        guard let op = unaryOperators[peek().kind] else { return try power() }
        let token = advance()
        let operand = try nested { try self.factor() }
        return try node(.unary(op, operand), cover(token.span, operand.span))
    }

    private func power() throws -> Expr {
        let base = try postfix()
        guard match(.doubleStar) else { return base }
        let exponent = try nested { try self.factor() }   // right operand may be -x or a**b
        return try node(.binary(.power, base, exponent), cover(base.span, exponent.span))
    }

    /// Runs `body` one level deeper, for recursions that bypass `expression()`.
    private func nested(_ body: () throws -> Expr) throws -> Expr {
        try deeper()
        defer { depth -= 1 }
        return try body()
    }

    /// A node of the tree, refused if it makes the tree taller than the nesting limit: chains
    /// like `a + b + …` or `x.f().g()…` are parsed by loops, not recursion, but build trees as
    /// tall as they are long, and every later pass (checker, interpreter, printer) recurses.
    func node(_ kind: Expr.Kind, _ span: SourceSpan) throws -> Expr {
        let e = Expr(kind, span)
        if e.height > Parser.maxDepth { throw tooDeep(at: span) }
        return e
    }

    // MARK: - Postfix: calls, subscripts, members

    private func postfix() throws -> Expr {
        var e = try primary()
        while true {
            if check(.leftParen) {
                e = try call(e)
            } else if check(.leftBracket) {
                e = try subscripts(e)
            } else if match(.dot) {
                let name = peek()
                // Keywords are fine as attribute names: `model.with(mask=causal)`.
                guard name.kind == .identifier || name.lexeme.first?.isLetter == true else {
                    throw error(at: name, "expected an attribute name after '.'")
                }
                advance()
                e = try node(.member(e, name: name.lexeme, nameSpan: name.span), cover(e.span, name.span))
            } else {
                return e
            }
        }
    }

    private func call(_ callee: Expr) throws -> Expr {
        let open = advance()
        openBrackets.append(open)
        var arguments: [CallArgument] = []
        var seenLabels: Set<String> = []
        while !check(.rightParen) {
            let argument = try self.argument()
            if let label = argument.label {
                guard seenLabels.insert(label).inserted else {
                    throw error(at: argument.labelSpan!, "keyword argument '\(label)' repeated")
                }
            } else if !seenLabels.isEmpty {
                throw error(at: argument.value.span, "positional argument follows keyword argument")
            }
            arguments.append(argument)
            if check(.kwFor) {
                throw error(at: peek(), "generator expressions are not supported",
                            note: "pass a list comprehension: [... for ... in ...]")
            }
            if !match(.comma) { break }
        }
        let close = try closeBracket(open, .rightParen, "expected ')' after arguments")
        return try node(.call(callee: callee, arguments: arguments), cover(callee.span, close.span))
    }

    private func argument() throws -> CallArgument {
        let t = peek()
        if t.kind == .star || t.kind == .doubleStar {
            throw error(at: t, "unpacking arguments with '\(t.lexeme)' is not supported")
        }
        if (t.kind == .identifier || t.kind == .kwUnsupported) && peekNext().kind == .equal {
            advance(); advance()
            let value = try expression()
            return CallArgument(label: t.lexeme, labelSpan: t.span, value: value)
        }
        let value = try expression()
        if check(.equal) {
            throw error(at: value.span, "a keyword argument needs a plain name before '='",
                        note: "use '==' to compare")
        }
        return CallArgument(value: value)
    }

    /// `[i]`, `[1:3]`, `[:, 0]`, `[::2]`, `[..., -1]`.
    private func subscripts(_ object: Expr) throws -> Expr {
        let open = advance()
        openBrackets.append(open)
        var items: [Expr] = []
        repeat {
            if check(.rightBracket) && !items.isEmpty { break }
            items.append(try subscriptItem())
        } while match(.comma)
        let close = try closeBracket(open, .rightBracket, "expected ']' after index")
        return try node(.index(object, subscripts: items), cover(object.span, close.span))
    }

    private func subscriptItem() throws -> Expr {
        let start = peek()
        if start.kind == .rightBracket {
            throw error(at: start, "expected an index inside '[]'")
        }
        let lower = check(.colon) ? nil : try expression()
        guard check(.colon) else { return lower! }
        var end = advance()
        var upper: Expr? = nil, step: Expr? = nil
        if startsExpression(peek()) { upper = try expression(); end = previous }
        if check(.colon) {
            end = advance()
            if startsExpression(peek()) { step = try expression(); end = previous }
        }
        return try node(.slice(lower: lower, upper: upper, step: step), cover(start.span, end.span))
    }

    // MARK: - Primary

    private func primary() throws -> Expr {
        let t = peek()
        switch t.kind {
        case .int, .float:
            advance()
            if case .int(let v)? = t.value { return Expr(.int(v), t.span) }
            if case .float(let v)? = t.value { return Expr(.float(v), t.span) }
            return Expr(.int(0), t.span)
        case .string, .fstring: return try strings()
        case .kwTrue: advance(); return Expr(.bool(true), t.span)
        case .kwFalse: advance(); return Expr(.bool(false), t.span)
        case .kwNone: advance(); return Expr(.none, t.span)
        case .ellipsis: advance(); return Expr(.ellipsis, t.span)
        case .identifier: advance(); return Expr(.name(t.lexeme), t.span)
        case .leftParen: return try parenthesized()
        case .leftBracket: return try listDisplay()
        case .leftBrace: return try dictDisplay()
        case .kwLambda: return try lambda()
        default: throw unexpectedInExpression(t)
        }
    }

    /// The error for a token that cannot start an expression, worded by what it is.
    private func unexpectedInExpression(_ t: Token) -> ParseError {
        switch t.kind {
        case .rightParen, .rightBracket, .rightBrace:
            guard let open = openBrackets.last else { return error(at: t, "unmatched '\(t.lexeme)'") }
            if closer(of: open) != t.kind {
                return error(at: t, "closing '\(t.lexeme)' does not match opening '\(open.lexeme)'",
                             note: "'\(open.lexeme)' opened at \(open.span)")
            }
            return error(at: t, "expected an expression before '\(t.lexeme)'")
        case .newline, .eof, .dedent, .indent:
            if t.kind == .eof, let open = openBrackets.last {
                return error(at: open.span, "'\(open.lexeme)' was never closed")
            }
            let p = previous
            if [.newline, .indent, .dedent].contains(p.kind) || current == 0 {
                return error(at: t, "expected an expression")
            }
            return error(at: t, "expected an expression after '\(p.lexeme)'")
        case .kwUnsupported:
            return error(at: t, "'\(t.lexeme)' is not supported in tfs scripts")
        case .ampersand where previous.kind == .ampersand, .pipe where previous.kind == .pipe:
            let word = t.kind == .ampersand ? "and" : "or"
            return error(at: previous, "'\(t.lexeme)\(t.lexeme)' is not an operator; use '\(word)'")
        default:
            return error(at: t, "expected an expression, found \(t.quoted)")
        }
    }

    /// Adjacent string literals join into one, as in Python: `"a" "b"` is `"ab"`.
    private func strings() throws -> Expr {
        var parts: [FStringPart] = []
        var span = peek().span
        var isFormatted = false
        while check(.string) || check(.fstring) {
            let t = advance()
            span = cover(span, t.span)
            guard case .string(let text)? = t.value else { continue }
            if t.kind == .fstring {
                isFormatted = true
                parts += try fstringParts(t, raw: text)
            } else {
                parts.append(.text(text))
            }
        }
        if !isFormatted {
            let text = parts.map { if case .text(let s) = $0 { return s } else { return "" } }.joined()
            return Expr(.string(text), span)
        }
        return try node(.fstring(mergeText(parts)), span)
    }

    private func mergeText(_ parts: [FStringPart]) -> [FStringPart] {
        var merged: [FStringPart] = []
        for part in parts {
            if case .text(let b) = part, case .text(let a)? = merged.last {
                merged[merged.count - 1] = .text(a + b)
            } else {
                merged.append(part)
            }
        }
        return merged.filter { $0 != .text("") }
    }

    /// `(e)`, `()`, `(a,)`, `(a, b)`.
    private func parenthesized() throws -> Expr {
        let open = advance()
        openBrackets.append(open)
        if check(.rightParen) {
            let close = advance()
            openBrackets.removeLast()
            return Expr(.tuple([]), cover(open.span, close.span))
        }
        let first = try expression()
        var items = [first], isTuple = false
        while match(.comma) {
            isTuple = true
            if check(.rightParen) { break }
            items.append(try expression())
        }
        if check(.kwFor) {
            throw error(at: peek(), "generator expressions are not supported",
                        note: "use a list comprehension: [... for ... in ...]")
        }
        let close = try closeBracket(open, .rightParen, "expected ')' after expression")
        return isTuple ? try node(.tuple(items), cover(open.span, close.span)) : first
    }

    /// `[a, b]` or `[element for target in iterable if condition]`.
    private func listDisplay() throws -> Expr {
        let open = advance()
        openBrackets.append(open)
        var items: [Expr] = []
        while !check(.rightBracket) {
            items.append(try expression())
            if items.count == 1 && check(.kwFor) { return try comprehension(open, element: items[0]) }
            if !match(.comma) { break }
        }
        let close = try closeBracket(open, .rightBracket, "expected ']' after list elements")
        return try node(.list(items), cover(open.span, close.span))
    }

    private func comprehension(_ open: Token, element: Expr) throws -> Expr {
        advance()   // for
        let target = try targetList()
        let inToken = try consume(.kwIn, "expected 'in' after the loop variable")
        try validateTarget(target, augmented: false, operatorToken: inToken)
        let iterable = try nested { try self.disjunction() }
        let condition = match(.kwIf) ? try nested { try self.disjunction() } : nil
        if check(.kwFor) {
            throw error(at: peek(), "only one 'for' is supported in a list comprehension")
        }
        let close = try closeBracket(open, .rightBracket, "expected ']' after list comprehension")
        return try node(.listComprehension(element: element, target: target, iterable: iterable,
                                       condition: condition), cover(open.span, close.span))
    }

    /// `{}` or `{key: value, ...}`.
    private func dictDisplay() throws -> Expr {
        let open = advance()
        openBrackets.append(open)
        var entries: [DictEntry] = []
        while !check(.rightBrace) {
            let key = try expression()
            guard match(.colon) else {
                if check(.comma) || check(.rightBrace) {
                    throw error(at: key.span, "set literals are not supported",
                                note: "write a dict as {key: value} or a list as [a, b]")
                }
                throw error(at: peek(), "expected ':' after dict key")
            }
            entries.append(DictEntry(key: key, value: try expression()))
            if !match(.comma) { break }
        }
        let close = try closeBracket(open, .rightBrace, "expected '}' after dict entries")
        return try node(.dict(entries), cover(open.span, close.span))
    }

    // MARK: - Brackets

    /// Consumes the bracket closing `open`, or explains why it is missing: never closed (end
    /// of input, or the next line starts a new statement), closed by the wrong bracket, or
    /// interrupted (probably a missing comma).
    @discardableResult
    func closeBracket(_ open: Token, _ kind: TokenKind, _ message: String) throws -> Token {
        if check(kind) {
            if openBrackets.last == open { openBrackets.removeLast() }
            return advance()
        }
        let t = peek()
        if t.kind == .eof || (t.span.line > previous.span.line && t.span.column <= statementColumn) {
            throw error(at: open.span, "'\(open.lexeme)' was never closed")
        }
        if [.rightParen, .rightBracket, .rightBrace].contains(t.kind) {
            throw error(at: t, "closing '\(t.lexeme)' does not match opening '\(open.lexeme)'",
                        note: "'\(open.lexeme)' opened at \(open.span)")
        }
        throw error(at: t, message, note: startsExpression(t) ? "did you forget a comma?" : nil)
    }

    private func closer(of open: Token) -> TokenKind {
        switch open.kind {
        case .leftParen: return .rightParen
        case .leftBracket: return .rightBracket
        default: return .rightBrace
        }
    }

    /// Whether `t` can begin an expression (used for optional parts and "missing comma" hints).
    func startsExpression(_ t: Token) -> Bool {
        switch t.kind {
        case .identifier, .int, .float, .string, .fstring, .kwTrue, .kwFalse, .kwNone, .ellipsis,
             .leftParen, .leftBracket, .leftBrace, .minus, .plus, .tilde, .kwNot, .kwLambda:
            return true
        default: return false
        }
    }

    // MARK: - Parameters

    /// `a, b=2, *args, c, d=4, **kwargs` up to (not including) `closer`.
    func parameterList(closer: TokenKind) throws -> ParameterList {
        var result = ParameterList()
        var keywordOnly = false, seenDefault = false, names: Set<String> = []
        while !check(closer) {
            if result.kwargs != nil {
                throw error(at: peek(), "no parameter may follow '**\(result.kwargs!)'")
            }
            if match(.doubleStar) {
                let name = try parameterName(&names)
                result.kwargs = name.lexeme
            } else if check(.star) {
                let star = advance()
                if keywordOnly { throw error(at: star, "'*' may appear only once in parameters") }
                keywordOnly = true
                if check(.identifier) {
                    result.varargs = try parameterName(&names).lexeme
                } else if check(closer) || !check(.comma) || peekNext().kind == closer {
                    throw error(at: star, "named parameters must follow a bare '*'")
                }
            } else {
                let name = try parameterName(&names)
                if check(.colon) && closer == .rightParen {
                    throw error(at: peek(), "type annotations are not supported")
                }
                var defaultValue: Expr? = nil
                if match(.equal) { defaultValue = try expression(); seenDefault = true }
                else if seenDefault && !keywordOnly {
                    throw error(at: name, "parameter without a default follows a parameter with a default")
                }
                result.params.append(ParameterDecl(name: name.lexeme, span: name.span,
                                               defaultValue: defaultValue, keywordOnly: keywordOnly))
            }
            if !match(.comma) { break }
        }
        return result
    }

    private func parameterName(_ names: inout Set<String>) throws -> Token {
        guard check(.identifier) else {
            throw error(at: peek(), "expected a parameter name, found \(peek().quoted)")
        }
        let name = advance()
        guard names.insert(name.lexeme).inserted else {
            throw error(at: name, "duplicate parameter '\(name.lexeme)'")
        }
        return name
    }
}
