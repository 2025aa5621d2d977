/// Memory that outlives plans: the values of parameters and constants. Its address never
/// changes, so a plan can point its kernels at it once and later runs see updates in place.
public final class Storage {
    public let shape: [Int]
    public let pointer: UnsafeMutablePointer<Float>
    public var count: Int { Shape.count(shape) }

    public init(shape: [Int], values: [Float]? = nil) {
        self.shape = shape
        let n = Shape.count(shape)
        pointer = .allocate(capacity: max(n, 1))
        if let values {
            precondition(values.count == n, "Storage: \(values.count) values for shape \(shape)")
            values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: n) }
        } else {
            pointer.initialize(repeating: 0, count: max(n, 1))
        }
    }

    public convenience init(_ data: TensorData) { self.init(shape: data.shape, values: data.values) }

    deinit { pointer.deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }
    public var data: TensorData { TensorData(shape: shape, values: Array(buffer)) }

    public func assign(_ data: TensorData) throws {
        guard data.shape == shape else {
            throw TensorGraphError("cannot assign a \(Shape.describe(data.shape)) value to storage of shape \(Shape.describe(shape))")
        }
        data.values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }
}
