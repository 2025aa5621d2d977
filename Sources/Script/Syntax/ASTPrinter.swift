// S-expression text for syntax trees: `a + b * c` prints as `(+ a (* b c))`. Used by tests to
// state a tree's shape in one line, and handy when debugging the interpreter.

extension Expr: CustomStringConvertible {
    public var description: String {
        switch kind {
        case .int(let v): return String(v)
        case .float(let v): return String(v)
        case .string(let s): return s.debugDescription
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .ellipsis: return "..."
        case .name(let n): return n
        case .fstring(let parts): return sexp("f", parts.map(describe))
        case .list(let items): return sexp("list", items.map(\.description))
        case .tuple(let items): return sexp("tuple", items.map(\.description))
        case .dict(let entries): return sexp("dict", entries.map { "(\($0.key) \($0.value))" })
        case .listComprehension(let element, let target, let iterable, let condition):
            return sexp("listcomp", [element, target, iterable].map(\.description)
                        + (condition.map { ["if", $0.description] } ?? []))
        case .unary(let op, let x): return sexp(op.rawValue, [x.description])
        case .binary(let op, let l, let r): return sexp(op.rawValue, [l.description, r.description])
        case .logical(let op, let l, let r): return sexp(op.rawValue, [l.description, r.description])
        case .conditional(let c, let t, let o): return sexp("if", [c, t, o].map(\.description))
        case .lambda(let params, let body): return sexp("lambda", [params.description, body.description])
        case .call(let callee, let args): return sexp("call", [callee.description] + args.map(describe))
        case .member(let object, let name, _): return sexp(".", [object.description, name])
        case .index(let object, let subs): return sexp("index", [object.description] + subs.map(\.description))
        case .slice(let l, let u, let s):
            return sexp("slice", [l, u, s].map { $0?.description ?? "_" })
        }
    }

    private func describe(_ part: FStringPart) -> String {
        switch part {
        case .text(let s): return s.debugDescription
        case .value(let e, let format): return "{\(e)\(format.map { ":" + $0 } ?? "")}"
        }
    }

    private func describe(_ a: CallArgument) -> String {
        a.label.map { "\($0)=\(a.value)" } ?? a.value.description
    }
}

extension ParameterList: CustomStringConvertible {
    public var description: String {
        var parts: [String] = []
        var starred = false
        for p in params {
            if p.keywordOnly && !starred {
                starred = true
                parts.append(varargs.map { "*" + $0 } ?? "*")
            }
            parts.append(p.name + (p.defaultValue.map { "=\($0)" } ?? ""))
        }
        if !starred, let v = varargs { parts.append("*" + v) }
        if let k = kwargs { parts.append("**" + k) }
        return "(" + parts.joined(separator: " ") + ")"
    }
}

extension Stmt: CustomStringConvertible {
    public var description: String {
        switch kind {
        case .expression(let e): return e.description
        case .assign(let t, let v): return sexp("=", [t.description, v.description])
        case .augmentedAssign(let t, let op, let v): return sexp(op.rawValue + "=", [t.description, v.description])
        case .def(let d): return sexp("def", [d.name, d.parameters.description, block(d.body)])
        case .return(let v): return sexp("return", v.map { [$0.description] } ?? [])
        case .if(let branches, let orElse):
            let parts = branches.map { "(\($0.condition) \(block($0.body)))" }
            return sexp("if", parts + (orElse.map { ["(else \(block($0)))"] } ?? []))
        case .for(let t, let it, let body): return sexp("for", [t.description, it.description, block(body)])
        case .while(let c, let body): return sexp("while", [c.description, block(body)])
        case .break: return "break"
        case .continue: return "continue"
        case .pass: return "pass"
        }
    }

    private func block(_ body: [Stmt]) -> String { sexp("block", body.map(\.description)) }
}

private func sexp(_ head: String, _ items: [String]) -> String {
    "(" + ([head] + items).joined(separator: " ") + ")"
}
