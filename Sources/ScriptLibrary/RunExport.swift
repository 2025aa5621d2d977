import Foundation
import Script
import TensorGraph
import Transfusion

/// `export_run(model, data, "run.json", …)`: a script's model and training settings as a run
/// file for the PyTorch trainer (`python -m tfs_torch.train run.json`, docs/scale.md). Beside
/// the JSON it writes the model's current weights as a step-0 checkpoint (`run.init.safetensors`)
/// and the data as the trainer reads it: a text corpus as `.jsonl`, captioned images (and any
/// procedural or latent dataset, drawn `items` times with the run's seed) as a safetensors file
/// of pixels [n, side, side, channels] with the captions in its metadata, a mixture as its
/// parts and weights. Paths in the JSON are relative to its folder.
enum RunExport {
    static let format = "tfs-run-1"

    static let builtin = Builtin(
        "export_run",
        "model, data, path, steps=\(TrainingBuiltins.defaults.steps), batch=\(TrainingBuiltins.defaults.batch), length=\(TrainingBuiltins.defaults.length), lr=None, seed=\(TrainingBuiltins.defaults.seed), checkpoint=None, save_every=0, keep=3, on_nonfinite='stop', clip=1.0, recipe='both', image_first=\(TrainingBuiltins.defaults.imageFirst), caption_noise=\(TrainingBuiltins.defaults.captionStepCap), cfg_dropout=\(TrainingBuiltins.defaults.conditionDropout), items=2000",
        help: "Writes what train(model, data, ...) would run as a run file for the PyTorch trainer (python -m tfs_torch.train path, also under torchrun): the model's config, mask and current weights (path's name with .init.safetensors), the loss, AdamW and learning-rate settings, and the data (a text corpus as .jsonl; captioned images, and procedural or latent data drawn `items` times with the seed, as a safetensors file of pixels). checkpoint= is where the PyTorch run writes its tfs checkpoints (every save_every steps too, keeping the newest `keep`); load_model reads them. Returns the run file's path.",
        example: "m = transfusion(dim=32, layers=1, heads=2)\nprint(export_run(m, shapes(size=16), \"/tmp/tfs-run.json\", steps=10, batch=4, items=8))") { a in
        let (model, data) = try TrainingBuiltins.modelAndData(a)
        let options = try TrainingBuiltins.trainingOptions(a, model: model.model, loss: model.loss)
        let path = try a.path("path"), checkpoint = try a.optionalPath("checkpoint")
        let saveEvery = try TrainingBuiltins.count(a, "save_every"), keep = try a.size("keep")
        let items = try a.size("items", atMost: 1_000_000)
        if saveEvery > 0 && checkpoint == nil {
            throw a.error("save_every", "periodic saves need checkpoint=\"runs/NAME.safetensors\" (they are written next to it)")
        }
        guard model.model.config.codebook == nil else { throw a.error("model", "a Chameleon (codebook) model has no PyTorch counterpart") }
        try RuntimeError.located {
            try write(model: model.model, data: data, options: options, to: path, checkpoint: checkpoint,
                      saveEvery: saveEvery, keep: keep, items: items)
        }
        return .string(path)
    }

    static func write(model: TransfusionModel, data: any Dataset, options: Trainer.Options, to path: String,
                      checkpoint: String?, saveEvery: Int, keep: Int, items: Int) throws {
        let folder = (path as NSString).deletingLastPathComponent, base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        func file(_ suffix: String) -> (name: String, path: String) {
            let name = base + suffix
            return (name, folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name))
        }
        // The data's images must be the model's; texts are fitted to the rows as training fits them.
        let c = model.config
        if let side = data.imageSide, side != c.imageSide {
            throw TensorGraphError("the images of \(data) are \(side)×\(side); the model draws \(c.imageSide)×\(c.imageSide) images")
        }
        let patches = data.imageSide == nil ? 0 : c.patchesPerImage ?? 0
        let fitted = try data.fitted(length: options.length, patches: patches)
        var written = 0
        func next(_ ext: String) -> (name: String, path: String) { written += 1; return file(".data\(written).\(ext)") }
        var rng = RNG(seed: options.seed)
        let source = try spec(fitted, items: items, channels: model.config.channels, rng: &rng, next: next)
        let initial = file(".init.safetensors")
        try model.saveCheckpoint(to: initial.path)
        let o = options
        let run: [String: Any] = [
            "format": format, "init": initial.name, "data": source,
            "loss": ["lm": Double(o.loss.lm), "diffusion": Double(o.loss.diffusion)],
            "train": [
                "steps": o.steps, "batch": o.batch, "length": o.length, "seed": Int(o.seed), "lr": schedule(o.lr),
                "clip": o.clip.map { Double($0) } ?? NSNull(), "on_nonfinite": o.onNonFinite.rawValue,
                "image_first": o.imageFirst, "caption_noise": o.captionStepCap == Int.max ? NSNull() : o.captionStepCap as Any,
                "cfg_dropout": o.conditionDropout,
                "adamw": ["beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.1],
            ] as [String: Any],
            "checkpoint": checkpoint ?? NSNull(), "save_every": saveEvery, "keep": keep,
        ]
        let json = try JSONSerialization.data(withJSONObject: run, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The data as the PyTorch trainer reads it, writing the files it needs.
    static func spec(_ data: any Dataset, items: Int, channels: Int, rng: inout RNG,
                     next: (String) -> (name: String, path: String)) throws -> [String: Any] {
        switch data {
        case let mixture as Mixture:
            let parts = try mixture.parts.map { try spec($0, items: items, channels: channels, rng: &rng, next: next) }
            return ["mixture": ["parts": parts, "weights": mixture.weights]]
        case let corpus as TextCorpus:
            return try texts(corpus.documents.map(\.text), next: next)
        case let images as ImageTextDataset where images.pairs.allSatisfy({ $0.edited == nil }):
            return try pairs(images.pairs.map { ($0.pixels, $0.caption) }, side: images.side, channels: channels, next: next)
        default:
            // Procedural (shapes) or derived (VAE latents) data: drawn as training would draw it.
            let drawn = (0..<items).map { _ in data.draw(&rng) }
            var found: [([Float], String)] = [], words: [String] = []
            for item in drawn {
                switch item {
                case .pair(let pixels, let caption): found.append((pixels, caption))
                case .text(let text): words.append(text)
                case .edit, .document:
                    throw TensorGraphError("export_run: \(data) holds edit triples or interleaved documents; the PyTorch trainer takes captioned images and texts")
                }
            }
            guard let side = data.imageSide, !found.isEmpty else { return try texts(words, next: next) }
            let images = try pairs(found, side: side, channels: channels, next: next)
            guard !words.isEmpty else { return images }
            return ["mixture": ["parts": [images, try texts(words, next: next)], "weights": [Double(found.count), Double(words.count)]]]
        }
    }

    static func texts(_ documents: [String], next: (String) -> (name: String, path: String)) throws -> [String: Any] {
        let target = next("jsonl")
        let lines = try documents.map { String(decoding: try JSONSerialization.data(withJSONObject: ["text": $0]), as: UTF8.self) }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: target.path), options: .atomic)
        return ["text": ["path": target.name]]
    }

    static func pairs(_ pairs: [([Float], String)], side: Int, channels: Int,
                      next: (String) -> (name: String, path: String)) throws -> [String: Any] {
        let target = next("safetensors")
        let captions = String(decoding: try JSONSerialization.data(withJSONObject: pairs.map(\.1)), as: UTF8.self)
        // A gray model's pixels: the mean of each pixel's three values, as its patches take them.
        var values = pairs.flatMap(\.0)
        if channels == 1 && values.count == pairs.count * side * side * 3 { values = GrayPixels.mean(values) }
        try Safetensors.write([("pixels", TensorData(shape: [pairs.count, side, side, channels], values: values))],
                              metadata: ["captions": captions], to: target.path)
        return ["pairs": ["path": target.name]]
    }

    /// A learning-rate schedule as JSON: {"constant": r}, {"warmup": n}, {"cosine": {"peak", "floor"}}, …
    static func schedule(_ s: LRSchedule) -> [String: Any] {
        switch s {
        case .constant(let r): return ["constant": r]
        case .warmup(let n): return ["warmup": n]
        case .cosine(let peak, let floor): return ["cosine": ["peak": peak, "floor": floor]]
        case .linear(let peak, let floor): return ["linear": ["peak": peak, "floor": floor]]
        case .then(let a, let b): return ["then": [schedule(a), schedule(b)]]
        }
    }
}
