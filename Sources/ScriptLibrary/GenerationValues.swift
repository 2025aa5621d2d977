import Script
import Foundation
import TensorGraph
import Transfusion
import Visual

/// Images in the language (drawn by a model, or from a dataset): shown as a grid with their
/// captions, saved as PNG or an image folder, a sequence of examples (`len`, `[i]`, slices,
/// `for`), turned into a tensor.
final class ImagesValue: ScriptSequence {
    let images: [[Float]]
    let side: Int
    let captions: [String]
    /// 1 for gray images (a gray model's; saved as gray PNGs), else 3.
    let channels: Int
    /// For edits: the image each was edited from (then an item is an edit triple).
    let sources: [[Float]]

    init(_ images: [[Float]], side: Int, captions: [String] = [], channels: Int = 3, sources: [[Float]] = []) {
        self.images = images; self.side = side; self.captions = captions; self.channels = channels; self.sources = sources
    }

    static let type: ValueType = {
        let m = Members<ImagesValue>("images")
        return ValueType("images", help: "Images drawn by a model (draw, edit, a VAE's decode): shown as a grid with their captions. A sequence: len(p), p[i] (an example: p[i].image, p[i].text), p[a:b], for ex in p.", fields: [
            m.field("count", "How many images.") { .int($0.images.count) },
            m.field("captions", "The caption (or instruction) of each image, a list of strings.") { .list(ListRef($0.captions.map { .string($0) })) },
            m.field("tensor", "The pixels as a [count, side, side, 3] tensor in [0, 1].") { i in
                .tensor(.constant(TensorData(shape: [i.images.count, i.side, i.side, 3], values: i.images.flatMap { $0 })))
            },
        ], methods: [
            ImageSaving.method(m, example: "m = transfusion(dim=32, layers=1, heads=2)\npictures = draw(m, [\"a red circle\", \"a blue square\"], steps=2)\npictures.save(\"/tmp/tfs-two.png\", grid=True)\npictures[0].save(\"/tmp/tfs-first.png\")\npictures.save(\"/tmp/tfs-drawn/\")") { i in
                (i.images.indices.map(i.example), i.side, i.channels)
            },
        ])
    }()

    func caption(_ i: Int) -> String { i < captions.count ? captions[i] : "" }
    func length() -> Int { images.count }
    /// Image i with its caption, or for an edit the triple (source, instruction, edited image).
    func example(_ i: Int) -> Example {
        Example(sources.isEmpty ? .pair(pixels: images[i], caption: caption(i)) : .edit(source: sources[i], instruction: caption(i), target: images[i]))
    }
    func item(_ i: Int) -> Value { .object(ExampleValue(example(i), side: side, channels: channels)) }
    func items(_ indices: [Int]) -> Value {
        .object(ImagesValue(indices.map { images[$0] }, side: side, captions: captions.isEmpty ? [] : indices.map(caption), channels: channels,
                            sources: sources.isEmpty ? [] : indices.map { sources[$0] }))
    }

    var description: String { "\(images.count) image\(images.count == 1 ? "" : "s") of \(side)×\(side)" + (captions.isEmpty ? "" : ": " + captions.joined(separator: " · ")) }

    func output() throws -> Output? {
        .png(try ImageGrid.png(images, side: side, captions: captions), caption: captions.isEmpty ? description : captions.joined(separator: " · "))
    }
}

/// What `generate` returns: the text and images a model wrote, in order.
final class GenerationValue: ScriptObject {
    let pieces: [GeneratedPiece]
    let side: Int, channels: Int
    init(_ pieces: [GeneratedPiece], side: Int, channels: Int = 3) { self.pieces = pieces; self.side = side; self.channels = channels }

    static let type: ValueType = {
        let m = Members<GenerationValue>("generation")
        return ValueType("generation", help: "What generate(...) wrote: text and images in order; prints as the text, shows with its images.", fields: [
            m.field("text", "The text, with <image> where an image was drawn.") { .string($0.text) },
            m.field("images", "The images it drew.") { g in .object(ImagesValue(g.images, side: g.side, channels: g.channels)) },
        ])
    }()

    var text: String { pieces.map { if case .text(let s) = $0 { s } else { "<image>" } }.joined() }
    var images: [[Float]] { pieces.compactMap { if case .image(let p) = $0 { p } else { nil } } }
    var description: String { text }

    func output() throws -> Output? {
        images.isEmpty ? .text(text) : .png(ImageGrid.png(images, side: side), caption: text)
    }
}

enum GenerationBuiltins {
    /// Parameters every generating builtin takes.
    static let sampling = "tokens=64, temperature=0, top_k=0, top_p=1, sampler='ddim', steps=50, eta=0, cfg=1, seed=0, cache=True"

    static let all: [Builtin] = [
        Builtin("generate", "model, prompt, images=2, " + sampling,
                help: "Continues a prompt (or a list of prompts, batched) with text and images: text is sampled (greedy at temperature 0, else with top_k/top_p) until EOS or `tokens`; when the model writes BOI, an image is denoised with the sampler ('ddim', 'ddpm', 'euler' or 'midpoint' over `steps`; cfg > 1 for classifier-free guidance) and text goes on after it. cache=False recomputes everything at every step.",
                example: "m = transfusion(dim=32, layers=1, heads=2)\ng = generate(m, \"a red\", tokens=4, steps=2)\nprint(g.images.count)") { a in
            let (model, generator) = try setup(a)
            let prompts = try Self.prompts(a, "prompt")
            let results = try RuntimeError.located { try generator.generate(prompts.values) }.map {
                Value.object(GenerationValue($0, side: try modelValue(a).pixelSide, channels: try modelValue(a).pixelChannels))
            }
            return prompts.single ? results[0] : .list(ListRef(results))
        },
        Builtin("draw", "model, caption, " + sampling,
                help: "One image per caption (a string or a list, batched): the caption, then BOI, then the sampler. Returns images (show them, .save(path) as PNG).",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nprint(draw(m, [\"a red circle\", \"a blue square\"], steps=2))") { a in
            let (model, generator) = try setup(a)
            let captions = try Self.prompts(a, "caption")
            let images = try RuntimeError.located { try generator.images(for: captions.values) }
            return .object(ImagesValue(images, side: try modelValue(a).pixelSide, captions: captions.values, channels: try modelValue(a).pixelChannels))
        },
        Builtin("caption", "model, image, " + sampling,
                help: "Text for each image (images from draw or a dataset, or a [n, side, side, 3] tensor): BOS, the clean image, then text until EOS. Returns a string for one image, a list for several.",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nprint(caption(m, shapes(size=16).take(1), tokens=5))") { a in
            let (model, generator) = try setup(a, imagesAllowed: false)
            let images = try pixels(a, "image", side: try modelValue(a).pixelSide)
            let captions = try RuntimeError.located { try generator.captions(for: images) }
            return captions.count == 1 ? .string(captions[0]) : .list(ListRef(captions.map { .string($0) }))
        },
        Builtin("edit", "model, image, instruction, " + sampling,
                help: "Each image edited as its instruction says (a model fine-tuned on edit triples): BOS, the clean image, the instruction, then the sampler draws the edited image. image and instruction may be lists of equal length.",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nprint(edit(m, shapes(size=16).take(1), \"make the circle blue\", steps=2))") { a in
            let (model, generator) = try setup(a)
            let images = try pixels(a, "image", side: try modelValue(a).pixelSide)
            let instructions = try Self.prompts(a, "instruction").values
            guard instructions.count == images.count || instructions.count == 1 else {
                throw a.error("instruction", "gives \(instructions.count) instructions for \(images.count) images")
            }
            let paired = instructions.count == 1 ? Array(repeating: instructions[0], count: images.count) : instructions
            let edited = try RuntimeError.located { try generator.edits(images, instructions: paired) }
            return .object(ImagesValue(edited, side: try modelValue(a).pixelSide, captions: paired, channels: try modelValue(a).pixelChannels, sources: images))
        },
        Builtin("judge_edits", "model, data, n=100, " + sampling,
                help: "Edits n held-out shapes images as held-out instructions say (recolour, move, reshape, add, remove) and judges each result against the edited objects: a dict of the shares right per attribute; `all` (every attribute and the count right) is the headline, and per-kind shares are included. Recorded as metrics.",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nprint(judge_edits(m, shapes(size=16), n=2, steps=2)[\"all\"] <= 1)") { a in
            let (_, generator) = try setup(a)
            let evaluation = try shapesEvaluation(a)
            let result = try RuntimeError.located { try evaluation.edits(generator) }
            try showJudged(result.images, result.instructions, side: evaluation.shapes.side, a)
            let d = scores(result.scores, prefix: "edits", a)
            for kind in ShapesEdits.Kind.allCases {
                let share = result.kinds[kind] ?? 0
                d[kind.rawValue] = .float(share)
                a.interpreter.record(Metric(name: "edits.\(kind.rawValue)", value: share, step: nil))
            }
            return .dict(d)
        },
        Builtin("judge_images", "model, data, n=100, " + sampling + ", classifier=None",
                help: "Draws an image for each of n held-out captions and reads it back: a dict of shares, each also recorded as a metric images.NAME; the images are shown. On a shapes dataset the dataset's judge reads colour, kind, size, position, count, colour_and_kind and all; with classifier= (from classifier(...)) the dict also has fid: the FID-like distance between the drawn images and the real images of the same held-out examples (needs n ≥ 2). On a captioned image folder (images(...), the held-out set: n of its images spread over its order) classifier= is required, a classifier trained on the folder's captions: `label` is the share it reads as the caption asked, `per_class` that share by caption, and fid as above.",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nprint(judge_images(m, shapes(size=16), n=2, steps=2)[\"colour\"] <= 1)") { a in
            let (_, generator) = try setup(a)
            let judge = a.has("classifier") ? try ClassifierBuiltins.classifierValue(a, "classifier").classifier : nil
            if let judge, judge.config.side != (try modelValue(a)).pixelSide {
                throw a.error("classifier", "reads \(judge.config.side)-pixel images; the model draws \((try modelValue(a)).pixelSide)-pixel ones")
            }
            if judge != nil, try a.size("n") < 2 { throw a.error("n", "must be at least 2 for fid (a covariance needs two images)") }
            if let evaluation = try labelledEvaluation(a) {
                guard let judge, judge.config.labels != nil else {
                    throw a.error("classifier", "judging a folder's images needs classifier=, trained on the folder's captions (classifier(data))")
                }
                let result = try RuntimeError.located { try evaluation.images(generator, classifier: judge) }
                try showJudged(result.images, evaluation.examples.map(\.caption), side: judge.config.side, a)
                let d = labelledScores(result.share, result.perClass, prefix: "images", a)
                d["fid"] = .float(try ClassifierBuiltins.fid(judge, result.images, evaluation.examples.map(\.pixels), name: "images.fid", a))
                return .dict(d)
            }
            let evaluation = try shapesEvaluation(a)
            if let judge, judge.config.labels != nil {
                throw a.error("classifier", "is a folder classifier (its classes are captions); a shapes dataset is judged by its own judge, with a shapes classifier for fid")
            }
            let result = try RuntimeError.located { try evaluation.images(generator) }
            try showJudged(result.images, result.captions, side: evaluation.shapes.side, a)
            let dict = scores(result.scores, prefix: "images", a)
            if let judge {
                let d = try ClassifierBuiltins.fid(judge, result.images, evaluation.examples().map(\.pixels), name: "images.fid", a)
                dict["fid"] = .float(d)
            }
            return .dict(dict)
        },
        Builtin("judge_captions", "model, data, n=100, " + sampling,
                help: "Captions n held-out images and checks them: a dict of shares, each also recorded as a metric captions.NAME. On a shapes dataset: the shares naming the right colour, kind, size and position (colour_and_kind is the headline) and the captions' CIDEr-D against the true captions (`cider`). On a captioned image folder (the held-out set: n of its images spread over its order): `label`, the share captioned exactly as the image is (without case or a final full stop), `per_class` that share by caption, `distinct` the number of different captions written (1 when the model names one class for every image) and `cider`.",
                example: "m = transfusion(dim=32, layers=1, heads=2)\nprint(judge_captions(m, shapes(size=16), n=2, tokens=4)[\"kind\"] <= 1)") { a in
            let (_, generator) = try setup(a, imagesAllowed: false)
            if let evaluation = try labelledEvaluation(a) {
                let result = try RuntimeError.located { try evaluation.captions(generator) }
                a.interpreter.write(zip(evaluation.examples.prefix(5), result.captions).map { "\($0.caption)  →  \($1)" }.joined(separator: "\n") + "\n")
                let d = labelledScores(result.share, result.perClass, prefix: "captions", a)
                d["distinct"] = .int(result.distinct); d["cider"] = .float(result.cider)
                a.interpreter.record(Metric(name: "captions.distinct", value: Double(result.distinct), step: nil))
                a.interpreter.record(Metric(name: "captions.cider", value: result.cider, step: nil))
                return .dict(d)
            }
            let evaluation = try shapesEvaluation(a)
            let result = try RuntimeError.located { try evaluation.captions(generator) }
            a.interpreter.write(zip(evaluation.examples().prefix(5), result.captions).map { "\($0.caption)  →  \($1)" }.joined(separator: "\n") + "\n")
            let d = scores(result.scores, prefix: "captions", a)
            d["cider"] = .float(result.cider)
            a.interpreter.record(Metric(name: "captions.cider", value: result.cider, step: nil))
            return .dict(d)
        },
    ]

    static func modelValue(_ a: Arguments) throws -> ModelValue {
        guard case .object(let o) = a["model"], let m = o as? ModelValue else { throw a.error("model", "must be a model from transfusion(...)") }
        return m
    }
    static func model(_ a: Arguments) throws -> TransfusionModel { try modelValue(a).model }

    /// The most tokens, images or denoising steps one generation call takes.
    static let maxTokens = 1 << 16

    static func setup(_ a: Arguments, imagesAllowed: Bool = true) throws -> (TransfusionModel, Generator) {
        let model = try model(a)
        var o = GenerationOptions()
        o.maxTokens = try a.size("tokens", atMost: maxTokens)
        o.maxImages = imagesAllowed && a.has("images") ? try a.size("images", atLeast: 0, atMost: maxTokens) : (imagesAllowed ? 2 : 0)
        o.text = TokenSampler(temperature: try a.number("temperature", "a number ≥ 0") { $0 >= 0 },
                              topK: try a.size("top_k", atLeast: 0),
                              topP: try a.number("top_p", "a probability in (0, 1]") { $0 > 0 && $0 <= 1 })
        let steps = try a.size("steps", atMost: maxTokens)
        switch try a.string("sampler") {
        case "ddim": o.sampler = .ddim(steps: steps, eta: try a.number("eta", "a number ≥ 0") { $0 >= 0 })
        case "ddpm": o.sampler = .ddpm(steps: steps)
        case "euler": o.sampler = .euler(steps: steps)
        case "midpoint": o.sampler = .midpoint(steps: steps)
        case let other: throw a.error("sampler", "must be 'ddim', 'ddpm', 'euler' or 'midpoint', not '\(other)'")
        }
        o.cfg = try a.number("cfg", "a guidance scale ≥ 0") { $0 >= 0 }; o.seed = UInt64(max(0, try a.int("seed"))); o.cached = try a.bool("cache")
        let generator = try RuntimeError.located { try Generator(model: model, options: o) }
        generator.cancellation = a.interpreter.interruptFlag.cancellation
        // A latent model draws latents, which its VAE decodes (and encodes the images it reads).
        generator.latents = try modelValue(a).vae.map(Latents.init)
        return (model, generator)
    }

    /// The most text a generation's prompts (captions, instructions) may hold, in UTF-8 bytes:
    /// far past any context tfs trains, and its tokens and caches still fit in memory (the
    /// script fuzzer's 100 MB prompt needed 7 GB before its first tensor).
    static let promptBytes = 1 << 20

    /// `strings`, for text a model is fed: at most `promptBytes` in all.
    static func prompts(_ a: Arguments, _ p: String) throws -> (values: [String], single: Bool) {
        let texts = try a.strings(p)
        let bytes = texts.values.reduce(0) { $0 + $1.utf8.count }
        guard bytes <= promptBytes else { throw a.error(p, "'\(p)' holds \(bytes) bytes of text; at most \(promptBytes) in all") }
        return texts
    }

    /// Images from an images value, a dataset's examples, or a [n, side, side, 3] / [side, side, 3] tensor.
    static func pixels(_ a: Arguments, _ p: String, side: Int) throws -> [[Float]] {
        let images = try pixels(a[p], a, p, side: side)
        guard !images.isEmpty else { throw a.error(p, "holds no images") }
        return images
    }

    /// Images from one value, or from each value of a list in turn.
    static func pixels(_ value: Value, _ a: Arguments, _ p: String, side: Int) throws -> [[Float]] {
        if case .object(let o) = value {
            if let i = o as? ImagesValue, i.side == side { return i.images }
            if let e = o as? ExamplesValue, e.side == side { return e.pairs.map(\.pixels) }
            if let e = o as? ExampleValue, e.side == side, let pixels = e.example.item.pixels { return [pixels] }
        }
        if case .list(let l) = value { return try l.items.flatMap { try pixels($0, a, p, side: side) } }
        guard case .tensor(let t) = value else { throw a.error(p, "must be images of \(side)×\(side) (from draw or a dataset), or a tensor") }
        let data = try RuntimeError.located { try t.realize() }
        let one = side * side * 3
        guard data.shape.suffix(3) == [side, side, 3], data.shape.count <= 4 else {
            throw a.error(p, "must have shape [n, \(side), \(side), 3] or [\(side), \(side), 3], got \(Shape.describe(data.shape))")
        }
        return stride(from: 0, to: data.count, by: one).map { Array(data.values[$0..<($0 + one)]) }
    }

    /// The judged examples when `data` is a captioned image folder (nil for shapes).
    static func labelledEvaluation(_ a: Arguments) throws -> LabelledEvaluation? {
        guard case .object(let o as DatasetValue) = a["data"] else { return nil }
        let folder = try ClassifierBuiltins.labelledFolder(o, a, "data")
        guard folder.side == (try modelValue(a)).pixelSide else {
            throw a.error("data", "has \(folder.side)-pixel images; the model draws \((try modelValue(a)).pixelSide)-pixel ones")
        }
        let n = try a.size("n")
        guard n <= folder.pairs.count else { throw a.error("n", "asks for \(n) held-out images; data holds \(folder.pairs.count)") }
        return try RuntimeError.located { try LabelledEvaluation(folder, count: n) }
    }

    /// A folder's scores as a dict: `label` (recorded as prefix.label) and `per_class`.
    static func labelledScores(_ share: Double, _ perClass: [(String, Double)], prefix: String, _ a: Arguments) -> DictRef {
        a.interpreter.record(Metric(name: "\(prefix).label", value: share, step: nil))
        return DictRef([("label", .float(share)), ("per_class", .dict(DictRef(perClass.map { ($0.0, .float($0.1)) })))])
    }

    static func shapesEvaluation(_ a: Arguments) throws -> ShapesEvaluation {
        guard case .object(let o) = a["data"], let data = o as? ShapesValue else { throw a.error("data", "must be a shapes dataset or a captioned image folder (images(...)) to judge against") }
        guard data.shapes.side == (try modelValue(a)).pixelSide else {
            throw a.error("data", "has \(data.shapes.side)-pixel images; the model draws \((try modelValue(a)).pixelSide)-pixel ones")
        }
        return ShapesEvaluation(shapes: data.shapes, count: try a.size("n"))
    }

    /// The scores as a dict, each also recorded as a metric `prefix.name`.
    static func scores(_ s: ShapesEvaluation.Scores, prefix: String, _ a: Arguments) -> DictRef {
        let entries: [(String, Double)] = [("colour", s.colour), ("kind", s.kind), ("size", s.size), ("position", s.position),
                                           ("count", s.number), ("colour_and_kind", s.colourAndKind), ("all", s.all)]
        for (k, v) in entries { a.interpreter.record(Metric(name: "\(prefix).\(k)", value: v, step: nil)) }
        return DictRef(entries.map { ($0.0, .float($0.1)) })
    }

    /// The first 16 judged images as a grid, with what each was asked to show.
    static func showJudged(_ images: [[Float]], _ texts: [String], side: Int, _ a: Arguments) throws {
        let texts = Array(texts.prefix(16))
        a.interpreter.emit(.png(try ImageGrid.png(Array(images.prefix(16)), side: side, captions: texts), caption: texts.joined(separator: " · ")))
    }
}
