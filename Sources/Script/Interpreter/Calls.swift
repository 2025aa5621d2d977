import TensorGraph

/// The arguments of one call as written: positional and keyword, with where each came from
/// (so a builtin's type error can point at the offending argument).
public struct CallArguments {
    public struct Item {
        public var label: String?
        public var value: Value
        /// The argument expression, and its keyword label if any.
        public var span: SourceSpan?
        public var labelSpan: SourceSpan?
        public init(label: String? = nil, value: Value, span: SourceSpan? = nil, labelSpan: SourceSpan? = nil) {
            self.label = label; self.value = value; self.span = span; self.labelSpan = labelSpan
        }
    }

    public var items: [Item]
    /// The whole call expression.
    public var span: SourceSpan

    public init(_ items: [Item], span: SourceSpan) { self.items = items; self.span = span }

    /// Positional arguments only: `CallArguments([1, 2], span: s)`.
    public init(positional values: [Value], span: SourceSpan) {
        self.init(values.map { Item(value: $0) }, span: span)
    }

    public var positional: [Value] { items.filter { $0.label == nil }.map(\.value) }
    public var keywords: [(String, Value)] { items.compactMap { i in i.label.map { ($0, i.value) } } }
}

/// Arguments matched to parameters: what a function body or a builtin sees.
struct BoundArguments {
    var values: [String: Value] = [:]
    var spans: [String: SourceSpan] = [:]
    /// Extra positional arguments, for `*args`.
    var rest: [Value] = []
    var restSpans: [SourceSpan?] = []
    /// Unknown keyword arguments, for `**kwargs`.
    var options: [(String, Value)] = []
}

/// Matches arguments to parameters with Python's rules; the messages are the checker's, so
/// a mistake reads the same whether it was caught before or while running.
func bind(_ parameters: ParameterList, defaults: [String: Value], _ args: CallArguments,
          name: String) throws -> BoundArguments {
    var bound = BoundArguments()
    let slots = parameters.params.filter { !$0.keywordOnly }
    let positional = args.items.filter { $0.label == nil }
    for (i, item) in positional.enumerated() {
        if i < slots.count {
            bound.values[slots[i].name] = item.value
            bound.spans[slots[i].name] = item.span
        } else if parameters.varargs != nil {
            bound.rest.append(item.value)
            bound.restSpans.append(item.span)
        } else {
            throw RuntimeError("too many positional arguments to '\(name)': expected at most \(slots.count), got \(positional.count)",
                               span: item.span)
        }
    }
    for item in args.items {
        guard let written = item.label else { continue }
        let label = keywordName(written, among: parameters.params.map(\.name))
        if parameters.params.contains(where: { $0.name == label }) {
            guard bound.values[label] == nil else {
                throw RuntimeError("'\(name)' got multiple values for argument '\(label)'", span: item.labelSpan)
            }
            bound.values[label] = item.value
            bound.spans[label] = item.span
        } else if parameters.kwargs != nil {
            bound.options.append((label, item.value))
        } else {
            let names = parameters.params.map(\.name)
            let hint = closestName(to: label, among: names).map { "did you mean '\($0)'?" }
            throw RuntimeError("unknown keyword argument '\(label)' for '\(name)'", span: item.labelSpan,
                               note: hint ?? (names.isEmpty ? "'\(name)' takes no keyword arguments"
                                                            : "'\(name)' accepts: \(names.joined(separator: ", "))"))
        }
    }
    var missing: [String] = []
    for p in parameters.params where bound.values[p.name] == nil {
        if let d = defaults[p.name] { bound.values[p.name] = d } else { missing.append("'\(p.name)'") }
    }
    if !missing.isEmpty {
        throw RuntimeError("'\(name)' is missing required argument\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", "))")
    }
    return bound
}

extension Interpreter {
    func call(_ calleeExpr: Expr, _ arguments: [CallArgument], _ span: SourceSpan, _ scope: Scope) throws -> Value {
        let callee = try evaluate(calleeExpr, scope)
        var items: [CallArguments.Item] = []
        for a in arguments {
            items.append(.init(label: a.label, value: try evaluate(a.value, scope), span: a.value.span,
                               labelSpan: a.labelSpan))
        }
        let args = CallArguments(items, span: span)
        guard isCallable(callee) else {
            throw RuntimeError("'\(callee.typeName)' object is not callable", span: calleeExpr.span)
        }
        return try call(callee, args)
    }

    func isCallable(_ v: Value) -> Bool {
        switch v {
        case .function, .builtin, .object: return true
        default: return false
        }
    }

    /// Calls any callable value: how builtins such as `sorted(key=...)` call back into script code.
    public func call(_ callee: Value, _ args: CallArguments) throws -> Value {
        try tick(args.span)
        switch callee {
        case .function(let f):
            return try callFunction(f, args)
        case .builtin(let b):
            return try building(args.span) { try b.invoke(args, self) }
        case .object(let o):
            if let r = try building(args.span, { try o.call(args) }) { return r }
        default: break
        }
        throw RuntimeError("'\(callee.typeName)' object is not callable", span: args.span)
    }

    private func callFunction(_ f: Function, _ args: CallArguments) throws -> Value {
        let bound = try located(args.span) { try bind(f.parameters, defaults: f.defaults, args, name: f.name) }
        guard callDepth < maxCallDepth else {
            throw RuntimeError("maximum recursion depth (\(maxCallDepth)) exceeded", span: args.span,
                               note: "in '\(f.name)'; does the recursion have a base case?")
        }
        let scope = Scope(parent: f.closure, values: bound.values)
        if let name = f.parameters.varargs { scope.values[name] = .tuple(bound.rest) }
        if let name = f.parameters.kwargs { scope.values[name] = .dict(DictRef(bound.options)) }
        callDepth += 1
        defer { callDepth -= 1 }
        do {
            switch f.body {
            case .expression(let e):
                return try evaluate(e, scope)
            case .block(let body):
                if case .returned(let v) = try execute(body, scope) { return v }
                return .none
            }
        } catch var error as RuntimeError {
            error.trace.append("in '\(f.name)', called at \(args.span)")
            throw error
        }
    }
}
