/// IPython's output history, kept when a front end numbers its inputs (`Session.outputNumber`):
/// `Out[n]` and `_n` are the value input n showed, `_` the last one, `__` and `___` the two
/// before it.
final class OutputHistory: ScriptObject {
    static let type = ValueType("Out", help: "The REPL's outputs by input number: Out[n] is the value In [n] showed.")
    private(set) var values: [Int: Value] = [:]

    var description: String {
        "{" + values.keys.sorted().map { "\($0): \(values[$0]!.description)" }.joined(separator: ", ") + "}"
    }

    func index(_ keys: [Value]) throws -> Value? {
        guard keys.count == 1, let n = keys[0].integer else { throw RuntimeError("Out[n] takes one input number") }
        guard let value = values[n] else {
            let shown = values.keys.sorted().map(String.init).joined(separator: ", ")
            throw RuntimeError("Out[\(n)]: input \(n) showed no value",
                               note: shown.isEmpty ? "no input has shown a value yet" : "inputs with a value: \(shown)")
        }
        return value
    }

    func record(_ value: Value, number: Int) { values[number] = value }
}

extension Session {
    /// Records the value input `number` showed: `Out[number]`, `_number`, and shifts `_`, `__`
    /// and `___` (call before `_` is set to the new value).
    func recordOutput(_ value: Value, number: Int) {
        let history: OutputHistory
        if case .object(let o)? = interpreter.global("Out"), let h = o as? OutputHistory { history = h } else {
            history = OutputHistory()
            interpreter.setGlobal("Out", .object(history))
        }
        history.record(value, number: number)
        interpreter.setGlobal("_\(number)", value)
        if let before = interpreter.global("__") { interpreter.setGlobal("___", before) }
        if let last = interpreter.global("_") { interpreter.setGlobal("__", last) }
    }
}
