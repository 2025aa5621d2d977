import Foundation
import TensorGraph

/// The parameters of a model by name (`block0.attn.wq`): the names are the safetensors keys
/// and the Graphviz cluster names. Initialised from one seed, in a fixed order.
public final class Parameters {
    public private(set) var names: [String] = []
    public private(set) var tensors: [String: Tensor] = [:]
    var rng: RNG

    public init(seed: UInt64) { rng = RNG(seed: seed) }

    /// A new parameter drawn from N(0, std²) (or filled with `fill`).
    @discardableResult
    public func make(_ name: String, _ shape: [Int], std: Float = 0.02, fill: Float? = nil) -> Tensor {
        precondition(tensors[name] == nil, "parameter \(name) defined twice")
        let n = shape.reduce(1, *)
        let values = fill.map { [Float](repeating: $0, count: n) } ?? rng.normal(n).map { $0 * std }
        let t = Tensor.parameter(TensorData(shape: shape, values: values), name: name)
        names.append(name); tensors[name] = t
        return t
    }

    /// A new parameter holding `values`.
    @discardableResult
    public func add(_ name: String, _ values: TensorData) -> Tensor {
        precondition(tensors[name] == nil, "parameter \(name) defined twice")
        let t = Tensor.parameter(values, name: name)
        names.append(name); tensors[name] = t
        return t
    }

    public subscript(name: String) -> Tensor { tensors[name]! }
    public var all: [Tensor] { names.map { tensors[$0]! } }
    public var count: Int { all.reduce(0) { $0 + $1.count } }
}

extension Parameters {
    /// Every parameter's values read from a file, by name.
    func assign(from file: SafetensorsFile, path: String) throws {
        for name in names { try file.load(name, into: tensors[name]!.node.storage!, path: path) }
    }
}

extension SafetensorsFile {
    /// The tensor `name` copied into `storage`, whose shape (the model's) it must have.
    func load(_ name: String, into storage: Storage, path: String) throws {
        guard let entry = self[name] else { throw TensorGraphError("\(path) has no tensor '\(name)'") }
        guard entry.shape == storage.shape else {
            throw TensorGraphError("\(path): tensor '\(name)' is \(Shape.describe(entry.shape)), but the model's config makes it \(Shape.describe(storage.shape))")
        }
        try storage.assign(entry.tensorData)
    }
}

/// A saved model's config, which can say what is wrong with it when read back.
protocol CheckedConfig: Decodable {
    var problem: String? { get }
}

extension SafetensorsFile {
    /// The JSON config under the `config` metadata key of a file whose `format` says it holds
    /// a `what` (the words errors use), decoded and checked.
    func savedConfig<C: CheckedConfig>(_: C.Type, format: String, what: String, path: String) throws -> C {
        guard metadata["format"] == format, let json = metadata["config"] else {
            throw TensorGraphError("\(path) is not a tfs \(what) (missing format or config metadata)")
        }
        let config: C
        do { config = try JSONDecoder().decode(C.self, from: Data(json.utf8)) } catch {
            throw TensorGraphError("\(path): the \(what) config in its metadata is unreadable (\(error))")
        }
        if let problem = config.problem { throw TensorGraphError("\(path): \(problem)") }
        return config
    }
}
