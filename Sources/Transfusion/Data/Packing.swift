import TensorGraph

/// One training example: text and images in order (an image is known here by its patch count;
/// its pixels travel separately).
public enum Segment: Equatable, Sendable {
    case text(String)
    case image(patches: Int)
    /// Token ids taken as text: an image as discrete tokens (the Chameleon baseline).
    case tokens([Int])
}

/// A packed, fixed-length sequence: what one row of a training batch holds.
///
/// - `tokens[i]` is the input token at i (a text token, BOS, EOS, BOI, EOI or PAD; PAD at patches).
/// - `lmTarget[i]` is the token the LM loss asks position i to predict, or nil where no LM loss
///   is taken: at patches, at BOI (its successor is a patch, not a token), before padding, and
///   at the last position of each example.
/// - `positions[i]` is the RoPE position: it counts from 0 in each example, and the patches of
///   an image take consecutive positions in raster order, like tokens.
/// - `layout` gives kinds, images and documents (one document per example) for masks.
public struct PackedSequence: Sendable {
    public var tokens: [Int] = []
    public var lmTarget: [Int?] = []
    public var positions: [Int] = []
    public var layout = SequenceLayout()
    /// Per image of the sequence: (example index, image index inside the example).
    public var images: [(example: Int, image: Int)] = []

    public var count: Int { tokens.count }
    public var lmLossCount: Int { lmTarget.compactMap { $0 }.count }
}

/// Packs examples into sequences of `length`: each example is BOS, its segments (images as
/// BOI, patches, EOI), EOS; examples are placed whole and in order, a sequence is padded when
/// the next example does not fit. Attention across examples is prevented by `same_document`.
public struct Packer: Sendable {
    public let length: Int
    public let tokenizer: Tokenizer

    public init(length: Int, tokenizer: Tokenizer = Tokenizer()) { self.length = length; self.tokenizer = tokenizer }

    /// The tokens of one example and, per position, whether it is a patch (and of which image).
    func flatten(_ example: [Segment]) -> [(token: Int, image: Int?)] {
        var out: [(Int, Int?)] = [(Tokenizer.bos, nil)]
        var image = 0
        for segment in example {
            switch segment {
            case .text(let s): out += tokenizer.encode(s).map { ($0, nil) }
            case .tokens(let ids): out += ids.map { ($0, nil) }
            case .image(let n):
                out.append((Tokenizer.boi, image))
                out += Array(repeating: (Tokenizer.pad, image), count: n)
                out.append((Tokenizer.eoi, image))
                image += 1
            }
        }
        out.append((Tokenizer.eos, nil))
        return out
    }

    public func pack(_ examples: [[Segment]]) throws -> [PackedSequence] {
        var sequences: [PackedSequence] = [], current = PackedSequence()
        for (index, example) in examples.enumerated() {
            let flat = flatten(example)
            guard flat.count <= length else {
                throw TensorGraphError("example \(index) needs \(flat.count) positions, more than the sequence length \(length)")
            }
            if current.count + flat.count > length {
                sequences.append(padded(current)); current = PackedSequence()
            }
            append(flat, example: example, index: index, document: current.layout.tokens.last.map { $0.document + 1 } ?? 0, to: &current)
        }
        if current.count > 0 { sequences.append(padded(current)) }
        return sequences
    }

    private func append(_ flat: [(token: Int, image: Int?)], example: [Segment], index: Int, document: Int,
                        to seq: inout PackedSequence) {
        var layout = seq.layout, i = 0, imageInExample = 0
        while i < flat.count {
            if flat[i].token == Tokenizer.boi && flat[i].image != nil {
                var n = 0
                while flat[i + 1 + n].token == Tokenizer.pad && flat[i + 1 + n].image != nil { n += 1 }
                layout.appendImage(patches: n, document: document)
                seq.images.append((index, imageInExample)); imageInExample += 1
                i += n + 2
            } else {
                layout.appendText(1, document: document); i += 1
            }
        }
        let start = seq.count
        for (j, item) in flat.enumerated() {
            seq.tokens.append(item.token)
            seq.positions.append(j)
            let kind = layout[start + j].kind
            let next = j + 1 < flat.count ? flat[j + 1] : nil
            // LM loss where the input is text-side (not a patch, not BOI) and the next is a token.
            let takesLoss = kind != .patch && kind != .boi && next != nil && layout[start + j + 1].kind != .patch
            seq.lmTarget.append(takesLoss ? next!.token : nil)
        }
        seq.layout = layout
    }

    private func padded(_ seq: PackedSequence) -> PackedSequence {
        var s = seq
        let n = length - s.count
        let document = (s.layout.tokens.last?.document ?? -1) + 1
        s.tokens += Array(repeating: Tokenizer.pad, count: n)
        s.lmTarget += Array(repeating: nil, count: n)
        s.positions += Array(repeating: 0, count: n)
        s.layout.appendPadding(n, document: document)
        return s
    }
}
