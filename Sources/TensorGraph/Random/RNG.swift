import Foundation

/// Seeded random numbers (xoshiro256**, seeded through SplitMix64). Draws happen on one thread
/// in a fixed order, so a seed gives the same values on every run and any thread count.
/// The state is four words that a checkpoint can save and restore.
public struct RNG: RandomNumberGenerator, Equatable, Sendable {
    public var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var s = seed
        func splitmix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public init(state: [UInt64]) {
        precondition(state.count == 4)
        self.state = (state[0], state[1], state[2], state[3])
    }
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (a: RNG, b: RNG) -> Bool { a.stateWords == b.stateWords }

    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0; state.3 ^= state.1; state.1 ^= state.2; state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 24 random bits (every float32 step in the interval).
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    public mutating func uniform(_ n: Int, low: Float = 0, high: Float = 1) -> [Float] {
        (0..<n).map { _ in low + (high - low) * uniform() }
    }

    /// Standard normal (Box–Muller, both values used).
    public mutating func normal(_ n: Int) -> [Float] {
        var out = [Float](); out.reserveCapacity(n)
        while out.count < n {
            let u1 = max(Double(next() >> 11) * 0x1p-53, 1e-300), u2 = Double(next() >> 11) * 0x1p-53
            let r = (-2 * Foundation.log(u1)).squareRoot()
            out.append(Float(r * cos(2 * .pi * u2)))
            if out.count < n { out.append(Float(r * sin(2 * .pi * u2))) }
        }
        return out
    }

    /// An integer in 0..<n.
    public mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
