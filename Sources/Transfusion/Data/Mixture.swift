import TensorGraph

/// Several datasets drawn from in set proportions: each draw first picks a part by weight,
/// then an item of that part, with the same generator (so a mixture is deterministic by seed).
public struct Mixture: Dataset {
    public let parts: [any Dataset]
    /// The share of draws each part gets; they sum to 1.
    public let weights: [Double]

    public init(_ parts: [any Dataset], weights: [Double]? = nil) throws {
        let weights = weights ?? Array(repeating: 1, count: parts.count)
        guard !parts.isEmpty else { throw TensorGraphError("a mixture needs at least one dataset") }
        guard weights.count == parts.count else {
            throw TensorGraphError("a mixture of \(parts.count) datasets needs \(parts.count) weights, got \(weights.count)")
        }
        if let bad = weights.first(where: { !($0 > 0 && $0.isFinite) }) {
            throw TensorGraphError("mixture weights must be positive numbers, got \(bad)")
        }
        let sides = Set(parts.compactMap(\.imageSide))
        guard sides.count <= 1 else {
            throw TensorGraphError("a mixture's images must share one size; these are \(sides.sorted().map { "\($0)×\($0)" }.joined(separator: ", "))")
        }
        let total = weights.reduce(0, +)
        self.parts = parts; self.weights = weights.map { $0 / total }
    }

    public var imageSide: Int? { parts.lazy.compactMap(\.imageSide).first }
    public var imagesPerItem: Int { parts.map(\.imagesPerItem).max() ?? 0 }
    public var count: Int? {
        let counts = parts.map(\.count)
        return counts.contains(where: { $0 == nil }) ? nil : counts.reduce(0) { $0 + $1! }
    }
    public var description: String {
        "mixture of " + zip(parts, weights).map { "\($0.description) (\(Int(($1 * 100).rounded()))%)" }.joined(separator: "; ")
    }

    public func draw(_ rng: inout RNG) -> DatasetItem {
        parts[part(Double(rng.uniform()))].draw(&rng)
    }

    /// The part a uniform number in [0, 1) falls in.
    func part(_ u: Double) -> Int {
        var cumulative = 0.0
        for (i, w) in weights.enumerated() {
            cumulative += w
            if u < cumulative { return i }
        }
        return weights.count - 1   // rounding left u just above the last sum
    }

    public func fitted(length: Int, patches: Int) throws -> any Dataset {
        try Mixture(parts.map { try $0.fitted(length: length, patches: patches) }, weights: weights)
    }

    /// Each part split alike; the held-out side keeps the weights.
    public func split(heldOut fraction: Double, seed: UInt64) throws -> (train: any Dataset, heldOut: any Dataset) {
        let halves = try parts.map { try $0.split(heldOut: fraction, seed: seed) }
        return (try Mixture(halves.map(\.train), weights: weights), try Mixture(halves.map(\.heldOut), weights: weights))
    }
}
