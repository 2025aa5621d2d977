import Script
import TensorGraph
import Transfusion

/// A text tokenizer in the language: the bytes and specials, and a BPE vocabulary's merges
/// (from `bpe(...)`), for `transfusion(..., tokenizer=...)` and to look at what it makes of text.
final class TokenizerValue: ScriptObject {
    let tokenizer: Tokenizer
    init(_ tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    static let type: ValueType = {
        let m = Members<TokenizerValue>("tokenizer")
        return ValueType("tokenizer", help: "A text tokenizer: the 256 bytes and 5 specials, and a BPE vocabulary's merges when made by bpe(...).", fields: [
            m.field("vocab", "How many token ids (bytes, specials and merges).") { .int($0.tokenizer.vocabularySize) },
            m.field("merges", "How many merges it learned.") { .int($0.tokenizer.merges.count) },
        ], methods: [
            m.method("encode", "text", "The token ids of a text (a list of ints): bytes 0–255, merges from 261.",
                     example: "tok = bpe([\"a red circle\", \"a red square\"], vocab=270)\nprint(tok.encode(\"a red circle\"))") { t, a in
                .list(ListRef(t.tokenizer.encode(try a.string("text")).map(Value.int)))
            },
            m.method("decode", "ids", "The text of a list of token ids; specials show as <bos>, <eos>, <boi>, <eoi>, <pad>.",
                     example: "tok = bpe([\"a red circle\", \"a red square\"], vocab=270)\nprint(tok.decode(tok.encode(\"a red circle\")))") { t, a in
                .string(t.tokenizer.decode(try a.list("ids").map { id in
                    guard let i = id.integer else { throw a.error("ids", "must be ints, found '\(id.typeName)'") }
                    return i
                }))
            },
            m.method("tokens", "text", "A text cut into its tokens, each as the text it spells (a list of strings): how the vocabulary reads it.",
                     example: "tok = bpe([\"a red circle\", \"a red square\"], vocab=270)\nprint(tok.tokens(\"a red circle\"))") { t, a in
                .list(ListRef(t.tokenizer.pieces(try a.string("text")).map(Value.string)))
            },
        ])
    }()

    var description: String {
        let t = tokenizer
        guard !t.merges.isEmpty else { return "tokenizer(bytes) — \(t.vocabularySize) ids: 256 bytes and 5 specials" }
        return "bpe(vocab=\(t.vocabularySize)) — \(t.merges.count) merges after 256 bytes and 5 specials; longest: "
            + longest(5).map(quote).joined(separator: ", ")
    }

    /// The `n` longest merge tokens as text (the earliest learned first among equals).
    func longest(_ n: Int) -> [String] {
        let ids = tokenizer.merges.indices.map { Tokenizer.firstMerge + $0 }
        let spelled = ids.map { tokenizer.spelling($0) ?? [] }
        return spelled.enumerated().sorted { ($1.element.count, $0.offset) < ($0.element.count, $1.offset) }
            .prefix(n).map { String(decoding: $0.element, as: UTF8.self) }
    }
}

enum TokenizerBuiltins {
    static let all: [Builtin] = [
        Builtin("bpe", "data, vocab=512, samples=10000, seed=0",
                help: "A byte-level BPE vocabulary of at most `vocab` token ids (the 256 bytes and 5 specials included, so vocab=512 learns up to 251 merges), learned from data: a string, a list of strings, examples from take(n), or a dataset — every document of text(...), every caption of images(...), or `samples` draws (by seed) from shapes(...) or a mixture. Text is cut into words (each with its leading space), numbers, symbols and spaces; the most frequent adjacent pair inside a piece becomes a new token, until the vocabulary is full or no pair occurs twice. Give it to transfusion(..., tokenizer=tok) or chameleon(..., tokenizer=tok).",
                example: "tok = bpe(shapes(size=16), vocab=300, samples=2000)\nprint(tok)\nprint(tok.tokens(\"a large red circle on the left\"))") { a in
            let texts = try trainingTexts(a)
            let vocabulary = try a.size("vocab")
            return .object(TokenizerValue(try RuntimeError.located { try Tokenizer.train(on: texts, vocabulary: vocabulary) }))
        },
    ]

    /// The texts of `bpe`'s data argument.
    static func trainingTexts(_ a: Arguments) throws -> [String] {
        switch a["data"] {
        case .object(let o as ExamplesValue): return o.items.flatMap(Tokenizer.texts(of:))
        case .object(let o as TrainingData):
            let samples = try a.size("samples")
            return Tokenizer.trainingTexts(from: o.dataset, samples: samples, seed: UInt64(max(0, try a.int("seed"))))
        default: return try a.strings("data").values
        }
    }

    /// The tokenizer of a `tokenizer=` argument (the byte tokenizer when it is not given).
    static func tokenizer(_ a: Arguments) throws -> Tokenizer {
        guard a.has("tokenizer") else { return Tokenizer() }
        guard case .object(let o) = a["tokenizer"], let t = o as? TokenizerValue else {
            throw a.error("tokenizer", "must be a tokenizer from bpe(...)")
        }
        return t.tokenizer
    }
}
