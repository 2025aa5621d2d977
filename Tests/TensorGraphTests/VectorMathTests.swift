import Foundation
import Testing
@testable import TensorGraph

/// The vectorised exp against Double's exp, and the kernels that use it against plain loops.
@Suite struct VectorMathTests {
    func relativeError(_ x: Float) -> Double {
        var v = [x], out = [Float](repeating: 0, count: 1)
        VectorMath.map(&v, &out, 1) { VectorMath.exp($0) }
        let exact = Foundation.exp(Double(x))
        return abs(Double(out[0]) - exact) / exact
    }

    @Test func expIsWithin3e7OfDoubleExpOverItsRange() {
        var rng = RNG(seed: 5), worst = 0.0
        let xs = rng.uniform(20_000, low: -87, high: 88) + (-200...200).map { Float($0) / 10 }
        for x in xs { worst = max(worst, relativeError(x)) }
        #expect(worst < 3e-7, "worst relative error \(worst)")
    }

    @Test func expEdges() {
        var x: [Float] = [0, -.infinity, -100, -87.4, 88.5, 89, .infinity, 1, 2, 3], out = [Float](repeating: -1, count: 10)
        VectorMath.map(&x, &out, x.count) { VectorMath.exp($0) }
        #expect(out[0] == 1 && out[1] == 0 && out[2] == 0 && out[3] == 0)
        #expect(abs(Double(out[4]) / Foundation.exp(88.5) - 1) < 1e-6)       // computed by libm above 88
        #expect(out[5] == .infinity && out[6] == .infinity)
        #expect(abs(out[9] / Foundation.exp(Float(3)) - 1) < 3e-7)            // the tail after 8 lanes
    }

    /// The vector square root is the correctly rounded one: the scalar square root's bits, lane
    /// by lane, NaN for negative lanes.
    @Test func squareRootMatchesTheScalarOneBitForBit() {
        var rng = RNG(seed: 6)
        let xs = rng.uniform(4_000, low: 0, high: 1e6) + [0, 1e-40, 1e-10, 1, 2, .infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        for start in stride(from: 0, to: xs.count - 8, by: 8) {
            let v = VectorMath.squareRoot(VectorMath.Vector(xs[start..<(start + 8)]))
            for lane in 0..<8 { #expect(v[lane].bitPattern == xs[start + lane].squareRoot().bitPattern, "\(xs[start + lane])") }
        }
        #expect(VectorMath.squareRoot(VectorMath.Vector(repeating: -1)).min().isNaN)
    }

    @Test func mapWorksInPlaceAndOnEveryTailLength() {
        for n in 0...19 {
            var a = (0..<n).map { Float($0) / 4 - 2 }
            let expected = a.map { $0 / (1 + Foundation.exp(-$0)) }
            a.withUnsafeMutableBufferPointer { p in
                if let base = p.baseAddress { VectorMath.map(base, base, n) { $0 / (1 + VectorMath.exp(-$0)) } }
            }
            #expect(zip(a, expected).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) }, "n = \(n)")
        }
    }

    @Test func expShiftedReturnsTheSumOfWhatItWrites() {
        var rng = RNG(seed: 9)
        for n in [1, 7, 8, 9, 64, 77] {
            var x = rng.uniform(n, low: -30, high: 5)
            let m = x.max()!
            let expected = x.map { Foundation.exp(Double($0 - m)) }
            let total = x.withUnsafeMutableBufferPointer { VectorMath.expShifted($0.baseAddress!, n, minus: m) }
            #expect(zip(x, expected).allSatisfy { abs(Double($0) - $1) <= 3e-7 * $1 + 1e-30 })
            #expect(abs(Double(total) - expected.reduce(0, +)) < 1e-5 * expected.reduce(0, +))
        }
    }
}
