import Script
import Foundation
import TensorGraph
import Transfusion

/// Measuring models: text bits per byte and caption CIDEr-D.
enum MetricBuiltins {
    static let all: [Builtin] = [
        Builtin("bits_per_byte", "model, texts, length=64, batch=16",
                help: "Bits per byte of held-out text under the model (its perplexity per byte is 2 ** bpb): each text is BOS, its tokens (bytes, or the model's BPE tokens), EOS, and every token and the EOS are predicted from what comes before; total bits over total bytes of text, so models with different tokenizers compare. texts: a string, a list of strings, a text dataset (every document) or examples from take. Texts longer than a row of `length` positions are cut as training cuts them. Recorded as the metric bits_per_byte, and 2 ** bpb as perplexity_per_byte.",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nprint(bits_per_byte(m, [\"a red circle\", \"a blue square\"]) > 0)") { a in
            let model = try GenerationBuiltins.model(a)
            let texts = try measuredTexts(a, "texts")
            let result = try RuntimeError.located {
                var measure = try BitsPerByte(model: model, length: try a.size("length"), batch: try a.size("batch"))
                measure.cancellation = a.interpreter.interruptFlag.cancellation
                return try measure.measure(texts)
            }
            a.interpreter.record(Metric(name: "bits_per_byte", value: result.bitsPerByte))
            a.interpreter.record(Metric(name: "perplexity_per_byte", value: pow(2, result.bitsPerByte)))
            return .float(result.bitsPerByte)
        },
        Builtin("cider", "candidates, references",
                help: "CIDEr-D of candidate captions (one per image) against the images' reference captions, as coco-caption computes it: TF-IDF weighted 1- to 4-grams with document frequencies from the references, clipped counts, a Gaussian length penalty (σ = 6), ×10, averaged over references and images. references: a list of lists of captions, or a list of captions (one reference each). Words are lowercased with punctuation dropped. Recorded as the metric cider.",
                example: "refs = [[\"a red circle on the left\"], [\"a blue square on the right\"]]\nprint(cider([\"a red circle on the left\", \"a green triangle\"], refs))") { a in
            let candidates = try a.strings("candidates").values
            let references = try referenceSets(a, "references")
            let score = try RuntimeError.located { try CIDEr.score(candidates: candidates, references: references) }
            a.interpreter.record(Metric(name: "cider", value: score.mean))
            return .float(score.mean)
        },
    ]

    /// The texts `bits_per_byte` measures: a string, a list of strings, a text corpus (all its
    /// documents) or examples drawn with take.
    static func measuredTexts(_ a: Arguments, _ p: String) throws -> [String] {
        if case .object(let o) = a[p] {
            if let examples = o as? ExamplesValue { return examples.items.map(\.text) }
            if let data = o as? DatasetValue, let corpus = data.dataset as? TextCorpus { return corpus.documents.map(\.text) }
            throw a.error(p, "must be texts: a list of strings, a text(...) dataset or examples from take (a \(o.typeName) of images: use .take(n).captions)")
        }
        return try a.strings(p).values
    }

    /// Reference captions per image: a list of lists of strings, or a list of strings (one each).
    static func referenceSets(_ a: Arguments, _ p: String) throws -> [[String]] {
        try a.list(p).map { item in
            if case .string(let s) = item { return [s] }
            guard let captions = item.sequence else { throw a.error(p, "must be a list of lists of captions, found '\(item.typeName)'") }
            return try captions.map {
                guard case .string(let s) = $0 else { throw a.error(p, "captions must be strings, found '\($0.typeName)'") }
                return s
            }
        }
    }
}
