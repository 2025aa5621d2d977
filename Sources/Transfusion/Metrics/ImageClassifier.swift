import Foundation
import TensorGraph

/// The shape of an `ImageClassifier`: image side (a multiple of 4), the channels of its first
/// convolution (the second has twice as many), the width of the shared feature layer, and what
/// it predicts: the four attributes of a `shapes` object, or one label among `labels` (the
/// classes of a captioned image folder). Saved in the checkpoint's metadata as JSON.
public struct ImageClassifierConfig: Equatable, Sendable, Codable, CheckedConfig {
    public var side = 16
    public var channels = 16
    /// Width of the feature layer the heads share (and `features` returns).
    public var width = 64
    /// Training adds Gaussian pixel noise of standard deviation uniform in [0, noise] per image,
    /// so features stay meaningful on imperfect generated images.
    public var noise: Float = 0.1
    /// The class names of a one-head label classifier; nil for the shapes heads.
    public var labels: [String]?

    public init(side: Int = 16, channels: Int = 16, width: Int = 64, noise: Float = 0.1, labels: [String]? = nil) {
        self.side = side; self.channels = channels; self.width = width; self.noise = noise; self.labels = labels
    }

    /// The heads in order, with their class counts: `shapes`'s four attributes, or one `label`.
    public var heads: [(name: String, classes: Int)] {
        if let labels { return [("label", labels.count)] }
        return [("colour", Shapes.Colour.allCases.count), ("kind", Shapes.Kind.allCases.count),
                ("size", Shapes.Size.allCases.count), ("position", Shapes.Position.allCases.count)]
    }

    /// Why a config cannot make a classifier (nil when it can).
    public var problem: String? {
        if side < 4 || side % 4 != 0 { return "the classifier's image side must be a positive multiple of 4, got \(side)" }
        if channels < 1 { return "the classifier's channels must be positive, got \(channels)" }
        if width < 1 { return "the classifier's width must be positive, got \(width)" }
        if side > 1024 || channels > 1024 || width > 65_536 || 2 * channels * (side / 4) * (side / 4) * width > 1 << 28 {
            return "the classifier's side \(side), channels \(channels) and width \(width) make more than 2²⁸ weights"
        }
        if !(noise >= 0) { return "the classifier's training noise must not be negative, got \(noise)" }
        if let labels, labels.count < 2 || labels.count > 65_536 || Set(labels).count != labels.count {
            return "a label classifier needs 2 to 65536 distinct labels, got \(labels.count)\(Set(labels).count != labels.count ? " with repeats" : "")"
        }
        return nil
    }
}

/// A small image classifier trained by tfs — of single-object `shapes` images (colour, kind,
/// size, position) or of a labelled image folder — whose feature layer is the embedding of the
/// FID-like metric (`FrechetDistance`; not FID: no Inception network).
///
///   [n, s, s, 3] in [0, 1] → ×2 − 1 → conv3×3 stride 2 (+ bias) → c, ReLU
///   → conv3×3 stride 2 (+ bias) → 2c, ReLU → flatten (2c·(s/4)²) → linear → width, ReLU = features
///   → a linear head per attribute (`config.heads`)
/// The loss is the sum of the heads' cross-entropies. Built from TensorGraph ops and trained
/// like the VAE (`VAETrainer`): one plan for losses and gradients, built once, AdamW.
public final class ImageClassifier {
    /// An image and its class index per head.
    public struct Example: Sendable {
        public var pixels: [Float]
        public var labels: [Int]
        public init(pixels: [Float], labels: [Int]) { self.pixels = pixels; self.labels = labels }
        /// A shapes example, labelled by its first object.
        public init(_ e: Shapes.Example) { self.init(pixels: e.pixels, labels: ImageClassifier.labels(e.objects[0])) }
    }

    /// Shares of images whose attribute each head gets right, in head order.
    public struct Accuracy: Equatable, Sendable, Codable {
        public var heads: [String] = []
        public var shares: [Double] = []
        public var count = 0
        public var all: [(String, Double)] { Array(zip(heads, shares)) }
        public subscript(head: String) -> Double? { heads.firstIndex(of: head).map { shares[$0] } }
        public init() {}
    }

    /// The four class indices of one object (colour, kind, size, position).
    public static func labels(_ o: Shapes.Object) -> [Int] {
        [Shapes.Colour.allCases.firstIndex(of: o.colour)!, Shapes.Kind.allCases.firstIndex(of: o.kind)!,
         Shapes.Size.allCases.firstIndex(of: o.size)!, Shapes.Position.allCases.firstIndex(of: o.position)!]
    }

    public let config: ImageClassifierConfig
    public let parameters: Parameters
    /// Held-out accuracy measured after training (saved with the weights); nil before.
    public var accuracy: Accuracy?
    /// Forward plans (features and the heads' logits) by batch size, built on first use.
    private var forwards: [Int: (plan: Plan, input: Node)] = [:]
    /// Images per forward plan run.
    static let chunk = 128

    public init(_ config: ImageClassifierConfig = ImageClassifierConfig(), seed: UInt64 = 0) {
        precondition(config.problem == nil, config.problem ?? "")
        self.config = config
        parameters = Parameters(seed: seed)
        let c = config.channels, flat = 2 * c * (config.side / 4) * (config.side / 4)
        parameters.make("classifier.conv1", [c, 3, 3, 3], std: 1 / Float(3 * 9).squareRoot())
        parameters.make("classifier.conv1.bias", [c], fill: 0)
        parameters.make("classifier.conv2", [2 * c, c, 3, 3], std: 1 / Float(c * 9).squareRoot())
        parameters.make("classifier.conv2.bias", [2 * c], fill: 0)
        parameters.make("classifier.features", [flat, config.width], std: 1 / Float(flat).squareRoot())
        parameters.make("classifier.features.bias", [config.width], fill: 0)
        for (name, classes) in config.heads {
            parameters.make("classifier.\(name)", [config.width, classes], std: 1 / Float(config.width).squareRoot())
            parameters.make("classifier.\(name).bias", [classes], fill: 0)
        }
    }

    // MARK: Graph

    /// Features [n, width] and the heads' logits of images [n, s, s, 3] in [0, 1] (channels last).
    public func forward(_ images: Tensor) throws -> (features: Tensor, logits: [Tensor]) {
        let P = parameters, n = images.shape[0]
        func bias(_ name: String) throws -> Tensor { try P[name].reshape([1, P[name].shape[0], 1, 1]) }
        var h = try (images * 2 - 1).permute([0, 3, 1, 2])
        h = try (h.conv2d(P["classifier.conv1"], stride: 2, padding: 1) + bias("classifier.conv1.bias")).relu()
        h = try (h.conv2d(P["classifier.conv2"], stride: 2, padding: 1) + bias("classifier.conv2.bias")).relu()
        h = try h.reshape([n, h.count / n])
        let features = try (h.matmul(P["classifier.features"]) + P["classifier.features.bias"]).relu()
        let logits = try config.heads.map { try features.matmul(P["classifier.\($0.name)"]) + P["classifier.\($0.name).bias"] }
        return (features, logits)
    }

    /// The training loss: the sum of the heads' mean cross-entropies against `targets[i]` [n]
    /// (class indices as floats).
    public func loss(images: Tensor, targets: [Tensor]) throws -> Tensor {
        let logits = try forward(images).logits
        var total = try Tensor.crossEntropy(logits[0], targets[0])
        for i in 1..<logits.count { total = try total + Tensor.crossEntropy(logits[i], targets[i]) }
        return total
    }

    // MARK: Values

    private func check(_ images: [[Float]]) throws {
        let per = config.side * config.side * 3
        if let bad = images.firstIndex(where: { $0.count != per }) {
            throw TensorGraphError("the classifier reads \(config.side)×\(config.side) RGB images (\(per) values); image \(bad) has \(images[bad].count) values")
        }
    }

    /// Runs the forward plan over images in chunks: (features, logits per head) per image.
    private func run(_ images: [[Float]]) throws -> [(features: [Float], logits: [[Float]])] {
        try check(images)
        var out: [(features: [Float], logits: [[Float]])] = []
        out.reserveCapacity(images.count)
        for start in stride(from: 0, to: images.count, by: Self.chunk) {
            let part = images[start..<min(images.count, start + Self.chunk)], n = part.count
            if forwards[n] == nil {
                let input = Tensor.input("images", [n, config.side, config.side, 3])
                let f = try forward(input)
                forwards[n] = (try Plan([f.features.node] + f.logits.map(\.node)), input.node)
            }
            let (plan, input) = forwards[n]!
            let results = try plan.run([input: TensorData(shape: [n, config.side, config.side, 3], values: part.flatMap { $0 })])
            for i in 0..<n {
                func row(_ t: TensorData) -> [Float] { let w = t.shape[1]; return Array(t.values[i * w..<(i + 1) * w]) }
                out.append((row(results[0]), results[1...].map(row)))
            }
        }
        return out
    }

    /// The feature layer (after its ReLU) for images of side × side × 3 values in [0, 1].
    public func features(_ images: [[Float]]) throws -> [[Double]] {
        try run(images).map { $0.features.map(Double.init) }
    }

    /// The predicted class of each head (in `config.heads` order) per image.
    public func predict(_ images: [[Float]]) throws -> [[Int]] {
        try run(images).map { r in r.logits.map { l in l.indices.max { l[$0] < l[$1] }! } }
    }

    /// Accuracy per head on labelled examples.
    public func accuracy(on examples: [Example]) throws -> Accuracy {
        let predicted = try predict(examples.map(\.pixels)), heads = config.heads
        var right = [Int](repeating: 0, count: heads.count)
        for (p, e) in zip(predicted, examples) {
            for h in heads.indices where p[h] == e.labels[h] { right[h] += 1 }
        }
        var a = Accuracy(), n = Double(max(examples.count, 1))
        a.heads = heads.map(\.name); a.shares = right.map { Double($0) / n }; a.count = examples.count
        return a
    }

    /// `count` single-object held-out shapes examples from a seed training never uses.
    public func heldOut(count: Int = 500, seed: UInt64 = 0xF1D_0_5EED) -> [Example] {
        var rng = RNG(seed: seed)
        let shapes = Shapes(side: config.side)
        return (0..<count).map { _ in Example(shapes.sample(&rng)) }
    }

    // MARK: Checkpoints

    /// Weights, config and held-out accuracy in one safetensors file, written atomically.
    public func save(_ path: String) throws {
        var metadata = ["format": "tfs-shapes-classifier-1",
                        "config": String(decoding: try JSONEncoder().encode(config), as: UTF8.self)]
        if let accuracy { metadata["accuracy"] = String(decoding: try JSONEncoder().encode(accuracy), as: UTF8.self) }
        try Safetensors.write(parameters.names.map { ($0, parameters[$0].node.storage!.data) }, metadata: metadata, to: path)
    }

    /// A classifier saved by `save`.
    public static func load(_ path: String) throws -> ImageClassifier {
        let file = try Safetensors.read(path: path)
        let config = try file.savedConfig(ImageClassifierConfig.self, format: "tfs-shapes-classifier-1", what: "shapes classifier", path: path)
        let classifier = ImageClassifier(config)
        try classifier.parameters.assign(from: file, path: path)
        classifier.accuracy = file.metadata["accuracy"].flatMap { try? JSONDecoder().decode(Accuracy.self, from: Data($0.utf8)) }
        return classifier
    }

    // MARK: FID-like distance

    /// The Fréchet distance between the classifier features of two image sets (FID-like, not FID).
    public func frechetDistance(_ images: [[Float]], _ real: [[Float]]) throws -> Double {
        try FrechetDistance.distance(features(images), features(real))
    }
}

/// Trains an `ImageClassifier` (deterministic by seed): on fresh single-object `shapes` draws
/// from its own generator, or on labelled examples drawn with replacement. One plan for the
/// loss and gradients, built once, AdamW — the pattern of `VAETrainer`.
public final class ImageClassifierTrainer {
    public let classifier: ImageClassifier
    /// Where training examples come from.
    public enum Source { case shapes(Shapes), examples([ImageClassifier.Example]) }
    public let source: Source
    public let batch: Int
    public var lr: Float
    public private(set) var step = 0
    public private(set) var losses: [Float] = []
    public var rng: RNG
    let plan: Plan
    let images: Tensor, targets: [Tensor]
    public let optimizer: AdamW

    /// `examples` nil: fresh one-object shapes draws (a shapes classifier).
    public init(classifier: ImageClassifier, examples: [ImageClassifier.Example]? = nil, batch: Int = 32, lr: Float = 3e-3, seed: UInt64 = 0) throws {
        guard batch > 0 else { throw TensorGraphError("the classifier's batch must be positive, got \(batch)") }
        let side = classifier.config.side, heads = classifier.config.heads
        if let examples {
            guard !examples.isEmpty else { throw TensorGraphError("the classifier has no examples to learn from") }
            if let bad = examples.first(where: { $0.pixels.count != side * side * 3 || $0.labels.count != heads.count || zip($0.labels, heads).contains { $0 < 0 || $0 >= $1.classes } }) {
                throw TensorGraphError("a classifier example has \(bad.pixels.count) values and labels \(bad.labels); it reads \(side)×\(side) RGB images with a class per head \(heads.map(\.name))")
            }
            source = .examples(examples)
        } else {
            guard classifier.config.labels == nil else { throw TensorGraphError("a label classifier learns from labelled examples") }
            source = .shapes(Shapes(side: side))   // one object per image
        }
        self.classifier = classifier; self.batch = batch; self.lr = lr
        rng = RNG(seed: seed)
        images = Tensor.input("images", [batch, side, side, 3])
        targets = heads.map { Tensor.input("\($0.name).targets", [batch]) }
        let loss = try classifier.loss(images: images, targets: targets)
        let params = classifier.parameters.all
        plan = try Plan([loss.node] + (try loss.gradients(wrt: params)).map(\.node))
        optimizer = AdamW(params.map { $0.node.storage! }, weightDecay: 0)
    }

    /// One step: a fresh batch (with its pixel noise), the loss, gradients, an AdamW update.
    @discardableResult
    public func trainStep() throws -> Float {
        var pixels: [Float] = [], labels = [[Float]](repeating: [], count: classifier.config.heads.count)
        let side = classifier.config.side
        pixels.reserveCapacity(batch * side * side * 3)
        for _ in 0..<batch {
            let example: ImageClassifier.Example
            switch source {
            case .shapes(let shapes): example = ImageClassifier.Example(shapes.sample(&rng))
            case .examples(let all): example = all[rng.int(all.count)]
            }
            let sigma = classifier.config.noise * rng.uniform()
            if sigma > 0 {
                pixels += zip(example.pixels, rng.normal(example.pixels.count)).map { $0 + sigma * $1 }
            } else {
                pixels += example.pixels
            }
            for (h, label) in example.labels.enumerated() { labels[h].append(Float(label)) }
        }
        try plan.set(images.node, TensorData(shape: images.shape, values: pixels))
        for (t, l) in zip(targets, labels) { try plan.set(t.node, TensorData(shape: [batch], values: l)) }
        try Cancellation.$current.withValue(.never) { try plan.run() }   // a step runs whole
        let loss = plan.scalar(0)
        optimizer.step((1..<plan.outputs.count).map(plan.outputBuffer), lr: lr)
        step += 1
        losses.append(loss)
        return loss
    }

    /// Trains `steps` steps, then measures and stores the accuracy on `heldOut` (default: 500
    /// fresh shapes draws from a seed training never uses; a label classifier needs them given).
    @discardableResult
    public func train(steps: Int, heldOut: [ImageClassifier.Example]? = nil) throws -> ImageClassifier.Accuracy {
        for _ in 0..<steps { try trainStep() }
        let accuracy = try classifier.accuracy(on: heldOut ?? classifier.heldOut())
        classifier.accuracy = accuracy
        return accuracy
    }
}
