import Foundation
import TensorGraph

/// A function written in Swift, callable from scripts: a name, a Python-style parameter
/// spec, one line of help and a runnable example, and the body.
///
/// The spec is the single source of truth for arguments: the checker's `Signature`, runtime
/// argument matching, the defaults the body receives, `help(name)` and the generated
/// reference in docs/language.md all come from it.
public final class Builtin {
    public let name: String
    /// The parameter list as written: `"x, axis=-1"`, `"*values, sep=' ', end='\\n'"`.
    public let spec: String
    /// One line: what it does and returns.
    public let help: String
    /// A snippet that runs as-is (the tests run every example).
    public let example: String
    /// The type a method belongs to ("tensor", "list"...), nil for a global function.
    public let owner: String?
    /// The value a method is bound to (`x` in `x.sum`), nil until bound.
    public let receiver: Value?
    public let signature: Signature
    let parameters: ParameterList
    let defaults: [String: Value]
    let body: (Arguments) throws -> Value

    public init(_ name: String, _ spec: String, help: String, example: String, owner: String? = nil,
                body: @escaping (Arguments) throws -> Value) {
        let parsed = parseSpec(spec)
        self.name = name; self.spec = spec; self.help = help; self.example = example; self.owner = owner
        self.receiver = nil
        self.parameters = parsed.parameters; self.defaults = parsed.defaults
        self.signature = parsed.parameters.signature
        self.body = body
    }

    private init(bound: Builtin, to receiver: Value) {
        name = bound.name; spec = bound.spec; help = bound.help; example = bound.example; owner = bound.owner
        parameters = bound.parameters; defaults = bound.defaults; signature = bound.signature; body = bound.body
        self.receiver = receiver
    }

    /// This method bound to `receiver` (what `x.sum` evaluates to).
    public func bound(to receiver: Value) -> Builtin { Builtin(bound: self, to: receiver) }

    /// `softmax` or, for a method, `tensor.sum`.
    public var qualifiedName: String { owner.map { "\($0).\(name)" } ?? name }

    /// `softmax(x, axis=-1)`.
    public var usage: String { "\(owner == nil ? name : qualifiedName)(\(spec))" }

    /// What `help(name)` prints; the docs show the same three parts.
    public var helpText: String {
        "\(usage)\n    \(help)\n    example: \(example.replacingOccurrences(of: "\n", with: "\n             "))"
    }

    func invoke(_ args: CallArguments, _ interpreter: Interpreter) throws -> Value {
        let bound = try bind(parameters, defaults: defaults, args, name: qualifiedName)
        do {
            return try body(Arguments(builtin: self, bound: bound, span: args.span, interpreter: interpreter))
        } catch let error as RuntimeError { throw error
        } catch let error as TensorGraphError { throw error
        } catch let error as Interrupted { throw error
        } catch let stop as Cancelled {
            // A library loop (sampling, k-means, evaluation) saw Ctrl-C between its steps.
            interpreter.interruptFlag.clear()
            throw Interrupted(span: args.span, reason: "interrupted: \(qualifiedName): \(stop)")
        } catch {
            // Foundation's file errors and the like: keep the message, locate it at the call.
            throw RuntimeError("\(qualifiedName): \(error.localizedDescription)")
        }
    }
}

/// A named constant (`pi`, `inf`): a value with help text, documented with the builtins.
public struct BuiltinConstant {
    public let name: String
    public let value: Value
    public let help: String
    public init(_ name: String, _ value: Value, help: String) { self.name = name; self.value = value; self.help = help }
}

/// Reads a spec by parsing `def f(spec): pass`; defaults must be literals.
private func parseSpec(_ spec: String) -> (parameters: ParameterList, defaults: [String: Value]) {
    let sink = DiagnosticSink()
    let program = Parser.parse("def f(\(spec)): pass", file: "<builtin>", sink: sink)
    guard !sink.hasErrors, case .def(let decl)? = program.first?.kind else {
        preconditionFailure("bad builtin spec '\(spec)': \(sink.diagnostics.map(\.message))")
    }
    var defaults: [String: Value] = [:]
    for p in decl.parameters.params {
        if let d = p.defaultValue { defaults[p.name] = literalValue(d) }
    }
    return (decl.parameters, defaults)
}

/// The value of a literal default (`-1`, `1e-5`, `'mean'`, `None`, `[1, 2]`).
private func literalValue(_ e: Expr) -> Value {
    if let v = Value(scalarLiteral: e.kind) { return v }
    switch e.kind {
    case .unary(.negate, let x):
        switch literalValue(x) {
        case .int(let i): return .int(-i)
        case .float(let d): return .float(-d)
        default: break
        }
    case .list(let items): return .list(items.map(literalValue))
    case .tuple(let items): return .tuple(items.map(literalValue))
    default: break
    }
    preconditionFailure("builtin defaults must be literals: \(e)")
}
