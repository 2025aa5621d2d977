import Foundation
import TensorGraph

/// Picks the next token from logits: greedy (temperature 0), or a draw at a temperature from
/// the top-k tokens and/or the smallest set whose probability reaches top-p (nucleus).
public struct TokenSampler: Equatable, Sendable {
    public var temperature: Double = 0
    public var topK: Int = 0       // 0: no limit
    public var topP: Double = 1    // 1: no limit

    public init(temperature: Double = 0, topK: Int = 0, topP: Double = 1) {
        self.temperature = temperature; self.topK = topK; self.topP = topP
    }

    /// The chosen token. `allowed`, when given, restricts the choice (e.g. to text after BOI).
    public func pick(_ logits: UnsafeBufferPointer<Float>, rng: inout RNG, allowed: ((Int) -> Bool)? = nil) -> Int {
        let candidates = logits.indices.filter { allowed?($0) ?? true }
        guard temperature > 0 else { return candidates.max { logits[$0] < logits[$1] } ?? 0 }
        var ranked = candidates.sorted { logits[$0] > logits[$1] }
        if topK > 0 { ranked = Array(ranked.prefix(topK)) }
        let top = Double(logits[ranked[0]])
        var weights = ranked.map { exp((Double(logits[$0]) - top) / temperature) }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        if topP < 1 {
            var mass = 0.0, keep = 0
            while keep < weights.count, mass < topP { mass += weights[keep]; keep += 1 }
            ranked = Array(ranked.prefix(keep)); weights = Array(weights.prefix(keep))
        }
        var u = Double(rng.uniform()) * weights.reduce(0, +)
        for (token, w) in zip(ranked, weights) {
            u -= w
            if u <= 0 { return token }
        }
        return ranked.last!
    }
}
