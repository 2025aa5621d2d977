import TensorGraph

/// Images as discrete tokens, for the Chameleon baseline: each p×p patch becomes the index of
/// its nearest centroid in a codebook learned by k-means on the patches of a dataset's images,
/// and an index becomes its centroid again. Patch values are the `Patchifier`'s, in [-1, 1].
public struct Codebook: Equatable, Sendable, Codable {
    public let side: Int, patch: Int, channels: Int
    /// `size` centroids of `patchValues` values each, one after another.
    public let centroids: [Float]

    public var patchifier: Patchifier { Patchifier(side: side, patch: patch, channels: channels) }
    public var patchValues: Int { patch * patch * channels }
    public var size: Int { centroids.count / patchValues }
    /// Tokens an image takes (its patches).
    public var tokensPerImage: Int { patchifier.patchCount }

    /// Why a (saved) codebook is unusable, or nil.
    public var problem: String? {
        guard (1...4096).contains(side) else { return "side must be from 1 to 4096, got \(side)" }
        guard (1...side).contains(patch), side % patch == 0 else { return "patch must divide the side \(side), got \(patch)" }
        guard (1...64).contains(channels) else { return "channels must be from 1 to 64, got \(channels)" }
        guard centroids.count % patchValues == 0, (2...(1 << 16)).contains(size) else {
            return "it must hold 2 to 65536 whole centroids of \(patchValues) values, got \(centroids.count) values"
        }
        guard centroids.allSatisfy(\.isFinite) else { return "its centroids hold NaN or ±Inf" }
        return nil
    }

    enum CodingKeys: String, CodingKey { case side, patch, channels, centroids }

    /// A saved codebook is checked as it is read: its sizes divide one another (`size`
    /// divides by the patch's values).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        side = try c.decode(Int.self, forKey: .side); patch = try c.decode(Int.self, forKey: .patch)
        channels = try c.decode(Int.self, forKey: .channels); centroids = try c.decode([Float].self, forKey: .centroids)
        if let problem { throw DecodingError.dataCorruptedError(forKey: .patch, in: c, debugDescription: "the codebook: \(problem)") }
    }

    public init(side: Int, patch: Int, channels: Int = 3, centroids: [Float]) {
        precondition(centroids.count % (patch * patch * channels) == 0, "centroids must be whole patches")
        self.side = side; self.patch = patch; self.channels = channels; self.centroids = centroids
    }

    /// An image as a token span: BOI, its codes as token ids (from `firstCode`, the id after
    /// the text tokenizer's last: `ModelConfig.firstCode`), EOI.
    public func tokens(_ pixels: [Float], firstCode: Int) -> [Int] {
        [Tokenizer.boi] + codes(pixels).map { firstCode + $0 } + [Tokenizer.eoi]
    }

    /// The nearest centroid of each patch of an image, in raster order.
    public func codes(_ pixels: [Float]) -> [Int] {
        let patches = patchifier.patches(pixels), d = patchValues
        return patches.withUnsafeBufferPointer { p in
            centroids.withUnsafeBufferPointer { c in
                (0..<(patches.count / d)).map { Self.nearest(p.baseAddress! + $0 * d, c, dim: d) }
            }
        }
    }

    /// The image whose patches are the codes' centroids (side × side × channels, in [0, 1]).
    public func pixels(_ codes: [Int]) -> [Float] {
        let d = patchValues
        var patches = [Float](); patches.reserveCapacity(codes.count * d)
        for code in codes { patches += centroids[(code * d)..<((code + 1) * d)] }
        return patchifier.image(patches)
    }

    /// Mean squared error per value (on [0, 1] pixels) of images rebuilt from their codes.
    public func reconstructionError(_ images: [[Float]]) -> Double {
        var sum = 0.0, n = 0
        for image in images {
            for (a, b) in zip(image, pixels(codes(image))) { sum += Double((a - b) * (a - b)); n += 1 }
        }
        return n == 0 ? 0 : sum / Double(n)
    }

    static func nearest(_ x: UnsafePointer<Float>, _ c: UnsafeBufferPointer<Float>, dim d: Int) -> Int {
        var best = 0, bestDistance = Float.infinity
        for k in 0..<(c.count / d) {
            let distance = squaredDistance(x, c.baseAddress! + k * d, d)
            if distance < bestDistance { bestDistance = distance; best = k }
        }
        return best
    }

    /// ‖a − b‖² over `d` values.
    static func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var sum: Float = 0
        for j in 0..<d { let e = a[j] - b[j]; sum += e * e }
        return sum
    }
}

extension Codebook {
    /// A codebook of `size` centroids learned by k-means (k-means++ seeding, then Lloyd
    /// iterations) on the patches of `images` images drawn from `data` with `seed`.
    public static func learn(from data: any Dataset, size: Int, patch: Int, images: Int = 2000,
                             iterations: Int = 20, seed: UInt64 = 0, cancellation: Cancellation = .never) throws -> Codebook {
        guard let side = data.imageSide else { throw TensorGraphError("\(data) has no images to learn a codebook from") }
        guard side % patch == 0 else { throw TensorGraphError("patch \(patch) must divide the image side \(side)") }
        guard size >= 2 else { throw TensorGraphError("a codebook needs at least 2 centroids, got \(size)") }
        let patchifier = Patchifier(side: side, patch: patch)
        try MemoryLimit.check(values: MemoryLimit.count([images, side * side / (patch * patch), patchifier.patchValues]), "the patches of \(images) images")
        var rng = RNG(seed: seed), points: [Float] = [], drawn = 0, tries = 0
        while drawn < images && tries < 20 * images {
            tries += 1
            guard let pixels = data.draw(&rng).pixels else { continue }
            points += patchifier.patches(pixels); drawn += 1
        }
        guard drawn > 0 else { throw TensorGraphError("\(data) gave no images in \(tries) draws") }
        let d = patchifier.patchValues
        guard points.count / d >= size else {
            throw TensorGraphError("a codebook of \(size) centroids needs at least as many patches; \(drawn) images give \(points.count / d)")
        }
        var means = KMeans(points: points, dim: d)
        try cancellation.check("codebook", "after drawing \(drawn) images")
        means.seed(size, rng: &rng)
        for i in 0..<iterations {
            try cancellation.check("codebook", "after \(i) of \(iterations) k-means iterations")
            if !means.iterate() { break }
        }
        return Codebook(side: side, patch: patch, centroids: means.centroids)
    }
}

/// Lloyd's k-means over flat points, with the assignment step as one matrix product.
struct KMeans {
    let points: [Float], dim: Int
    var centroids: [Float] = []
    var count: Int { points.count / dim }

    init(points: [Float], dim: Int) { self.points = points; self.dim = dim }

    /// k-means++: each new centroid is a point drawn with probability ∝ its squared distance
    /// to the nearest centroid so far (repeated points get no second centroid while others remain).
    mutating func seed(_ k: Int, rng: inout RNG) {
        let n = count, d = dim
        var nearest = [Float](repeating: .infinity, count: n)
        var chosen = rng.int(n)
        centroids = []
        points.withUnsafeBufferPointer { p in
            for _ in 0..<k {
                let c = p.baseAddress! + chosen * d
                centroids += UnsafeBufferPointer(start: c, count: d)
                var total = 0.0
                for i in 0..<n {
                    nearest[i] = min(nearest[i], Codebook.squaredDistance(p.baseAddress! + i * d, c, d))
                    total += Double(nearest[i])
                }
                // All points already sit on a centroid: repeat one at random.
                guard total > 0 else { chosen = rng.int(n); continue }
                var target = Double(rng.uniform()) * total
                chosen = n - 1
                for i in 0..<n { target -= Double(nearest[i]); if target <= 0 && nearest[i] > 0 { chosen = i; break } }
            }
        }
    }

    /// Each point's nearest centroid: argmin over k of |c|² − 2·x·c.
    func assign() -> [Int] {
        let n = count, k = centroids.count / dim, d = dim
        var dots = [Float](repeating: 0, count: n * k)
        let norms = (0..<k).map { c in (0..<d).reduce(Float(0)) { $0 + centroids[c * d + $1] * centroids[c * d + $1] } }
        points.withUnsafeBufferPointer { p in
            centroids.withUnsafeBufferPointer { c in
                dots.withUnsafeMutableBufferPointer { out in
                    BLAS.product(transA: false, transB: true, m: n, n: k, k: d, a: p.baseAddress!, lda: d,
                                 b: c.baseAddress!, ldb: d, c: out.baseAddress!, ldc: k)
                }
            }
        }
        return (0..<n).map { i in
            var best = 0, bestScore = Float.infinity
            for c in 0..<k { let s = norms[c] - 2 * dots[i * k + c]; if s < bestScore { bestScore = s; best = c } }
            return best
        }
    }

    /// One Lloyd step: centroids move to the mean of their points (an empty one stays put).
    /// Returns whether any centroid moved.
    mutating func iterate() -> Bool {
        let owner = assign(), k = centroids.count / dim, d = dim
        var sums = [Double](repeating: 0, count: k * d), members = [Int](repeating: 0, count: k)
        for (i, c) in owner.enumerated() {
            members[c] += 1
            for j in 0..<d { sums[c * d + j] += Double(points[i * d + j]) }
        }
        var moved = false
        for c in 0..<k where members[c] > 0 {
            for j in 0..<d {
                let mean = Float(sums[c * d + j] / Double(members[c]))
                if mean != centroids[c * d + j] { moved = true; centroids[c * d + j] = mean }
            }
        }
        return moved
    }
}
