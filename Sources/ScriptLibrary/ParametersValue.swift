import Script
import TensorGraph
import Transfusion

/// A model's weights by name, as PyTorch's `named_parameters()`: `model.parameters["block0.attn.wq"]`
/// is that weight as a tensor, `.names` lists them, and printing it shows one row per layer
/// (the part of the name before the first dot) with its shapes and count, then the total.
/// It compares and converts as its total count, so `model.parameters > 0` still reads as before.
final class ParametersValue: ScriptObject {
    let parameters: Parameters

    init(_ parameters: Parameters) { self.parameters = parameters }

    static let type: ValueType = {
        let m = Members<ParametersValue>("parameters")
        return ValueType("parameters", help: "A model's weights by name: p[\"block0.attn.wq\"] is one as a tensor; printing shows a per-layer summary.", fields: [
            m.field("count", "How many weights in all.") { .int($0.parameters.count) },
            m.field("names", "Every weight's name, in the model's order.") { .list(ListRef($0.parameters.names.map(Value.string))) },
        ], methods: [
            m.method("items", "", "(name, tensor) pairs, in the model's order.",
                     example: "m = transfusion(dim=32, layers=1, heads=2)\nm.parameters.items()[0][0]") { p, _ in
                .list(ListRef(p.parameters.names.map { .tuple([.string($0), .tensor(p.parameters[$0])]) }))
            },
        ])
    }()

    /// One row per layer: its name, how many tensors, their weights; then the total.
    var description: String {
        var layers: [(name: String, tensors: Int, weights: Int)] = []
        for name in parameters.names {
            let layer = String(name.prefix { $0 != "." })
            let count = parameters[name].count
            if layers.last?.name == layer { layers[layers.count - 1].tensors += 1; layers[layers.count - 1].weights += count }
            else { layers.append((layer, 1, count)) }
        }
        let width = max(5, layers.map(\.name.count).max() ?? 0)
        func row(_ a: String, _ b: String, _ c: String) -> String {
            a.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + String(repeating: " ", count: max(0, 7 - b.count)) + b
                + "  " + String(repeating: " ", count: max(0, 12 - c.count)) + c
        }
        return ([row("layer", "tensors", "weights")] + layers.map { row($0.name, "\($0.tensors)", "\($0.weights)") }
                + [row("total", "\(parameters.names.count)", "\(parameters.count)")]).joined(separator: "\n")
    }

    func index(_ keys: [Value]) throws -> Value? {
        guard keys.count == 1, case .string(let name) = keys[0] else { throw RuntimeError("parameters[...] takes one weight's name, a string") }
        guard parameters.names.contains(name) else {
            let layer = name.prefix { $0 != "." }
            let near = parameters.names.filter { $0.hasPrefix(layer) }.prefix(6)
            throw RuntimeError("the model has no weight named '\(name)'",
                               note: near.isEmpty ? "its layers: " + Set(parameters.names.map { String($0.prefix { $0 != "." }) }).sorted().joined(separator: ", ")
                                                  : "names starting so: " + near.joined(separator: ", "))
        }
        return .tensor(parameters[name])
    }

    /// `model.parameters()`, PyTorch's spelling, is the same value.
    func call(_ arguments: CallArguments) throws -> Value? {
        guard arguments.items.isEmpty else { throw RuntimeError("parameters() takes no arguments") }
        return .object(self)
    }

    /// Comparisons with a number compare the total count.
    func binary(_ op: BinaryOperator, _ other: Value, reversed: Bool) throws -> Value? {
        let count = Double(parameters.count)
        let number: Double
        switch other { case .int(let i): number = Double(i); case .float(let d): number = d; default: return nil }
        let (a, b) = reversed ? (number, count) : (count, number)
        switch op {
        case .less: return .bool(a < b)
        case .lessEqual: return .bool(a <= b)
        case .greater: return .bool(a > b)
        case .greaterEqual: return .bool(a >= b)
        case .equal: return .bool(a == b)
        case .notEqual: return .bool(a != b)
        default: return nil
        }
    }
}
