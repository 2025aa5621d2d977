import Script
import Foundation
import TensorGraph
import Transfusion

/// An image classifier in the language — of `shapes` attributes or of a captioned folder's
/// classes: `classifier(data)` trains one, `load_classifier` reads one back, and `fid` compares
/// image sets on its feature layer (an FID-like distance: the features are this small
/// classifier's, not Inception-v3's, so it is not FID).
final class ClassifierValue: ScriptObject {
    let classifier: ImageClassifier
    init(_ classifier: ImageClassifier) { self.classifier = classifier }

    static let type: ValueType = {
        let m = Members<ClassifierValue>("classifier")
        return ValueType("classifier", help: "A small image classifier (classifier(...), load_classifier) of shapes attributes or of a captioned folder's classes: it judges drawn images, and its feature layer is what fid compares.", fields: [
            m.field("size", "The side of the images it reads.") { .int($0.classifier.config.side) },
            m.field("width", "The width of its feature layer.") { .int($0.classifier.config.width) },
            m.field("parameters", "How many weights it has.") { .int($0.classifier.parameters.count) },
            m.field("labels", "The classes of a folder classifier, in head order (None for a shapes classifier).") { c in
                c.classifier.config.labels.map { .list(ListRef($0.map(Value.string))) } ?? Value.none
            },
            m.field("accuracy", "Held-out accuracy per attribute (or `label`), a dict (None when untrained).") { c in
                guard let a = c.classifier.accuracy else { return Value.none }
                return .dict(DictRef(a.all.map { ($0.0, .float($0.1)) }))
            },
        ], methods: [
            m.method("features", "images",
                     "The classifier's feature layer for images (drawn images, taken examples or a tensor [n, side, side, 3] in [0, 1]): a tensor [n, width], the vectors fid compares.",
                     example: "c = classifier(shapes(size=8), steps=2)\nprint(c.features(shapes(size=8).take(3)).shape)") { c, a in
                let images = try ClassifierBuiltins.images(a, "images", c.classifier)
                let f = try RuntimeError.located { try c.classifier.features(images) }
                return .tensor(.constant(TensorData(shape: [f.count, c.classifier.config.width], values: f.flatMap { $0.map(Float.init) })))
            },
            m.method("save", "path", "Writes the classifier (weights, config, held-out accuracy) as safetensors, atomically; load_classifier reads it.",
                     example: "classifier(shapes(size=8), steps=2).save(\"/tmp/tfs-classifier.safetensors\")") { c, a in
                try RuntimeError.located { try c.classifier.save(try a.path("path")) }
                return .none
            },
        ])
    }()

    var description: String {
        let c = classifier.config
        var s = "classifier(size=\(c.side), channels=\(c.channels), width=\(c.width)\(c.labels.map { ", \($0.count) labels" } ?? "")) — \(classifier.parameters.count) parameters"
        if let a = classifier.accuracy {
            s += "; held-out accuracy " + a.all.map { String(format: "%@ %.3f", $0.0, $0.1) }.joined(separator: ", ")
                + " (\(a.count) held-out images)"
        } else {
            s += "; untrained"
        }
        return s
    }
}

enum ClassifierBuiltins {
    static let all: [Builtin] = [
        Builtin("classifier", "data, steps=300, seed=0, batch=32, lr=3e-3, width=64, channels=16, eval_data=None",
                help: "Trains a small image classifier (two stride-2 conv layers, a shared feature layer `width` wide, a softmax head per attribute; AdamW, deterministic by seed) and returns it. On a shapes dataset it learns the four attributes of fresh one-object draws (colour, kind, size, position) and prints its accuracy per attribute on 500 held-out draws (.accuracy). On a captioned image folder (images(...)) each distinct caption is a class (.labels): it learns the folder's images and measures its accuracy on eval_data (another folder with the same captions; without it, on every tenth image, held out from training). Its feature layer is what fid compares; judge_images and judge_captions read images with it.",
                example: "c = classifier(shapes(size=8), steps=5, batch=8)\nprint(c.size, c.width)") { a in
            let steps = try a.size("steps"), batch = try a.size("batch")
            let lr = Float(try a.double("lr"))
            guard lr > 0 else { throw a.error("lr", "must be positive") }
            let seed = UInt64(max(0, try a.int("seed")))
            let classifier: ImageClassifier, examples: [ImageClassifier.Example]?, heldOut: [ImageClassifier.Example]?
            switch a["data"] {
            case .object(let data as ShapesValue):
                classifier = try make(a, side: data.shapes.side, labels: nil, seed: seed)
                (examples, heldOut) = (nil, nil)
            case .object(let data as DatasetValue):
                let pairs = try labelledFolder(data, a, "data").pairs
                let labels = Array(Set(pairs.map(\.caption))).sorted()
                guard labels.count >= 2 else { throw a.error("data", "has \(labels.count) distinct caption; a classifier needs at least 2 classes") }
                classifier = try make(a, side: data.dataset.imageSide!, labels: labels, seed: seed)
                let all = try labelled(pairs, classifier, a, "data")
                if a.has("eval_data") {
                    guard case .object(let held as DatasetValue) = a["eval_data"] else { throw a.error("eval_data", "must be a captioned image folder from images(...)") }
                    guard held.dataset.imageSide == data.dataset.imageSide else { throw a.error("eval_data", "has \(held.dataset.imageSide ?? 0)-pixel images; data has \(data.dataset.imageSide!)-pixel ones") }
                    (examples, heldOut) = (all, try labelled(try labelledFolder(held, a, "eval_data").pairs, classifier, a, "eval_data"))
                } else {
                    let split = all.indices.filter { $0 % 10 == 9 }
                    guard !split.isEmpty else { throw a.error("data", "holds \(all.count) images; with no eval_data, every tenth is held out, so it needs at least 10") }
                    (examples, heldOut) = (all.indices.filter { $0 % 10 != 9 }.map { all[$0] }, split.map { all[$0] })
                }
            default:
                throw a.error("data", "must be a shapes dataset or a captioned image folder from images(...)")
            }
            let side = classifier.config.side
            try a.fits(values: MemoryLimit.count([batch, side, side, 3 + classifier.config.channels]), "batch", "a batch of \(batch) images and their features")
            let interrupt = a.interpreter.interruptFlag, start = Date(), every = max(1, steps / 5)
            try RuntimeError.located {
                let trainer = try ImageClassifierTrainer(classifier: classifier, examples: examples, batch: batch, lr: lr, seed: seed &+ 1)
                while trainer.step < steps {
                    if interrupt.isRaised { break }
                    let loss = try trainer.trainStep()
                    if trainer.step % every == 0 || trainer.step == steps {
                        let elapsed = Date().timeIntervalSince(start)
                        let eta = elapsed / Double(trainer.step) * Double(steps - trainer.step)
                        FileHandle.standardError.write(Data((String(format: "classifier step %5ld/%ld  loss %.4f  ETA %@",
                                                                    trainer.step, steps, loss, Progress.clock(eta)) + "\n").utf8))
                    }
                }
                classifier.accuracy = try classifier.accuracy(on: heldOut ?? classifier.heldOut())
            }
            return .object(ClassifierValue(classifier))
        },
        Builtin("load_classifier", "path", help: "A shapes classifier saved by classifier.save: weights, config and held-out accuracy.",
                example: "classifier(shapes(size=8), steps=2).save(\"/tmp/tfs-classifier.safetensors\")\nprint(load_classifier(\"/tmp/tfs-classifier.safetensors\").size)") { a in
            .object(ClassifierValue(try RuntimeError.located { try ImageClassifier.load(try a.path("path")) }))
        },
        Builtin("fid", "classifier, images, real",
                help: "An FID-like distance (not FID: the features are those of a small shapes classifier tfs trains, not Inception-v3's): the Fréchet distance |μ₁ − μ₂|² + Tr(Σ₁ + Σ₂ − 2(Σ₁^½ Σ₂ Σ₁^½)^½) between Gaussians fitted to the classifier's features of two image sets (drawn images, taken examples or tensors [n, side, side, 3] in [0, 1]; at least 2 each). 0 for identical sets; compare values only under the same classifier. Recorded as the metric fid.",
                example: "c = classifier(shapes(size=8), steps=5, batch=8)\nprint(fid(c, shapes(size=8, seed=1).take(16), shapes(size=8, seed=2).take(16)) >= 0)") { a in
            let value = try classifierValue(a, "classifier")
            let images = try Self.images(a, "images", value.classifier), real = try Self.images(a, "real", value.classifier)
            for (p, set) in [("images", images), ("real", real)] where set.count < 2 {
                throw a.error(p, "must hold at least 2 images (a covariance needs two), got \(set.count)")
            }
            return .float(try fid(value.classifier, images, real, name: "fid", a))
        },
    ]

    /// The classifier argument `p`.
    static func classifierValue(_ a: Arguments, _ p: String) throws -> ClassifierValue {
        guard case .object(let o) = a[p], let value = o as? ClassifierValue else {
            throw a.error(p, "must be a classifier from classifier(...) or load_classifier(...)")
        }
        return value
    }

    /// A classifier of `side`-pixel images with the call's channels and width.
    static func make(_ a: Arguments, side: Int, labels: [String]?, seed: UInt64) throws -> ImageClassifier {
        let config = ImageClassifierConfig(side: side, channels: try a.size("channels"), width: try a.size("width"), labels: labels)
        if let problem = config.problem { throw a.error("data", problem) }
        return ImageClassifier(config, seed: seed)
    }

    /// The captioned image folder of a dataset argument (not text, mixtures or edits).
    static func labelledFolder(_ data: DatasetValue, _ a: Arguments, _ p: String) throws -> ImageTextDataset {
        guard let folder = data.dataset as? ImageTextDataset, !folder.pairs.contains(where: { $0.edited != nil }) else {
            throw a.error(p, "must be a captioned image folder from images(...) (its captions are the classes), not \(data.dataset.description)")
        }
        return folder
    }

    /// Pairs as labelled examples: each caption's index among the classifier's labels.
    static func labelled(_ pairs: [ImageTextDataset.Pair], _ classifier: ImageClassifier, _ a: Arguments, _ p: String) throws -> [ImageClassifier.Example] {
        let labels = classifier.config.labels ?? []
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        return try pairs.map { pair in
            guard let label = index[pair.caption] else {
                throw a.error(p, "\(pair.source) has the caption '\(pair.caption)', which is none of the classifier's \(labels.count) classes")
            }
            return ImageClassifier.Example(pixels: pair.pixels, labels: [label])
        }
    }

    /// Images of argument `p` (drawn images, taken examples or a tensor), of the classifier's side.
    static func images(_ a: Arguments, _ p: String, _ classifier: ImageClassifier) throws -> [[Float]] {
        let (images, side) = try VAEValue.images(a, p)
        guard side == classifier.config.side else {
            throw a.error(p, "holds \(side)×\(side) images; the classifier reads \(classifier.config.side)×\(classifier.config.side) ones")
        }
        return images
    }

    /// The FID-like distance between generated images and real ones, recorded as `name`.
    static func fid(_ classifier: ImageClassifier, _ images: [[Float]], _ real: [[Float]], name: String, _ a: Arguments) throws -> Double {
        let d = try RuntimeError.located { try classifier.frechetDistance(images, real) }
        a.interpreter.record(Metric(name: name, value: d))
        return d
    }
}
