/// A realized float32 tensor: a shape and its values in row-major order.
/// This is what observing a lazy `Tensor` produces, what feeds a plan's inputs, and what files hold.
public struct TensorData: Equatable, Sendable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count,
                     "TensorData: shape \(shape) holds \(shape.reduce(1, *)) values, got \(values.count)")
        self.shape = shape
        self.values = values
    }

    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, values: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public init(scalar: Float) { self.init(shape: [], values: [scalar]) }

    public var count: Int { values.count }
    public var rank: Int { shape.count }
    /// The single value of a scalar (or one-element) tensor.
    public var scalar: Float { precondition(values.count == 1); return values[0] }
}
