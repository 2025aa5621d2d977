import Foundation
import TensorGraph
import Transfusion

/// Measuring models and comparing settings: text bits per byte, caption CIDEr-D, and sweeps
/// of an experiment over a grid of settings and seeds.
enum MetricBuiltins {
    static let all: [Builtin] = [
        Builtin("bits_per_byte", "model, texts, length=64, batch=16",
                help: "Bits per byte of held-out text under the model (its perplexity per byte is 2 ** bpb): each text is BOS, its tokens (bytes, or the model's BPE tokens), EOS, and every token and the EOS are predicted from what comes before; total bits over total bytes of text, so models with different tokenizers compare. texts: a string, a list of strings, a text dataset (every document) or examples from take. Texts longer than a row of `length` positions are cut as training cuts them. Recorded as the metric bits_per_byte, and 2 ** bpb as perplexity_per_byte.",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nprint(bits_per_byte(m, [\"a red circle\", \"a blue square\"]) > 0)") { a in
            let model = try GenerationBuiltins.model(a)
            let texts = try measuredTexts(a, "texts")
            let result = try MaskBuiltins.located {
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
            let candidates = try GenerationBuiltins.strings(a, "candidates").values
            let references = try referenceSets(a, "references")
            let score = try MaskBuiltins.located { try CIDEr.score(candidates: candidates, references: references) }
            a.interpreter.record(Metric(name: "cider", value: score.mean))
            return .float(score.mean)
        },
        Builtin("sweep", "experiment, grid, seeds=[0], metrics=None",
                help: "Runs an experiment once per combination of the grid's values (a dict of lists) and per seed, and returns a table of the metrics each run recorded (the last value of each name), its seed and wall time: shown as mean ± std over seeds per grid point; .save(\"x.jsonl\") writes one JSON line per run, .save(\"x.md\") Markdown. experiment: a script path, run in a fresh session with each setting replacing the script's top-level assignment (strings are expressions, as with tfs run --set; `seed = ...` takes the seed), or a function called with the settings and seed= as keywords, whose numbers (or dict of numbers) returned count as metrics too. A failing run is reported in the table and the sweep goes on. metrics= keeps only those names.",
                example: "def trial(width, seed):\n    record(\"score\", width + seed)\nprint(sweep(trial, {\"width\": [1, 2]}, seeds=[0, 1]))") { a in
            let sweep = try SweepArguments.sweep(a)
            let trial = try SweepArguments.trial(a, sweep)
            let table = sweep.run(progress: { run, done in
                FileHandle.standardError.write(Data(run.progressLine(done: done, of: sweep.runCount).utf8))
            }, trial: trial)
            if table.interrupted {
                a.interpreter.write("sweep: stopped after \(table.runs.count) of \(sweep.runCount) runs\n")
                a.interpreter.interruptFlag.raise()   // the cell stops too, as after Ctrl-C in train
            }
            return .object(SweepValue(table))
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
        return try GenerationBuiltins.strings(a, p).values
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
