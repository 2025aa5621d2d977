import TensorGraph

/// One training item: an image with its caption, or text alone.
public enum DatasetItem: Equatable, Sendable {
    /// An image (side × side × 3, values in [0, 1], row-major, channels last) and its caption.
    case pair(pixels: [Float], caption: String)
    case text(String)
    /// An edit: a source image, an instruction, and the edited image.
    case edit(source: [Float], instruction: String, target: [Float])
    /// An interleaved document: texts and images in order, every image learned.
    case document([DocumentPart])

    /// The caption of a pair, the text, the instruction of an edit, or a document's texts.
    public var text: String {
        switch self {
        case .pair(_, let caption): caption; case .text(let s): s; case .edit(_, let i, _): i
        case .document(let parts): parts.compactMap { if case .text(let s) = $0 { s } else { nil } }.joined(separator: " … ")
        }
    }
    /// The image of a pair, the edited image of an edit, or a document's first image.
    public var pixels: [Float]? {
        switch self {
        case .pair(let pixels, _): pixels; case .text: nil; case .edit(_, _, let target): target
        case .document(let parts): parts.lazy.compactMap { if case .image(let p) = $0 { p } else { nil } }.first
        }
    }
}

/// A part of an interleaved document.
public enum DocumentPart: Equatable, Sendable {
    case text(String)
    case image([Float])
}

/// A source of training items. Items are drawn with the caller's generator and nothing else,
/// so a dataset holds no position of its own: a run is deterministic by its seed and a
/// checkpoint (which saves the trainer's generator) resumes exactly. Finite datasets draw
/// with replacement.
public protocol Dataset: Sendable, CustomStringConvertible {
    /// The side of its images (square, RGB), or nil when it holds text only.
    var imageSide: Int? { get }
    /// The most images one item holds (an edit: its source and its target; text: none). A
    /// U-Net model runs its image path on this many slots per row.
    var imagesPerItem: Int { get }
    /// How many items it holds, nil when it is procedural.
    var count: Int? { get }
    /// 1 when every image it holds is gray (its three values equal in every pixel), else 3.
    /// Images are held as RGB either way.
    var imageChannels: Int { get }

    func draw(_ rng: inout RNG) -> DatasetItem

    /// The dataset ready for sequences of `length` positions when an image takes `patches`
    /// positions: long texts are cut into chunks that fit; throws, naming the item, when a
    /// caption and its image cannot fit.
    func fitted(length: Int, patches: Int) throws -> any Dataset

    /// Two parts with no item in common, the second with about `fraction` of the items (at
    /// least one on each side), chosen by `seed`. A procedural dataset, whose draws are new
    /// examples anyway, returns itself on both sides.
    func split(heldOut fraction: Double, seed: UInt64) throws -> (train: any Dataset, heldOut: any Dataset)
}

extension Dataset {
    public var imageChannels: Int { 3 }

    /// Positions an example takes besides its text: BOS and EOS, and BOI, EOI around the patches.
    static func overhead(patches: Int) -> Int { patches + 4 }

    /// The error for a caption too long to fit a sequence with its image.
    static func captionTooLong(_ bytes: Int, of item: String, length: Int, patches: Int) -> TensorGraphError {
        TensorGraphError("the caption of \(item) has \(bytes) bytes: with its image (\(patches) patches) it needs \(bytes + overhead(patches: patches)) positions, more than the sequence length \(length); raise length= or shorten it")
    }
}

/// `fraction` of `count` items, at least one and at most all but one.
func heldOutCount(_ count: Int, fraction: Double) throws -> Int {
    guard fraction > 0, fraction < 1 else { throw TensorGraphError("the held-out fraction must be between 0 and 1, got \(fraction)") }
    guard count >= 2 else { throw TensorGraphError("a dataset of \(count) item\(count == 1 ? "" : "s") cannot be split") }
    return min(count - 1, max(1, Int((Double(count) * fraction).rounded())))
}

/// The indices 0..<count in an order chosen by `seed` (Fisher–Yates).
func shuffledIndices(_ count: Int, seed: UInt64) -> [Int] {
    var rng = RNG(seed: seed), order = Array(0..<count)
    for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, rng.int(i + 1)) }
    return order
}
