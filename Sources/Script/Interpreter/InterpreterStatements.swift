import TensorGraph

/// How a statement ended: normally, or by a jump its enclosing loop or function handles.
/// An enum rather than Swift errors, so jumps cost nothing and cannot be caught by mistake.
enum Flow {
    case normal, breakLoop, continueLoop
    case returned(Value)
}

extension Interpreter {
    func execute(_ block: [Stmt], _ scope: Scope) throws -> Flow {
        for stmt in block {
            let flow = try execute(stmt, scope)
            if case .normal = flow { continue }
            return flow
        }
        return .normal
    }

    func execute(_ stmt: Stmt, _ scope: Scope) throws -> Flow {
        switch stmt.kind {
        case .expression(let e):
            _ = try evaluate(e, scope)
        case .assign(let target, let value):
            try assign(target, try evaluate(value, scope), scope)
        case .augmentedAssign(let target, let op, let value):
            try augmentedAssign(target, op, value, scope)
        case .def(let decl):
            scope.bind(decl.name, .function(try makeFunction(decl, scope)))
        case .return(let value):
            return .returned(try value.map { try evaluate($0, scope) } ?? Value.none)
        case .if(let branches, let orElse):
            for branch in branches where try truthy(branch.condition, scope) {
                return try execute(branch.body, scope)
            }
            if let orElse { return try execute(orElse, scope) }
        case .for(let target, let iterable, let body):
            return try forLoop(target, iterable, body, scope)
        case .while(let condition, let body):
            return try whileLoop(condition, body, scope)
        case .break: return .breakLoop
        case .continue: return .continueLoop
        case .pass: break
        }
        return .normal
    }

    private func truthy(_ e: Expr, _ scope: Scope) throws -> Bool {
        let v = try evaluate(e, scope)
        return try located(e.span) { try v.isTruthy() }
    }

    private func forLoop(_ target: Expr, _ iterable: Expr, _ body: [Stmt], _ scope: Scope) throws -> Flow {
        let items = try located(iterable.span) { try iterate(try evaluate(iterable, scope)) }
        for item in items {
            try tick(target.span)
            try assign(target, item, scope)
            switch try execute(body, scope) {
            case .breakLoop: return .normal
            case .returned(let v): return .returned(v)
            case .normal, .continueLoop: continue
            }
        }
        return .normal
    }

    private func whileLoop(_ condition: Expr, _ body: [Stmt], _ scope: Scope) throws -> Flow {
        while try truthy(condition, scope) {
            try tick(condition.span)
            switch try execute(body, scope) {
            case .breakLoop: return .normal
            case .returned(let v): return .returned(v)
            case .normal, .continueLoop: continue
            }
        }
        return .normal
    }

    /// The elements a `for` loop or comprehension walks: list and tuple items, string
    /// characters, dict keys, a tensor's slices along its first axis, a sequence object's items.
    func iterate(_ value: Value) throws -> [Value] {
        switch value {
        case .list(let l): return l.items
        case .tuple(let t): return t
        case .string(let s): return s.map { .string(String($0)) }
        case .dict(let d): return d.keys.map { .string($0) }
        case .tensor(let t):
            guard t.rank >= 1 else { throw RuntimeError("cannot iterate over a 0-d tensor") }
            return try (0..<t.shape[0]).map { .tensor(try tensorIndex(t, $0)) }
        case .object(let o as ScriptSequence):
            return try (0..<o.length()).map { try o.item($0) }
        default:
            throw RuntimeError("'\(value.typeName)' object is not iterable")
        }
    }

    // MARK: definitions

    func makeFunction(_ decl: FunctionDecl, _ scope: Scope) throws -> Function {
        Function(name: decl.name, parameters: decl.parameters, body: .block(decl.body),
                 defaults: try evaluateDefaults(decl.parameters, scope), closure: scope, span: decl.nameSpan)
    }

    func evaluateDefaults(_ parameters: ParameterList, _ scope: Scope) throws -> [String: Value] {
        var defaults: [String: Value] = [:]
        for p in parameters.params {
            if let d = p.defaultValue { defaults[p.name] = try evaluate(d, scope) }
        }
        return defaults
    }

    // MARK: assignment

    func assign(_ target: Expr, _ value: Value, _ scope: Scope) throws {
        switch target.kind {
        case .name(let name):
            scope.bind(name, value)
        case .tuple(let targets), .list(let targets):
            let items = try located(target.span) { try unpack(value, count: targets.count) }
            for (t, v) in zip(targets, items) { try assign(t, v, scope) }
        case .member(let object, let name, let nameSpan):
            let o = try evaluate(object, scope)
            try located(nameSpan) { try setMember(o, name, value) }
        case .index(let object, let subscripts):
            let o = try evaluate(object, scope)
            let keys = try subscripts.map { try evaluate($0, scope) }
            try located(target.span) { try setIndex(o, keys, value) }
        default:
            throw RuntimeError("cannot assign to this expression", span: target.span)
        }
    }

    private func unpack(_ value: Value, count: Int) throws -> [Value] {
        let items: [Value]
        switch value {
        case .list, .tuple, .string, .tensor: items = try iterate(value)
        default: throw RuntimeError("cannot unpack a '\(value.typeName)' value")
        }
        guard items.count == count else {
            throw RuntimeError(items.count > count
                ? "too many values to unpack (expected \(count), got \(items.count))"
                : "not enough values to unpack (expected \(count), got \(items.count))")
        }
        return items
    }

    /// `x += v`: the target's container and key are evaluated once; a list grows in place
    /// (so other names for the list see the change, as in Python).
    private func augmentedAssign(_ target: Expr, _ op: BinaryOperator, _ valueExpr: Expr, _ scope: Scope) throws {
        switch target.kind {
        case .name(let name):
            guard let current = lookup(name, scope) else {
                throw RuntimeError("name '\(name)' is not defined", span: target.span)
            }
            let value = try evaluate(valueExpr, scope)
            scope.bind(name, try combine(current, op, value, target.span))
        case .member(let object, let name, let nameSpan):
            let o = try evaluate(object, scope)
            let current = try located(nameSpan) { try member(o, name) }
            let value = try evaluate(valueExpr, scope)
            let result = try combine(current, op, value, target.span)
            try located(nameSpan) { try setMember(o, name, result) }
        case .index(let object, let subscripts):
            let o = try evaluate(object, scope)
            let keys = try subscripts.map { try evaluate($0, scope) }
            let current = try located(target.span) { try index(o, keys) }
            let value = try evaluate(valueExpr, scope)
            let result = try combine(current, op, value, target.span)
            try located(target.span) { try setIndex(o, keys, result) }
        default:
            throw RuntimeError("cannot assign to this expression", span: target.span)
        }
    }

    private func combine(_ current: Value, _ op: BinaryOperator, _ value: Value, _ span: SourceSpan) throws -> Value {
        if op == .add, case .list(let l) = current, let more = value.sequence {
            l.items += more
            return current
        }
        return try located(span) { try binary(op, current, value) }
    }
}
