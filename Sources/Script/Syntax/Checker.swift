import TensorGraph

/// The checking pass run on a cell before it executes. It catches, with a location, the
/// mistakes that need no values: undefined names (with a "did you mean" hint), calls to
/// known functions with wrong arguments, and `return`/`break`/`continue` out of place.
///
/// Scoping follows Python. At the top level of a cell names become defined in statement
/// order. Inside a `def` or `lambda` a name is local if the body binds it anywhere;
/// otherwise it is global, and any global of the cell counts, even one assigned further
/// down (the body runs later, when called). Globals are resolved when the body runs, as in
/// Python, so a body may also use a name a later cell defines: `Outside.laterDefined` says
/// which (any name in the REPL, where the next input is unknown; the names the rest of the
/// file binds when a file runs). Only a name nothing can define is reported.
public final class Checker {
    private let sink: DiagnosticSink
    /// What was defined before this cell, asked per name: a session with thousands of globals
    /// must not copy them all for every cell (a piped REPL checks one cell per line).
    private let outside: Outside
    /// Globals this cell has defined so far, in statement order (top level only).
    private var globals: Set<String> = []
    /// Every global the cell defines anywhere, and the line of its first binding.
    private var cellGlobals: [String: Int] = [:]
    /// Call signatures this cell's top level has set (a def) or removed (nil: another assignment).
    private var signatures: [String: Signature?] = [:]
    private var scopes: [Scope] = []
    private var loopDepth = 0
    private var found: [Diagnostic] = []

    /// A function, lambda or comprehension scope.
    private struct Scope {
        var names: Set<String>
        var signatures: [String: Signature] = [:]
        /// Runs later (def, lambda), so it may use globals assigned later in the cell.
        var isDeferred: Bool
    }

    /// - Parameters:
    ///   - defined: names already defined: globals from earlier cells and value builtins.
    ///   - signatures: callables with a known signature (builtins and earlier `def`s); their
    ///     names count as defined too.
    public convenience init(defined: Set<String>, signatures: [String: Signature], sink: DiagnosticSink) {
        self.init(outside: Outside(isDefined: { defined.contains($0) || signatures[$0] != nil },
                                   signature: { signatures[$0] }, names: { defined.union(signatures.keys) }),
                  sink: sink)
    }

    public init(outside: Outside, sink: DiagnosticSink) {
        self.outside = outside
        self.sink = sink
    }

    /// The names defined before a cell, as lookups. A name with a signature counts as defined.
    public struct Outside {
        public var isDefined: (String) -> Bool
        public var signature: (String) -> Signature?
        /// All of them, for "did you mean" hints (asked only when a name is undefined).
        public var names: () -> Set<String>
        /// Whether a later cell may define the name (a function body may use it: it runs later).
        public var laterDefined: (String) -> Bool
        public init(isDefined: @escaping (String) -> Bool, signature: @escaping (String) -> Signature?,
                    names: @escaping () -> Set<String>, laterDefined: @escaping (String) -> Bool = { _ in false }) {
            self.isDefined = isDefined; self.signature = signature; self.names = names
            self.laterDefined = laterDefined
        }
    }

    /// Checks a cell; reports its problems to the sink in source order.
    public func check(_ program: [Stmt]) {
        cellGlobals = [:]
        for (name, line) in boundNames(program) where cellGlobals[name] == nil {
            cellGlobals[name] = line
        }
        found = []
        checkBlock(program)
        found.sort { ($0.span.line, $0.span.column) < ($1.span.line, $1.span.column) }
        found.forEach(sink.report)
    }

    // MARK: - Statements

    private func checkBlock(_ statements: [Stmt]) {
        for s in statements { checkStatement(s) }
    }

    private func checkStatement(_ s: Stmt) {
        switch s.kind {
        case .expression(let e):
            checkExpr(e)
        case .assign(let target, let value):
            checkExpr(value)
            bind(target, signature: nil)
        case .augmentedAssign(let target, _, let value):
            checkExpr(target)    // `x += 1` reads x first
            checkExpr(value)
        case .def(let decl):
            checkDef(decl)
        case .return(let value):
            if let value { checkExpr(value) }
            if !scopes.contains(where: \.isDeferred) {
                report(.syntax, "'return' outside function", s.span)
            }
        case .if(let branches, let orElse):
            for branch in branches {
                checkExpr(branch.condition)
                checkBlock(branch.body)
            }
            if let orElse { checkBlock(orElse) }
        case .for(let target, let iterable, let body):
            checkExpr(iterable)
            bind(target, signature: nil)
            loop(body)
        case .while(let condition, let body):
            checkExpr(condition)
            loop(body)
        case .break, .continue:
            if loopDepth == 0 {
                report(.syntax, "'\(s.kind == .break ? "break" : "continue")' outside loop", s.span)
            }
        case .pass:
            break
        }
    }

    /// A loop body may read names it assigns further down (they exist from the second
    /// iteration on), so those are defined before the body is checked.
    private func loop(_ body: [Stmt]) {
        for (name, _) in boundNames(body) { define(name) }
        loopDepth += 1
        checkBlock(body)
        loopDepth -= 1
    }

    private func checkDef(_ decl: FunctionDecl) {
        for p in decl.parameters.params { if let d = p.defaultValue { checkExpr(d) } }
        define(decl.name)
        setSignature(decl.name, decl.parameters.signature)
        let locals = Set(decl.parameters.boundNames).union(boundNames(decl.body).map(\.0))
        let savedLoops = loopDepth
        loopDepth = 0
        scopes.append(Scope(names: locals, isDeferred: true))
        checkBlock(decl.body)
        scopes.removeLast()
        loopDepth = savedLoops
    }

    // MARK: - Expressions

    private func checkExpr(_ e: Expr) {
        switch e.kind {
        case .int, .float, .string, .bool, .none, .ellipsis:
            break
        case .name(let name):
            resolve(name, e.span)
        case .fstring(let parts):
            for case .value(let v, _) in parts { checkExpr(v) }
        case .list(let items), .tuple(let items):
            items.forEach(checkExpr)
        case .dict(let entries):
            for entry in entries { checkExpr(entry.key); checkExpr(entry.value) }
        case .listComprehension(let element, let target, let iterable, let condition):
            checkExpr(iterable)
            scopes.append(Scope(names: Set(targetNames(target)), isDeferred: false))
            if let condition { checkExpr(condition) }
            checkExpr(element)
            scopes.removeLast()
        case .unary(_, let operand):
            checkExpr(operand)
        case .binary(_, let l, let r), .logical(_, let l, let r):
            checkExpr(l); checkExpr(r)
        case .conditional(let condition, let then, let otherwise):
            checkExpr(condition); checkExpr(then); checkExpr(otherwise)
        case .lambda(let parameters, let body):
            for p in parameters.params { if let d = p.defaultValue { checkExpr(d) } }
            scopes.append(Scope(names: Set(parameters.boundNames), isDeferred: true))
            checkExpr(body)
            scopes.removeLast()
        case .call(let callee, let arguments):
            checkExpr(callee)
            arguments.forEach { checkExpr($0.value) }
            if case .name(let name) = callee.kind, let signature = signature(of: name) {
                checkArguments(arguments, against: signature, name: name, call: e.span)
            }
        case .member(let object, _, _):
            checkExpr(object)
        case .index(let object, let subscripts):
            checkExpr(object)
            subscripts.forEach(checkExpr)
        case .slice(let lower, let upper, let step):
            [lower, upper, step].compactMap { $0 }.forEach(checkExpr)
        }
    }

    // MARK: - Names

    private func resolve(_ name: String, _ span: SourceSpan) {
        if scopes.contains(where: { $0.names.contains(name) }) || globals.contains(name) || outside.isDefined(name) { return }
        let deferred = scopes.contains(where: \.isDeferred)
        if deferred && (cellGlobals[name] != nil || outside.laterDefined(name)) { return }
        var note: String? = nil
        if let line = cellGlobals[name] {
            note = "'\(name)' is assigned later, on line \(line); move this use below it"
        } else if let suggestion = closestName(to: name, among: visibleNames(deferred: deferred)) {
            note = "did you mean '\(suggestion)'?"
        }
        report(.name, "undefined name '\(name)'", span, note: note)
    }

    private func visibleNames(deferred: Bool) -> Set<String> {
        var names = globals.union(outside.names())
        for scope in scopes { names.formUnion(scope.names) }
        if deferred { names.formUnion(cellGlobals.keys) }
        return names
    }

    /// Defines the names a target binds; a plain-name target loses any known signature.
    private func bind(_ target: Expr, signature: Signature?) {
        for name in targetNames(target) {
            define(name)
            setSignature(name, signature)
        }
        // `obj.x = v` and `a[i] = v` read `obj` and `a`.
        switch target.kind {
        case .member, .index: checkExpr(target)
        case .tuple(let items), .list(let items):
            for item in items { if case .name = item.kind {} else { bind(item, signature: nil) } }
        default: break
        }
    }

    private func define(_ name: String) {
        if scopes.isEmpty { globals.insert(name) } else { scopes[scopes.count - 1].names.insert(name) }
    }

    private func setSignature(_ name: String, _ signature: Signature?) {
        if scopes.isEmpty { signatures[name] = .some(signature) } else { scopes[scopes.count - 1].signatures[name] = signature }
    }

    /// The signature a call to `name` would use here, if known: the innermost scope binding
    /// the name decides (a local that is not a `def` has none).
    private func signature(of name: String) -> Signature? {
        for scope in scopes.reversed() where scope.names.contains(name) {
            return scope.signatures[name]
        }
        if let set = signatures[name] { return set }
        return outside.signature(name)
    }

    // MARK: - Arguments

    private func checkArguments(_ arguments: [CallArgument], against signature: Signature,
                                name: String, call: SourceSpan) {
        let positional = arguments.filter { $0.label == nil }
        let slots = signature.positional
        if positional.count > slots.count && !signature.variadic {
            report(.arity, "too many positional arguments to '\(name)': expected at most \(slots.count), got \(positional.count)",
                   positional[slots.count].value.span)
            return
        }
        var filled = Set(slots.prefix(positional.count).map(\.name))
        for argument in arguments {
            guard let written = argument.label, let labelSpan = argument.labelSpan else { continue }
            let label = keywordName(written, among: signature.params.map(\.name))
            if signature.params.contains(where: { $0.name == label }) {
                if !filled.insert(label).inserted {
                    report(.arity, "'\(name)' got multiple values for argument '\(label)'", labelSpan)
                }
            } else if !signature.kwargs {
                let hint = closestName(to: label, among: signature.params.map(\.name))
                let accepted = signature.params.map(\.name).joined(separator: ", ")
                report(.arity, "unknown keyword argument '\(label)' for '\(name)'", labelSpan,
                       note: hint.map { "did you mean '\($0)'?" }
                           ?? (accepted.isEmpty ? "'\(name)' takes no keyword arguments"
                                                : "'\(name)' accepts: \(accepted)"))
            }
        }
        let missing = signature.params.filter { !$0.hasDefault && !filled.contains($0.name) }.map { "'\($0.name)'" }
        if !missing.isEmpty {
            let noun = missing.count == 1 ? "argument" : "arguments"
            report(.arity, "'\(name)' is missing required \(noun) \(missing.joined(separator: ", "))", call)
        }
    }

    private func report(_ kind: Diagnostic.Kind, _ message: String, _ span: SourceSpan, note: String? = nil) {
        found.append(Diagnostic(kind, message, at: span, note: note))
    }
}

// MARK: - Binding analysis

/// Names a target binds: `x` binds x, `a, (b, c)` binds a, b, c; `o.x` and `a[i]` bind nothing.
func targetNames(_ target: Expr) -> [String] {
    switch target.kind {
    case .name(let n): return [n]
    case .tuple(let items), .list(let items): return items.flatMap(targetNames)
    default: return []
    }
}

/// Names bound anywhere in a block (assignments, loop variables, defs), not looking inside
/// nested function bodies; with their lines, in source order.
func boundNames(_ statements: [Stmt]) -> [(String, Int)] {
    var out: [(String, Int)] = []
    func visit(_ s: Stmt) {
        let line = s.span.line
        switch s.kind {
        case .assign(let target, _), .augmentedAssign(let target, _, _):
            out += targetNames(target).map { ($0, line) }
        case .for(let target, _, let body):
            out += targetNames(target).map { ($0, line) }
            body.forEach(visit)
        case .def(let decl): out.append((decl.name, line))
        case .if(let branches, let orElse):
            branches.forEach { $0.body.forEach(visit) }
            orElse?.forEach(visit)
        case .while(_, let body): body.forEach(visit)
        default: break
        }
    }
    statements.forEach(visit)
    return out
}
