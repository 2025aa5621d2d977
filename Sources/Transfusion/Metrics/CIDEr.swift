import Foundation
import TensorGraph

/// CIDEr-D (Vedantam, Zitnick and Parikh, 2015) as the coco-caption code computes it (its
/// `Cider` scorer, which pycocoevalcap ships): each caption is a TF-IDF vector of its 1- to
/// 4-grams, with document frequencies counted over the images' reference sets; a candidate
/// scores, per n, the cosine between its vector and each reference's, with its weights
/// clipped by the reference's and a Gaussian penalty on the length difference (σ = 6); the
/// four n are averaged, then the references, and the result is scaled by 10.
///
/// Like coco-caption, the length compared is the caption's number of bigrams (words − 1),
/// and an n-gram no reference holds gets the largest idf, log(images).
public struct CIDEr {
    public static let maxN = 4
    public static let sigma = 6.0

    /// Per n (1...4), the count of each n-gram of one caption.
    typealias Counts = [[String: Int]]

    /// TF-IDF weights per n, their Euclidean norms per n, and the caption's bigram count.
    struct Vector {
        var weights: [[String: Double]]
        var norms: [Double]
        var length: Int
    }

    let references: [[Counts]]
    /// In how many images' reference sets each n-gram appears.
    let documentFrequency: [String: Int]
    /// log(number of images): the idf of an n-gram no reference holds.
    let logImages: Double

    /// The corpus: references[i] are the reference captions of image i.
    public init(references: [[String]]) throws {
        guard !references.isEmpty else { throw TensorGraphError("cider: no references") }
        if let empty = references.firstIndex(where: \.isEmpty) {
            throw TensorGraphError("cider: image \(empty) has no reference caption")
        }
        self.references = references.map { $0.map(Self.counts) }
        var frequency: [String: Int] = [:]
        for set in self.references {
            let grams = Set(set.flatMap { $0.flatMap(\.keys) })
            for gram in grams { frequency[gram, default: 0] += 1 }
        }
        documentFrequency = frequency
        logImages = log(Double(references.count))
    }

    /// The CIDEr-D of candidate captions against the references of the same images: the
    /// mean over images and each image's score.
    public static func score(candidates: [String], references: [[String]]) throws -> (mean: Double, scores: [Double]) {
        guard candidates.count == references.count else {
            throw TensorGraphError("cider: \(candidates.count) candidates for \(references.count) reference sets; give one candidate per image")
        }
        let corpus = try CIDEr(references: references)
        let scores = candidates.enumerated().map { corpus.score($0.element, image: $0.offset) }
        return (scores.reduce(0, +) / Double(scores.count), scores)
    }

    /// The score of one candidate caption for image `image` of the corpus.
    public func score(_ candidate: String, image: Int) -> Double {
        let hypothesis = vector(Self.counts(candidate))
        var total = 0.0
        for reference in references[image] {
            let similarities = Self.similarity(hypothesis, vector(reference))
            total += similarities.reduce(0, +) / Double(Self.maxN)
        }
        return total / Double(references[image].count) * 10
    }

    // MARK: the pieces

    /// The words of a caption: lowercased, split at white space, with punctuation dropped
    /// (coco-caption's PTB tokenizer removes punctuation tokens the same way).
    public static func words(_ caption: String) -> [String] {
        let punctuation = Set(".,;:!?\"'`()[]{}")
        return caption.lowercased().split(whereSeparator: \.isWhitespace)
            .map { String($0.filter { !punctuation.contains($0) }) }
            .filter { !$0.isEmpty }
    }

    /// The n-gram counts of a caption, n = 1...4 (an n-gram is its words joined by spaces).
    static func counts(_ caption: String) -> Counts {
        let w = words(caption)
        var counts = Counts(repeating: [:], count: maxN)
        for n in 1...maxN where w.count >= n {
            for start in 0...(w.count - n) {
                counts[n - 1][w[start..<(start + n)].joined(separator: " "), default: 0] += 1
            }
        }
        return counts
    }

    /// Term frequency × inverse document frequency, per n.
    func vector(_ counts: Counts) -> Vector {
        var v = Vector(weights: Array(repeating: [:], count: Self.maxN), norms: Array(repeating: 0, count: Self.maxN), length: 0)
        for n in 0..<Self.maxN {
            for (gram, count) in counts[n] {
                let idf = logImages - log(Double(max(1, documentFrequency[gram] ?? 0)))
                let weight = Double(count) * idf
                v.weights[n][gram] = weight
                v.norms[n] += weight * weight
            }
            v.norms[n] = v.norms[n].squareRoot()
        }
        v.length = counts[1].values.reduce(0, +)
        return v
    }

    /// Per n, the clipped cosine between a candidate and one reference, times the length penalty.
    static func similarity(_ h: Vector, _ r: Vector) -> [Double] {
        let delta = Double(h.length - r.length)
        let penalty = exp(-(delta * delta) / (2 * sigma * sigma))
        return (0..<maxN).map { n in
            var dot = 0.0
            for (gram, weight) in h.weights[n] {
                let reference = r.weights[n][gram] ?? 0
                dot += min(weight, reference) * reference
            }
            if h.norms[n] != 0 && r.norms[n] != 0 { dot /= h.norms[n] * r.norms[n] }
            return dot * penalty
        }
    }
}
