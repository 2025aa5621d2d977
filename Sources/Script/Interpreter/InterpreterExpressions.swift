import TensorGraph

extension Interpreter {
    /// Evaluates an expression. Errors raised without a location get this expression's span.
    func evaluate(_ e: Expr, _ scope: Scope) throws -> Value {
        try located(e.span) { try evaluateKind(e, scope) }
    }

    /// Runs `body`, giving its location-less errors (and graph errors) the span `span`.
    func located<T>(_ span: SourceSpan, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var error as RuntimeError {
            if error.span == nil { error.span = span }
            throw error
        } catch let error as TensorGraphError {
            throw error.runtime(at: span)
        }
    }

    /// As `located`, and graph nodes built inside record `span` as their source: shape
    /// errors and drawings then point at the script expression.
    func building<T>(_ span: SourceSpan, _ body: () throws -> T) throws -> T {
        try located(span) { try BuildContext.with(span, body) }
    }

    private func evaluateKind(_ e: Expr, _ scope: Scope) throws -> Value {
        if let v = Value(scalarLiteral: e.kind) { return v }
        switch e.kind {
        case .int, .float, .string, .bool, .none: fatalError("unreachable: scalar literals handled above")
        case .ellipsis: return .object(EllipsisObject.shared)
        case .fstring(let parts): return .string(try fstring(parts, scope))
        case .name(let name):
            guard let v = lookup(name, scope) else { throw undefinedName(name, scope) }
            return v
        case .list(let items): return .list(try items.map { try evaluate($0, scope) })
        case .tuple(let items): return .tuple(try items.map { try evaluate($0, scope) })
        case .dict(let entries): return try dict(entries, scope)
        case .listComprehension(let element, let target, let iterable, let condition):
            return try comprehension(element, target, iterable, condition, scope)
        case .unary(let op, let operand):
            let v = try evaluate(operand, scope)
            return try building(e.span) { try unary(op, v) }
        case .binary(let op, let l, let r):
            let a = try evaluate(l, scope), b = try evaluate(r, scope)
            return try building(e.span) { try binary(op, a, b) }
        case .logical(let op, let l, let r):
            let a = try evaluate(l, scope)
            let decided = try located(l.span) { try a.isTruthy() } == (op == .or)
            return decided ? a : try evaluate(r, scope)
        case .conditional(let condition, let then, let otherwise):
            let c = try evaluate(condition, scope)
            return try located(condition.span) { try c.isTruthy() }
                ? try evaluate(then, scope) : try evaluate(otherwise, scope)
        case .lambda(let parameters, let body):
            return .function(Function(name: "<lambda>", parameters: parameters, body: .expression(body),
                                      defaults: try evaluateDefaults(parameters, scope), closure: scope, span: e.span))
        case .call(let callee, let arguments):
            return try call(callee, arguments, e.span, scope)
        case .member(let object, let name, let nameSpan):
            let o = try evaluate(object, scope)
            return try building(nameSpan) { try member(o, name) }
        case .index(let object, let subscripts):
            let o = try evaluate(object, scope)
            let keys = try subscripts.map { try evaluate($0, scope) }
            return try building(e.span) { try index(o, keys) }
        case .slice(let lower, let upper, let step):
            func bound(_ x: Expr?) throws -> Value { try x.map { try evaluate($0, scope) } ?? Value.none }
            return .object(SliceObject(lower: try bound(lower), upper: try bound(upper), step: try bound(step)))
        }
    }

    private func dict(_ entries: [DictEntry], _ scope: Scope) throws -> Value {
        let d = DictRef()
        for entry in entries {
            let key = try evaluate(entry.key, scope)
            guard case .string(let k) = key else {
                throw RuntimeError("dict keys must be strings, got '\(key.typeName)'", span: entry.key.span)
            }
            d[k] = try evaluate(entry.value, scope)
        }
        return .dict(d)
    }

    /// `[element for target in iterable if condition]`; the loop variable lives in its own
    /// scope, as in Python 3, so it does not leak or overwrite a global.
    private func comprehension(_ element: Expr, _ target: Expr, _ iterable: Expr, _ condition: Expr?,
                               _ scope: Scope) throws -> Value {
        let items = try located(iterable.span) { try iterate(try evaluate(iterable, scope)) }
        let inner = Scope(parent: scope)
        var out: [Value] = []
        for item in items {
            try tick(target.span)
            try assign(target, item, inner)
            if let condition {
                let c = try evaluate(condition, inner)
                guard try located(condition.span, { try c.isTruthy() }) else { continue }
            }
            out.append(try evaluate(element, inner))
        }
        return .list(out)
    }

    private func fstring(_ parts: [FStringPart], _ scope: Scope) throws -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .value(let e, let spec):
                let v = try evaluate(e, scope)
                out += try located(e.span) { try format(v, spec: spec) }
            }
        }
        return out
    }
}

/// `...` as a value: only meaningful inside a tensor subscript.
final class EllipsisObject: ScriptObject {
    nonisolated(unsafe) static let shared = EllipsisObject()
    static let type = ValueType("ellipsis", help: "`...` inside a tensor subscript: every axis not named.")
    var description: String { "Ellipsis" }
}

/// `a:b:c` inside a subscript, evaluated.
final class SliceObject: ScriptObject {
    let lower: Value, upper: Value, step: Value
    init(lower: Value, upper: Value, step: Value) { self.lower = lower; self.upper = upper; self.step = step }
    static let type = ValueType("slice", help: "`a:b:c` inside a subscript.")
    var description: String { "slice(\(lower.repr), \(upper.repr), \(step.repr))" }
}

extension Interpreter {
    /// A name the running code reaches but nothing defines (a function body's globals resolve
    /// when it runs), with the closest name it can see as a hint.
    func undefinedName(_ name: String, _ scope: Scope) -> RuntimeError {
        var names = Set(registry.names)
        var s: Scope? = scope
        while let here = s { names.formUnion(here.values.keys); s = here.parent }
        return RuntimeError("name '\(name)' is not defined", note: closestName(to: name, among: names).map { "did you mean '\($0)'?" })
    }
}
