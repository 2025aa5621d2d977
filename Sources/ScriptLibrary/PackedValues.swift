import Script
import TensorGraph
import Transfusion

/// A packed training sequence in the language: its layout (for masks), tokens and targets.
final class PackedValue: ScriptObject {
    let sequence: PackedSequence
    /// What its text tokens mean.
    let tokenizer: Tokenizer
    init(_ sequence: PackedSequence, tokenizer: Tokenizer) { self.sequence = sequence; self.tokenizer = tokenizer }

    static let type: ValueType = {
        let m = Members<PackedValue>("packed_sequence")
        func floats(_ values: @escaping (PackedSequence) -> [Float]) -> (PackedValue) -> Value {
            { p in .tensor(.constant(TensorData(shape: [p.sequence.count], values: values(p.sequence)))) }
        }
        return ValueType("packed_sequence", help: "A packed training row (pack(...)): its layout, tokens, LM targets and RoPE positions.", fields: [
            m.field("layout", "Its layout, for masks.") { .object(LayoutValue($0.sequence.layout)) },
            m.field("count", "How many positions.") { .int($0.sequence.count) },
            m.field("tokens", "The token id at each position, a tensor.", floats { $0.tokens.map(Float.init) }),
            m.field("targets", "The LM target at each position, -1 where no LM loss is taken.", floats { $0.lmTarget.map { Float($0 ?? -1) } }),
            m.field("positions", "The RoPE position of each position.", floats { $0.positions.map(Float.init) }),
        ])
    }()

    var description: String {
        let text = tokenizer.decode(sequence.tokens.enumerated().map { i, t in
            sequence.layout[i].kind == .patch ? -1 : t
        }).replacingOccurrences(of: "<-1>", with: "▪")
        return "packed_sequence(\(sequence.count) positions, \(sequence.layout.imageCount) images, \(sequence.lmLossCount) LM targets): \(text)"
    }
}

/// Packing examples into fixed-length training sequences.
enum DataBuiltins {
    static let all: [Builtin] = [
        Builtin("pack", "examples, length=128, tokenizer=None",
                help: "Packs examples (lists of strings and patch counts, e.g. [\"a red circle\", 16]) into sequences of `length`: BOS, text bytes (or the tokens of tokenizer=, from bpe(...)), BOI patches EOI for images, EOS; padded.",
                example: "seqs = pack([[\"a red circle\", 16], [4, \"a caption\"]], length=64)\nprint(seqs[0].layout.count)") { a in
            let length = try a.size("length")
            let examples = try a.list("examples").enumerated().map { i, example -> [Segment] in
                guard let items = example.sequence else { throw a.error("examples", "example \(i) must be a list of strings and patch counts") }
                return try items.map { item -> Segment in
                    switch item {
                    case .string(let s): return .text(s)
                    case .int(let n) where n > 0 && n <= length: return .image(patches: n)
                    case .int(let n) where n > length:
                        throw a.error("examples", "example \(i): an image of \(n) patches does not fit in a sequence of length \(length)")
                    default: throw a.error("examples", "example \(i): expected a string or a positive patch count, got \(item.typeName)")
                    }
                }
            }
            let tokenizer = try TokenizerBuiltins.tokenizer(a)
            let packed = try RuntimeError.located { try Packer(length: length, tokenizer: tokenizer).pack(examples) }
            return .list(ListRef(packed.map { .object(PackedValue($0, tokenizer: tokenizer)) }))
        },
        Builtin("shapes", "size=16, seed=0, two=False",
                help: "Procedural captioned images: one coloured shape (6 colours, 4 kinds, 2 sizes, 5 positions) on black, or two with two=True; deterministic by seed.",
                example: "data = shapes(size=16, seed=0)\nprint(data.take(2))") { a in
            let side = try a.size("size")
            guard (8...256).contains(side) else { throw a.error("size", "must be between 8 and 256, got \(side)") }
            return .object(ShapesValue(side: side, seed: UInt64(max(0, try a.int("seed"))), two: try a.bool("two")))
        },
    ]
}
