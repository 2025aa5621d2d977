import TensorGraph

/// Showing values, asking for help, recording metrics: the functions that talk to the
/// notebook, the REPL and `tfs run` rather than compute.
enum NotebookBuiltins {
    static let all: [Builtin] = [
        Builtin("show", "x",
                help: "Displays x as an output: a library object its own way (an image, a drawing), anything else as text (tensors computed).",
                example: "show(tensor([1, 2, 3]))") { a in
            a.interpreter.emit(try a.interpreter.display(a["x"]))
            return .none
        },
        Builtin("help", "x=None",
                help: "Prints the help of a builtin, a method (\"tensor.sum\") or a function; with no argument, lists the builtins.",
                example: "help(softmax)\nhelp(\"tensor.sum\")") { a in
            a.interpreter.write(try helpText(for: a["x"], a.interpreter) + "\n")
            return .none
        },
        Builtin("record", "name, value, step=None",
                help: "Records a metric (a number or a one-value tensor) under name; `tfs run --metrics FILE` writes one JSON line per record.",
                example: "record(\"loss\", 0.25, step=10)") { a in
            let value: Double
            if case .tensor(let t) = a["value"] { value = Double(try scalarValue(t, a)) } else { value = try a.double("value") }
            a.interpreter.record(Metric(name: try a.string("name"), value: value, step: try a.optionalInt("step")))
            return .none
        },
    ]

    /// The text `help(x)` prints.
    static func helpText(for x: Value, _ interpreter: Interpreter) throws -> String {
        switch x {
        case .none:
            let registry = interpreter.registry
            return "Builtins: " + registry.allFunctions.map(\.name).joined(separator: ", ")
                + "\nConstants: " + registry.allConstants.map(\.name).joined(separator: ", ")
                + "\nTypes: " + registry.allTypes.map(\.name).joined(separator: ", ")
                + "\nType help(name) for one of them, help(\"tensor.sum\") for a method."
        case .string(let name):
            guard let text = interpreter.registry.helpText(name) else {
                let hint = closestName(to: name, among: interpreter.registry.helpTopics).map { " (did you mean '\($0)'?)" } ?? ""
                throw RuntimeError("help: no builtin named '\(name)'\(hint)")
            }
            return text
        case .builtin(let b): return b.helpText
        case .function(let f): return functionHelp(f)
        default:
            if let type = interpreter.valueType(x) { return interpreter.registry.typeHelp(type) }
            return "a '\(x.typeName)' value"
        }
    }

    /// `def f(a, b=2, *rest)`: a user function's signature with its defaults' values.
    static func functionHelp(_ f: Function) -> String {
        var parts: [String] = []
        var starred = false
        for p in f.parameters.params {
            if p.keywordOnly && !starred { parts.append(f.parameters.varargs.map { "*\($0)" } ?? "*"); starred = true }
            parts.append(p.name + (f.defaults[p.name].map { "=\($0)" } ?? ""))
        }
        if !starred, let v = f.parameters.varargs { parts.append("*\(v)") }
        if let k = f.parameters.kwargs { parts.append("**\(k)") }
        return "\(f.name)(\(parts.joined(separator: ", ")))\n    defined at \(f.span)"
    }
}

extension Interpreter {
    /// The output that shows a value best.
    public func display(_ v: Value) throws -> Output {
        if case .object(let o) = v, let output = try o.output() { return output }
        return .text(try str(v))
    }
}
