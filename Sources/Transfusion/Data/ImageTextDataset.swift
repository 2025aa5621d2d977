import TensorGraph

/// Captioned images held in memory, all side × side RGB: what an image folder loads into.
/// A pair with an edited image is an edit triple (source, instruction, edited image).
public struct ImageTextDataset: IndexedDataset {
    public struct Pair: Equatable, Sendable {
        /// side × side × 3 values in [0, 1], row-major, channels last.
        public var pixels: [Float]
        public var caption: String
        /// Where the pair came from (a file name), for error messages.
        public var source: String
        /// For an edit triple: the edited image (the caption is then the instruction).
        public var edited: [Float]?
        /// The rest of its metadata line (`label`, `font`, …), by name.
        public var fields: [MetadataField]
        public init(pixels: [Float], caption: String, source: String, edited: [Float]? = nil, fields: [MetadataField] = []) {
            self.pixels = pixels; self.caption = caption; self.source = source; self.edited = edited; self.fields = fields
        }

        /// The pair as a dataset item: a captioned image, or an edit triple.
        public var item: DatasetItem {
            edited.map { .edit(source: pixels, instruction: caption, target: $0) } ?? .pair(pixels: pixels, caption: caption)
        }
    }

    public let side: Int
    public let pairs: [Pair]
    /// 1 when every image is gray (its three values equal in every pixel), else 3.
    public let imageChannels: Int
    /// What the dataset is called when printed (the folder it came from).
    public let name: String

    public init(side: Int, pairs: [Pair], name: String = "images") throws {
        guard !pairs.isEmpty else { throw TensorGraphError("\(name) holds no images") }
        if let bad = pairs.first(where: { $0.pixels.count != side * side * 3 || ($0.edited.map { $0.count != side * side * 3 } ?? false) }) {
            throw TensorGraphError("\(bad.source) has \(bad.pixels.count) values; a \(side)×\(side) RGB image has \(side * side * 3)")
        }
        self.side = side; self.pairs = pairs; self.name = name
        func gray(_ p: [Float]) -> Bool {
            var i = 0
            while i < p.count { if p[i] != p[i + 1] || p[i] != p[i + 2] { return false }; i += 3 }
            return true
        }
        imageChannels = pairs.allSatisfy { pair in gray(pair.pixels) && (pair.edited.map(gray) ?? true) } ? 1 : 3
    }

    public var imageSide: Int? { side }
    public var imagesPerItem: Int { pairs.contains { $0.edited != nil } ? 2 : 1 }
    public var count: Int? { pairs.count }
    public var description: String { "\(name): \(pairs.count) \(imageChannels == 1 ? "gray " : "")images \(side)×\(side) with captions" }

    public func draw(_ rng: inout RNG) -> DatasetItem { pairs[rng.int(pairs.count)].item }

    public var length: Int { pairs.count }
    public func example(_ i: Int) -> Example { Example(pairs[i].item, fields: pairs[i].fields) }
    public func subset(_ indices: [Int]) throws -> any IndexedDataset {
        try ImageTextDataset(side: side, pairs: indices.map { pairs[$0] }, name: name)
    }

    public func fitted(length: Int, patches: Int) throws -> any Dataset {
        if let long = pairs.max(by: { $0.caption.utf8.count < $1.caption.utf8.count }),
           long.caption.utf8.count + Self.overhead(patches: patches) + (long.edited == nil ? 0 : patches + 2) > length {
            throw Self.captionTooLong(long.caption.utf8.count, of: long.source, length: length, patches: patches)
        }
        return self
    }

    public func split(heldOut fraction: Double, seed: UInt64) throws -> (train: any Dataset, heldOut: any Dataset) {
        let n = try heldOutCount(pairs.count, fraction: fraction), order = shuffledIndices(pairs.count, seed: seed)
        func part(_ indices: ArraySlice<Int>, _ suffix: String) throws -> ImageTextDataset {
            try ImageTextDataset(side: side, pairs: indices.sorted().map { pairs[$0] }, name: "\(name) (\(suffix))")
        }
        return (try part(order.dropFirst(n), "train"), try part(order.prefix(n), "held out"))
    }
}
