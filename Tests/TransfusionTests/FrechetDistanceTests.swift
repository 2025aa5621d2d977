import Foundation
import Testing
import TensorGraph
@testable import Transfusion

@Suite struct FrechetDistanceTests {
    /// Random feature vectors: n × d, N(shift, scale²) per value.
    static func features(_ n: Int, _ d: Int, seed: UInt64, shift: Double = 0, scale: Double = 1) -> [[Double]] {
        var rng = RNG(seed: seed)
        return (0..<n).map { _ in rng.normal(d).map { Double($0) * scale + shift } }
    }

    static func symmetric(_ d: Int, seed: UInt64) -> [Double] {
        var rng = RNG(seed: seed)
        let r = rng.normal(d * d).map(Double.init)
        var m = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { m[i * d + j] = r[i * d + j] + r[j * d + i] } }
        return m
    }

    @Test func identicalSetsAreAtDistanceZero() throws {
        let a = Self.features(200, 16, seed: 1)
        let d = try FrechetDistance.distance(a, a)
        #expect(abs(d) < 1e-9, "d² = \(d)")
        // A set and a shifted copy: only the mean term remains, |shift|² · d.
        let shifted = a.map { $0.map { $0 + 0.5 } }
        #expect(abs(try FrechetDistance.distance(a, shifted) - 0.25 * 16) < 1e-8)
    }

    @Test func meanAndCovarianceOfKnownData() throws {
        let s = try FrechetDistance.Statistics([[1, 2], [3, 6], [5, 4]])
        #expect(s.mean == [3, 4])
        // Deviations (−2, −2), (0, 2), (2, 0): Σ = [[8, 4], [4, 8]] / 2.
        #expect(s.covariance == [4, 2, 2, 4])
        #expect(s.count == 3)
        #expect(throws: TensorGraphError.self) { try FrechetDistance.Statistics([[1, 2]]) }
        #expect(throws: TensorGraphError.self) { try FrechetDistance.Statistics([[1, 2], [1]]) }
    }

    /// Diagonal covariances commute: d² = |μ₁ − μ₂|² + Σ (σ₁ − σ₂)².
    @Test func diagonalGaussiansMatchTheClosedForm() throws {
        let d = 12
        var rng = RNG(seed: 5)
        let m1 = rng.normal(d).map(Double.init), m2 = rng.normal(d).map(Double.init)
        let s1 = rng.uniform(d, low: 0.1, high: 2).map(Double.init), s2 = rng.uniform(d, low: 0, high: 2).map(Double.init)
        func diagonal(_ s: [Double]) -> [Double] {
            var c = [Double](repeating: 0, count: d * d)
            for i in 0..<d { c[i * d + i] = s[i] * s[i] }
            return c
        }
        let got = try FrechetDistance.distance(.init(mean: m1, covariance: diagonal(s1), count: 2),
                                               .init(mean: m2, covariance: diagonal(s2), count: 2))
        var expected = 0.0
        for i in 0..<d { expected += (m1[i] - m2[i]) * (m1[i] - m2[i]) + (s1[i] - s2[i]) * (s1[i] - s2[i]) }
        #expect(abs(got - expected) < 1e-9 * max(1, expected), "got \(got), expected \(expected)")
    }

    /// For 2 × 2 matrices that do not commute, against the closed forms: the eigenvalues of
    /// Σ₁^½ Σ₂ Σ₁^½ are those of Σ₁Σ₂, and a 2 × 2 M with non-negative eigenvalues has
    /// Tr √M = √(Tr M + 2√det M) and √M = (M + √det M · I) / Tr √M.
    @Test func twoByTwoNonCommutingCovariances() throws {
        let cases: [([Double], [Double])] = [
            ([2, 1, 1, 2], [1, -0.5, -0.5, 3]),
            ([4, 0, 0, 1], [2, 1.5, 1.5, 2]),
            ([1, 0.99, 0.99, 1], [0.5, 0.2, 0.2, 0.1]),
            ([3, 1, 1, 1], [1, 0, 0, 0]),            // Σ₂ singular
        ]
        for (a, b) in cases {
            func det(_ m: [Double]) -> Double { m[0] * m[3] - m[1] * m[2] }
            let product = FrechetDistance.multiply(a, b, 2)
            #expect(abs(product[1] - FrechetDistance.multiply(b, a, 2)[1]) > 1e-6, "the case must not commute")
            let trProduct = product[0] + product[3]
            let crossTrace = (trProduct + 2 * (det(a) * det(b)).squareRoot()).squareRoot()
            let mu1 = [0.5, -1.0], mu2 = [1.5, 0.0]
            let expected = 2.0 + (a[0] + a[3]) + (b[0] + b[3]) - 2 * crossTrace
            let got = try FrechetDistance.distance(.init(mean: mu1, covariance: a, count: 2), .init(mean: mu2, covariance: b, count: 2))
            // A singular Σ₂ leaves an eigenvalue of about 1e-16 from rounding, whose root is 1e-8.
            let tolerance = det(b) == 0 ? 1e-7 : 1e-9
            #expect(abs(got - expected) < tolerance, "Σ₁ \(a), Σ₂ \(b): got \(got), expected \(expected)")

            let rootA = FrechetDistance.squareRoot(a, 2), s = det(a).squareRoot(), t = (a[0] + a[3] + 2 * s).squareRoot()
            let closed = [(a[0] + s) / t, a[1] / t, a[2] / t, (a[3] + s) / t]
            for i in 0..<4 { #expect(abs(rootA[i] - closed[i]) < 1e-12, "√\(a): \(rootA) vs \(closed)") }
        }
    }

    /// A = V diag(λ) Vᵀ with V orthonormal, for random symmetric matrices up to 64 × 64.
    @Test(arguments: [1, 2, 7, 33, 64]) func jacobiReconstructsASymmetricMatrix(d: Int) {
        let a = Self.symmetric(d, seed: UInt64(d))
        let e = SymmetricEigen(a, d)
        var worst = 0.0, worstOrtho = 0.0
        for i in 0..<d {
            for j in 0..<d {
                var s = 0.0, o = 0.0
                for k in 0..<d {
                    s += e.vectors[i * d + k] * e.values[k] * e.vectors[j * d + k]
                    o += e.vectors[k * d + i] * e.vectors[k * d + j]
                }
                worst = max(worst, abs(s - a[i * d + j]))
                worstOrtho = max(worstOrtho, abs(o - (i == j ? 1 : 0)))
            }
        }
        #expect(worst < 1e-10, "reconstruction error \(worst) after \(e.sweeps) sweeps")
        #expect(worstOrtho < 1e-12, "VᵀV − I up to \(worstOrtho)")
        #expect(e.sweeps < 20)
        // The trace is the sum of the eigenvalues.
        let trace = (0..<d).reduce(0.0) { $0 + a[$1 * d + $1] }
        #expect(abs(e.values.reduce(0, +) - trace) < 1e-9)
    }

    /// √Σ · √Σ = Σ for a positive semi-definite Σ with a zero eigenvalue (rank-deficient).
    @Test func squareRootOfASingularCovariance() throws {
        let s = try FrechetDistance.Statistics(Self.features(10, 16, seed: 3))   // rank ≤ 9
        let root = FrechetDistance.squareRoot(s.covariance, 16)
        let back = FrechetDistance.multiply(root, root, 16)
        let worst = zip(back, s.covariance).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-9, "√Σ² differs from Σ by \(worst)")
    }

    /// Sampled Gaussians: the distance estimates the closed form (and grows with the gap).
    @Test func sampledGaussiansApproachTheClosedForm() throws {
        let a = Self.features(4000, 4, seed: 10), b = Self.features(4000, 4, seed: 11, shift: 1, scale: 2)
        // |μ₁ − μ₂|² = 4, Σ (σ₁ − σ₂)² = 4.
        let d = try FrechetDistance.distance(a, b)
        #expect(abs(d - 8) < 0.4, "d² = \(d), expected about 8")
        let near = try FrechetDistance.distance(a, Self.features(4000, 4, seed: 12))
        #expect(near < 0.05, "two samples of one Gaussian: d² = \(near)")
    }
}
