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

    public subscript(name: String) -> Tensor { tensors[name]! }
    public var all: [Tensor] { names.map { tensors[$0]! } }
    public var count: Int { all.reduce(0) { $0 + $1.count } }
}
