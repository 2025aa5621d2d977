import Foundation
import TensorGraph

/// The Fréchet distance between two sets of feature vectors, each summarised by a Gaussian
/// (mean μ, covariance Σ): d² = |μ₁ − μ₂|² + Tr(Σ₁ + Σ₂ − 2(Σ₁^½ Σ₂ Σ₁^½)^½).
///
/// On the features of Inception-v3 this is FID; tfs computes it on the feature layer of a small
/// classifier it trains itself (`ImageClassifier`), so its values are **FID-like, not FID**:
/// comparable between runs that use the same classifier, not with published FID numbers.
/// Everything is in Double; matrix square roots come from a cyclic Jacobi eigendecomposition
/// (`SymmetricEigen`), with tiny negative eigenvalues (rounding) clamped to 0.
public enum FrechetDistance {
    /// Mean and covariance of a set of feature vectors.
    public struct Statistics: Equatable, Sendable {
        public var mean: [Double]
        /// Row-major d × d, normalised by n − 1 (as numpy's `cov` and pytorch-fid do).
        public var covariance: [Double]
        public var count: Int
        public var dimension: Int { mean.count }

        public init(mean: [Double], covariance: [Double], count: Int) {
            precondition(covariance.count == mean.count * mean.count, "the covariance must be d × d")
            self.mean = mean; self.covariance = covariance; self.count = count
        }

        /// The sample mean and covariance of at least two vectors of one dimension.
        public init(_ features: [[Double]]) throws {
            guard features.count >= 2 else {
                throw TensorGraphError("the Fréchet distance needs at least 2 feature vectors per set, got \(features.count)")
            }
            let d = features[0].count
            guard d > 0, features.allSatisfy({ $0.count == d }) else {
                throw TensorGraphError("feature vectors must all have the same positive length")
            }
            let n = features.count
            var mean = [Double](repeating: 0, count: d)
            for f in features { for j in 0..<d { mean[j] += f[j] } }
            for j in 0..<d { mean[j] /= Double(n) }
            var cov = [Double](repeating: 0, count: d * d)
            var centred = [Double](repeating: 0, count: d)
            for f in features {
                for j in 0..<d { centred[j] = f[j] - mean[j] }
                for i in 0..<d where centred[i] != 0 {
                    let ci = centred[i]
                    for j in i..<d { cov[i * d + j] += ci * centred[j] }
                }
            }
            for i in 0..<d {
                for j in i..<d {
                    let v = cov[i * d + j] / Double(n - 1)
                    cov[i * d + j] = v; cov[j * d + i] = v
                }
            }
            self.init(mean: mean, covariance: cov, count: n)
        }
    }

    /// d² between the Gaussians fitted to two sets of feature vectors.
    public static func distance(_ a: [[Double]], _ b: [[Double]]) throws -> Double {
        try distance(Statistics(a), Statistics(b))
    }

    /// d² = |μ₁ − μ₂|² + Tr Σ₁ + Tr Σ₂ − 2 Tr (Σ₁^½ Σ₂ Σ₁^½)^½. The last trace is the sum of the
    /// square roots of the eigenvalues of the symmetric matrix Σ₁^½ Σ₂ Σ₁^½ (equal to those of
    /// Σ₁Σ₂), so only symmetric eigendecompositions are needed. Clamped at 0 from below.
    public static func distance(_ s1: Statistics, _ s2: Statistics) throws -> Double {
        guard s1.dimension == s2.dimension else {
            throw TensorGraphError("the two feature sets have different dimensions (\(s1.dimension) and \(s2.dimension))")
        }
        let d = s1.dimension
        var meanTerm = 0.0
        for j in 0..<d { meanTerm += (s1.mean[j] - s2.mean[j]) * (s1.mean[j] - s2.mean[j]) }
        var traces = 0.0
        for i in 0..<d { traces += s1.covariance[i * d + i] + s2.covariance[i * d + i] }
        let root1 = squareRoot(s1.covariance, d)
        var middle = multiply(multiply(root1, s2.covariance, d), root1, d)
        symmetrise(&middle, d)
        let crossTrace = SymmetricEigen(middle, d).values.reduce(0) { $0 + Swift.max($1, 0).squareRoot() }
        return Swift.max(meanTerm + traces - 2 * crossTrace, 0)
    }

    /// The symmetric positive semi-definite square root of a symmetric d × d matrix:
    /// V diag(√max(λ, 0)) Vᵀ.
    public static func squareRoot(_ m: [Double], _ d: Int) -> [Double] {
        let e = SymmetricEigen(m, d)
        let roots = e.values.map { Swift.max($0, 0).squareRoot() }
        var out = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in i..<d {
                var s = 0.0
                for k in 0..<d { s += e.vectors[i * d + k] * roots[k] * e.vectors[j * d + k] }
                out[i * d + j] = s; out[j * d + i] = s
            }
        }
        return out
    }

    static func multiply(_ a: [Double], _ b: [Double], _ d: Int) -> [Double] {
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for k in 0..<d {
                let aik = a[i * d + k]
                if aik == 0 { continue }
                for j in 0..<d { c[i * d + j] += aik * b[k * d + j] }
            }
        }
        return c
    }

    static func symmetrise(_ m: inout [Double], _ d: Int) {
        for i in 0..<d {
            for j in (i + 1)..<Swift.max(d, i + 1) {
                let v = (m[i * d + j] + m[j * d + i]) / 2
                m[i * d + j] = v; m[j * d + i] = v
            }
        }
    }
}

/// The eigendecomposition A = V diag(λ) Vᵀ of a symmetric matrix by the cyclic Jacobi method:
/// sweeps of plane rotations, each zeroing one off-diagonal pair, until the off-diagonal mass
/// is negligible (quadratic convergence; a handful of sweeps for d ≤ 64).
public struct SymmetricEigen: Sendable {
    /// Eigenvalues, in no particular order.
    public let values: [Double]
    /// Row-major d × d; column k is the unit eigenvector of `values[k]`.
    public let vectors: [Double]
    /// Sweeps the method took.
    public let sweeps: Int

    public init(_ matrix: [Double], _ d: Int, maxSweeps: Int = 100) {
        precondition(matrix.count == d * d, "SymmetricEigen needs a d × d matrix")
        var a = matrix
        FrechetDistance.symmetrise(&a, d)
        var v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        var scale = 0.0
        for x in a { scale += x * x }
        var sweep = 0
        while sweep < maxSweeps {
            var off = 0.0
            for i in 0..<d { for j in (i + 1)..<Swift.max(d, i + 1) { off += a[i * d + j] * a[i * d + j] } }
            if off <= 1e-30 * scale || off == 0 { break }
            sweep += 1
            for p in 0..<d {
                for q in (p + 1)..<Swift.max(d, p + 1) {
                    let apq = a[p * d + q]
                    if apq == 0 { continue }
                    let app = a[p * d + p], aqq = a[q * d + q]
                    // Rotation angle: tan 2θ = 2 a_pq / (a_qq − a_pp), t = tan θ the smaller root.
                    let theta = (aqq - app) / (2 * apq)
                    let t = (theta >= 0 ? 1 : -1) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    // A ← Jᵀ A J: rows and columns p, q.
                    for k in 0..<d {
                        let akp = a[k * d + p], akq = a[k * d + q]
                        a[k * d + p] = c * akp - s * akq
                        a[k * d + q] = s * akp + c * akq
                    }
                    for k in 0..<d {
                        let apk = a[p * d + k], aqk = a[q * d + k]
                        a[p * d + k] = c * apk - s * aqk
                        a[q * d + k] = s * apk + c * aqk
                    }
                    a[p * d + q] = 0; a[q * d + p] = 0
                    // V ← V J.
                    for k in 0..<d {
                        let vkp = v[k * d + p], vkq = v[k * d + q]
                        v[k * d + p] = c * vkp - s * vkq
                        v[k * d + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        values = (0..<d).map { a[$0 * d + $0] }
        vectors = v; sweeps = sweep
    }
}
