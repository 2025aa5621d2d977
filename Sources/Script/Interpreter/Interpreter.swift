import Foundation
import TensorGraph

/// The tree-walking evaluator: runs statements against a global scope that persists across
/// cells. It owns what running produces — outputs (printed text, drawings), recorded
/// metrics — and the state builtins share: the random generator and the interrupt flag.
///
/// Statements are in InterpreterStatements.swift, expressions in InterpreterExpressions.swift,
/// operators, calls, indexing and members each in their own file.
public final class Interpreter {
    let globals = Scope(parent: nil)
    /// The builtins, constants and types scripts can reach without defining them.
    public let registry: Registry
    /// The random generator `randn`/`rand` draw from; `seed(n)` replaces it.
    public var rng = RNG(seed: 0)
    public let interruptFlag: InterruptFlag
    /// Script calls deeper than this raise an error instead of overflowing the stack.
    public var maxCallDepth = 200
    /// When set, a cell may take at most this many steps (loop iterations plus calls);
    /// then it stops as if interrupted. The fuzz tests use it to end infinite loops.
    public var stepLimit: Int?
    /// Where `param(...)` puts its weights while a model runs one of its script pieces.
    public internal(set) var parameterScope: ParameterScope?
    /// Metrics recorded by `record(name, value)`, in order.
    public internal(set) var metrics: [Metric] = []

    var outputs: [Output] = []
    private var pendingText = ""
    var callDepth = 0
    var steps = 0

    public init(registry: Registry = .language, interruptFlag: InterruptFlag = InterruptFlag()) {
        self.registry = registry
        self.interruptFlag = interruptFlag
    }

    // MARK: globals

    public func global(_ name: String) -> Value? { globals.values[name] }
    public func setGlobal(_ name: String, _ value: Value) { globals.bind(name, value) }
    public func removeGlobal(_ name: String) { globals.unbind(name) }
    /// Every global's name, sorted: a pass over all of them, for listings and suggestions —
    /// never for running or checking a cell (a piped REPL runs one cell per line).
    /// The global variables holding tensors whose nodes have no name of their own (`w1 =
    /// param(...)`), by node: drawings label those boxes with them. A node held by several
    /// variables takes the first name in alphabetical order.
    public func tensorVariableNames() -> [Node: String] {
        var names: [Node: String] = [:]
        for name in globals.values.keys.sorted() where !name.hasPrefix("_") {
            if case .tensor(let t)? = globals.values[name], t.node.name == nil, names[t.node] == nil { names[t.node] = name }
        }
        return names
    }

    public var globalNames: [String] { globalListings += 1; return globals.values.keys.sorted() }
    /// How many times `globalNames` listed every global (a test counts them).
    private(set) var globalListings = 0

    /// A variable of the running code, or a builtin.
    func lookup(_ name: String, _ scope: Scope) -> Value? {
        if let v = scope.lookup(name) { return v }
        return registry.global(name)
    }

    // MARK: running a program

    /// Runs a cell's statements at the top level. Returns the value of the last statement if
    /// it is an expression (what a notebook shows under the cell).
    public func run(_ program: [Stmt]) throws -> Value? {
        steps = 0
        callDepth = 0
        var last: Value? = nil
        for (i, stmt) in program.enumerated() {
            if i == program.count - 1, case .expression(let e) = stmt.kind {
                last = try evaluate(e, globals)
            } else {
                _ = try execute(stmt, globals)
            }
        }
        return last
    }

    /// Evaluates one expression in the global scope (for the REPL's `:time` and `:graph`).
    public func evaluate(_ expr: Expr) throws -> Value { try evaluate(expr, globals) }

    // MARK: outputs

    /// Text written by `print`; consecutive prints join into one text output.
    public func write(_ text: String) { pendingText += text }

    /// Set by front ends whose outputs make a document (notebook export, the Jupyter kernel):
    /// work that shows progress in place on a terminal (training) also leaves its final state
    /// among the cell's outputs, and a picture the cell already showed is not repeated (a cell
    /// showing `run` right after training drew its curves).
    public var documentsProgress = false

    /// A rich output (an image, a drawing); flushes pending text first to keep the order.
    public func emit(_ output: Output) {
        flushText()
        if documentsProgress, outputs.last == output { return }
        outputs.append(output)
    }

    /// Takes everything produced since the last call.
    public func takeOutputs() -> [Output] {
        flushText()
        defer { outputs = [] }
        return outputs
    }

    private func flushText() {
        guard !pendingText.isEmpty else { return }
        var text = pendingText
        if text.hasSuffix("\n") { text.removeLast() }
        outputs.append(.text(text))
        pendingText = ""
    }

    public func record(_ metric: Metric) { metrics.append(metric) }
    public func clearMetrics() { metrics = [] }

    // MARK: budgets

    /// Called at every loop iteration and call: honours Ctrl-C and the step budget.
    @inline(__always) func tick(_ span: SourceSpan) throws {
        steps += 1
        if interruptFlag.isRaised {
            interruptFlag.clear()
            throw Interrupted(span: span, reason: "interrupted")
        }
        if let limit = stepLimit, steps > limit {
            throw Interrupted(span: span, reason: "step limit of \(limit) exceeded")
        }
    }
}

/// One `record(name, value)` call: what `tfs run --metrics FILE` writes as a JSON line.
public struct Metric: Equatable, Sendable {
    public var name: String
    public var value: Double
    public var step: Int?

    public init(name: String, value: Double, step: Int? = nil) {
        self.name = name; self.value = value; self.step = step
    }

    /// `{"name": "loss", "value": 0.25, "step": 10}` (step omitted when not given).
    public var json: String {
        var fields = ["\"name\": \(jsonString(name))", "\"value\": \(jsonNumber(value))"]
        if let step { fields.append("\"step\": \(step)") }
        return "{" + fields.joined(separator: ", ") + "}"
    }
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

/// JSON has no NaN or infinity: they become null.
func jsonNumber(_ d: Double) -> String {
    guard d.isFinite else { return "null" }
    return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)"
}
