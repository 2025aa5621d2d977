import Foundation
import TensorGraph

/// Trains a Transfusion model on any dataset: each step draws a batch (text; caption → image,
/// or image → caption with its noise capped, or an image with its caption dropped for
/// classifier-free guidance — see `ExamplePolicy`), runs the step's plan — built once — and
/// updates the weights with AdamW. A held-out set, drawn once, measures both losses without
/// training on them.
public final class Trainer {
    public struct Options: Sendable {
        public var batch = 16, length = 64, steps = 100, patch = 4
        public var lr: LRSchedule = .warmup(steps: 100) >> .cosine(peak: 1e-3)
        public var loss = LossWeights()
        public var imageFirst = ExamplePolicy.both.imageFirst, captionStepCap = ExamplePolicy.both.captionStepCap, conditionDropout = 0.1
        public var seed: UInt64 = 1
        /// What a step with a non-finite loss or gradient norm does: stop the run (throwing
        /// `Divergence`) or skip its update — until `maxSkipsInARow` steps in a row were skipped.
        public var onNonFinite = NonFinitePolicy.stop
        public var maxSkipsInARow = 10
        /// The global gradient norm AdamW clips to (nil: no clipping).
        public var clip: Float? = 1.0
        public init() {}
        func policy(codebook: Codebook?) -> ExamplePolicy {
            var policy = ExamplePolicy(imageFirst: imageFirst, captionStepCap: captionStepCap, conditionDropout: conditionDropout)
            policy.codebook = codebook
            return policy
        }
    }

    public struct Record: Equatable, Sendable {
        public let step: Int; public let total, lm, diffusion: Float
        /// The script loss terms' values (unweighted), in the order of `Options.loss.terms`.
        public var extra: [Float] = []
        public init(step: Int, total: Float, lm: Float, diffusion: Float, extra: [Float] = []) {
            self.step = step; self.total = total; self.lm = lm; self.diffusion = diffusion; self.extra = extra
        }
        public var isFinite: Bool { total.isFinite && lm.isFinite && diffusion.isFinite && extra.allSatisfy(\.isFinite) }
        /// "loss 10.5 (LM 5.56, diffusion nan)", for messages.
        public var summary: String {
            func show(_ x: Float) -> String { x.isNaN ? "nan" : x.isFinite ? String(format: "%.6g", x) : "\(x)" }
            return "loss \(show(total)) (LM \(show(lm)), diffusion \(show(diffusion)))"
        }
    }
    public enum NonFinitePolicy: String, Sendable { case stop, skip }
    /// Mean losses over the held-out set after `step` steps (each loss averaged over all its
    /// targets: LM over tokens, diffusion over patch values; 0 when the set has none).
    public struct Evaluation: Equatable, Sendable { public let step: Int; public let lm, diffusion: Float }

    public let model: TransfusionModel
    public let options: Options
    /// The training data, fitted to the sequence length (long texts cut into chunks).
    public let data: any Dataset
    public private(set) var step = 0
    public private(set) var history: [Record] = []
    public private(set) var evaluations: [Evaluation] = []
    /// Steps whose update was skipped for a non-finite loss or gradient (`onNonFinite = .skip`),
    /// in all and in a row up to now.
    public private(set) var skippedSteps = 0, skipsInARow = 0
    /// Asked between held-out batches: a stop request (Ctrl-C) ends an evaluation there.
    public var cancellation = Cancellation.never
    var rng: RNG
    let inputs: BatchInputs
    let losses: TransfusionModel.Losses
    let plan: Plan
    let optimizer: AdamW
    let gradients: [UnsafeMutableBufferPointer<Float>]
    /// Nil when the data is text only.
    let patchifier: Patchifier?
    let feeder: BatchFeeder
    /// Images a row may hold (the training data's most per item).
    let imagesPerRow: Int
    /// How items become examples (images as tokens for a codebook model).
    let policy: ExamplePolicy
    /// Rows of the sequence length, text in the model's tokens.
    var packer: Packer { Packer(length: options.length, tokenizer: model.config.tokenizer) }
    var heldOut: HeldOutSet?

    public init(model: TransfusionModel, data: any Dataset, options: Options) throws {
        self.model = model; self.options = options
        patchifier = try Self.patchifier(for: data, options: options, model: model)
        self.data = try data.fitted(length: options.length, patches: patchifier?.patchCount ?? 0)
        rng = RNG(seed: options.seed)
        // Each row holds one example: U-Net models run their image path on as many slots per
        // row as an item of the data has images (at least one, so the plan has its U-Net).
        let perRow = max(1, self.data.imagesPerItem)
        imagesPerRow = perRow
        inputs = try BatchInputs(batch: options.batch, length: options.length, imageSlots: options.batch * perRow, config: model.config)
        losses = try model.losses(inputs, weights: options.loss)
        let params = model.parameters.all
        let scalars = [losses.total.node, losses.lm.node, losses.diffusion.node] + losses.extra.map(\.value.node)
        plan = try Plan(scalars + (try losses.total.gradients(wrt: params)).map(\.node))
        optimizer = AdamW(params.map { $0.node.storage! }, clip: options.clip)
        gradients = (0..<params.count).map { [plan] in plan.outputBuffer($0 + scalars.count) }
        feeder = BatchFeeder(model: model)
        policy = options.policy(codebook: model.config.codebook)
    }

    public convenience init(model: TransfusionModel, shapes: Shapes, options: Options) throws {
        try self.init(model: model, data: shapes, options: options)
    }

    /// How the data's images become patches: they must be the model's images (its side) and
    /// `patch` must divide them into patches of the model's patch size.
    static func patchifier(for data: any Dataset, options: Options, model: TransfusionModel) throws -> Patchifier? {
        guard let side = data.imageSide else { return nil }
        let c = model.config
        guard side == c.imageSide else {
            throw TensorGraphError("the images of \(data) are \(side)×\(side); the model draws \(c.imageSide)×\(c.imageSide) images (transfusion(image=\(c.imageSide)))")
        }
        guard side % options.patch == 0 else {
            throw TensorGraphError("the images of \(data) are \(side)×\(side): patch \(options.patch) must divide their side")
        }
        if let problem = LatentDataset.mismatch(data, latentModel: c.latent) { throw TensorGraphError(problem) }
        let patchifier = Patchifier(side: side, patch: options.patch, channels: c.channels, scaled: !c.latent)
        guard patchifier.patchValues == c.patchSize else {
            throw TensorGraphError("the model takes patches of \(c.patchSize) values; \(options.patch)×\(options.patch) \(c.latent ? "\(c.channels)-channel latent" : c.channels == 1 ? "gray" : "RGB") patches have \(patchifier.patchValues)")
        }
        return patchifier
    }

    /// One step; returns its losses (measured before the update). A non-finite loss or gradient
    /// norm never reaches the weights: the step throws `Divergence` (nothing updated, the step
    /// not counted), or with `onNonFinite = .skip` counts as a step without an update.
    @discardableResult
    public func trainStep() throws -> Record {
        try feedBatch()
        // A kernel's report (attention meeting NaN scores) is the divergence's symptom when
        // the losses are not finite, and a real failure otherwise.
        var failure: Error?
        // A step runs whole (its update must not be half-made); Ctrl-C is asked between steps.
        do { try Cancellation.$current.withValue(.never) { try plan.run() } } catch { failure = error }
        let record = Record(step: step, total: plan.scalar(0), lm: plan.scalar(1), diffusion: plan.scalar(2),
                            extra: losses.extra.indices.map { plan.scalar(3 + $0) })
        if let failure, record.isFinite { throw failure }
        // AdamW applies nothing when the gradient norm is not finite.
        let norm = record.isFinite ? optimizer.step(gradients, lr: Float(options.lr.rate(step, total: options.steps))) : .nan
        if record.isFinite && norm.isFinite {
            skipsInARow = 0
        } else {
            let divergence = Divergence(step: step, record: record, gradientNorm: record.isFinite ? norm : nil,
                                        skipsInARow: skipsInARow + 1, policy: options.onNonFinite)
            guard options.onNonFinite == .skip && skipsInARow + 1 < options.maxSkipsInARow else { throw divergence }
            skipsInARow += 1; skippedSteps += 1
        }
        step += 1
        history.append(record)
        return record
    }

    /// A step whose loss or gradient norm is not finite: the run diverged. `step` is the
    /// 0-based index of the step (the weights are those after `step` steps, all finite).
    public struct Divergence: Error, CustomStringConvertible {
        public let step: Int
        public let record: Record
        /// Nil when the loss was already non-finite (the gradients were then not used).
        public let gradientNorm: Float?
        public let skipsInARow: Int
        public let policy: NonFinitePolicy

        public var description: String {
            let norm = gradientNorm.map { ", gradient norm \($0.isNaN ? "nan" : "\($0)")" } ?? ""
            let what = policy == .skip ? "\(skipsInARow) steps in a row up to step \(step + 1) had non-finite losses or gradients"
                                       : "the run diverged at step \(step + 1)"
            return "\(what): \(record.summary)\(norm); the weights after step \(step) are unchanged. "
                + "Try a lower lr, a longer warmup (warmup(N) >> ...), a smaller clip=, or on_nonfinite=\"skip\" to skip such steps"
        }
    }

    /// Draws the next batch and feeds it to the step's plan.
    func feedBatch() throws {
        let batch = try policy.batch(options.batch, from: data, packer: packer,
                                     patchifier: patchifier, rng: &rng)
        // Inputs no loss reads (the diffusion time and SNR, unless a script term does) are not in the plan.
        for (node, value) in try feeder.values(batch.rows, images: batch.images, inputs: inputs, stepLimits: batch.stepLimits, rng: &rng)
            where plan.buffer(node) != nil {
            try plan.set(node, value)
        }
    }

    /// Where a training step's forward and backward time goes: one batch fed, the step's
    /// kernels timed over `runs` runs of it (seconds per kind of kernel, largest first). The
    /// weights are left untouched (the AdamW update, a few passes over the weights, is not timed).
    public func profile(runs: Int = 3) throws -> [(kernel: String, seconds: Double, calls: Int)] {
        try feedBatch()
        try plan.run()   // warm: first-touch page faults and BLAS buffers are not the step's cost
        return try plan.profile(runs: runs)
    }

    // MARK: held-out evaluation

    /// The held-out examples, drawn once and fed as fixed values (noise and diffusion steps
    /// included), and a forward-only plan of the losses over the same parameters.
    struct HeldOutSet {
        let plan: Plan
        let feeds: [[Node: TensorData]]
        let lmTargets: [Int], patchValues: [Int]
    }

    /// Fixes the held-out set: `batches` batches drawn from `data` (by default the training
    /// data, whose fresh draws suit procedural data) with their own generator, seeded apart
    /// from training so the run's own draws are untouched.
    public func holdOut(_ data: (any Dataset)? = nil, batches: Int, seed: UInt64? = nil) throws {
        // Held-out images are checked against the model like the training images.
        let patchifier = try data.map { try Self.patchifier(for: $0, options: options, model: model) } ?? self.patchifier
        let source = try data.map { try $0.fitted(length: options.length, patches: patchifier?.patchCount ?? 0) } ?? self.data
        if model.config.encoder == .unet && source.imagesPerItem > imagesPerRow {
            throw TensorGraphError("the held-out data has items of \(source.imagesPerItem) images; this run's U-Net takes \(imagesPerRow) per row, as many as its training data has")
        }
        var rng = RNG(seed: seed ?? options.seed &+ 0x9E37_79B9_7F4A_7C15)
        var feeds: [[Node: TensorData]] = [], lmTargets: [Int] = [], patchValues: [Int] = []
        for _ in 0..<max(1, batches) {
            let batch = try policy.batch(options.batch, from: source, packer: packer,
                                                 patchifier: patchifier, rng: &rng)
            feeds.append(try feeder.values(batch.rows, images: batch.images, inputs: inputs, stepLimits: batch.stepLimits, rng: &rng))
            lmTargets.append(batch.lmTargets); patchValues.append(batch.patchValues)
        }
        let plan = try heldOut?.plan ?? Plan([losses.total.node, losses.lm.node, losses.diffusion.node])
        heldOut = HeldOutSet(plan: plan, feeds: feeds, lmTargets: lmTargets, patchValues: patchValues)
    }

    /// Mean LM and diffusion losses over the held-out set with the current weights (no
    /// gradients, nothing updated); recorded in `evaluations`.
    @discardableResult
    public func evaluate() throws -> Evaluation {
        guard let set = heldOut else { throw TensorGraphError("no held-out set: call holdOut(...) first") }
        var lm = 0.0, diffusion = 0.0
        for (i, feed) in set.feeds.enumerated() {
            try cancellation.check("evaluation", "after \(i) of \(set.feeds.count) held-out batches")
            for (node, value) in feed where set.plan.buffer(node) != nil { try set.plan.set(node, value) }
            try set.plan.run()
            lm += Double(set.plan.scalar(1)) * Double(set.lmTargets[i])
            diffusion += Double(set.plan.scalar(2)) * Double(set.patchValues[i])
        }
        func mean(_ sum: Double, _ counts: [Int]) -> Float { let n = counts.reduce(0, +); return n == 0 ? 0 : Float(sum / Double(n)) }
        let evaluation = Evaluation(step: step, lm: mean(lm, set.lmTargets), diffusion: mean(diffusion, set.patchValues))
        evaluations.append(evaluation)
        return evaluation
    }

    // MARK: checkpoints

    /// Weights, AdamW moments, step and RNG state in one safetensors file, written atomically.
    /// A checkpoint never holds NaN or ±Inf: such a state is refused (the file is not touched).
    public func save(_ path: String) throws {
        let tensors = try stateTensors.map { key, storage -> (String, TensorData) in
            let data = storage.data
            guard data.values.allSatisfy(\.isFinite) else {
                throw TensorGraphError("refusing to write the checkpoint \(path) at step \(step): '\(key)' holds NaN or ±Inf values")
            }
            return (key, data)
        }
        let config = String(decoding: try JSONEncoder().encode(model.config), as: UTF8.self)
        try Safetensors.write(tensors, metadata: [
            "format": "tfs-checkpoint-1", "step": String(step), "optimizer_steps": String(optimizer.steps),
            "skipped_steps": String(skippedSteps),
            "rng": rng.stateWords.map(String.init).joined(separator: ","), "config": config, "mask": model.mask.json,
        ], to: path)
    }

    /// What a checkpoint holds by name: each parameter, and its AdamW moments.
    var stateTensors: [(String, Storage)] {
        model.parameters.names.enumerated().flatMap { i, name in
            [(name, model.parameters[name].node.storage!), ("optimizer.m." + name, optimizer.m[i]), ("optimizer.v." + name, optimizer.v[i])]
        }
    }

    /// Continues exactly where a checkpoint of the same model and options stopped. The file is
    /// untrusted: its counters, generator state and model must make sense before anything is used.
    public func resume(from path: String) throws {
        let file = try Safetensors.read(path: path)
        let state = try ResumeState(file.metadata, path: path)
        if let json = file.metadata["config"] {
            let saved: ModelConfig
            do { saved = try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) } catch {
                throw TensorGraphError("\(path): the model config in its metadata is unreadable (\(error))")
            }
            if let field = saved.firstDifference(from: model.config) {
                throw TensorGraphError("\(path) holds another model: its \(field.name) is \(field.saved), this model's is \(field.current)")
            }
        }
        for (key, storage) in stateTensors { try file.load(key, into: storage, path: path) }
        step = state.step
        skippedSteps = state.skipped; skipsInARow = 0
        optimizer.restore(steps: state.optimizerSteps)
        rng = RNG(state: state.rng)
    }

    /// The counters and generator state of a checkpoint, checked.
    struct ResumeState {
        let step: Int, optimizerSteps: Int, skipped: Int, rng: [UInt64]
        /// No run is longer than this; larger counts are damage.
        static let maxSteps = 1_000_000_000

        init(_ metadata: [String: String], path: String) throws {
            func fail(_ problem: String) -> TensorGraphError { TensorGraphError("\(path): \(problem)") }
            guard metadata["format"] == "tfs-checkpoint-1" else {
                throw fail("not a tfs training checkpoint (its format metadata is \(metadata["format"].map { "'\($0)'" } ?? "missing"), not 'tfs-checkpoint-1')")
            }
            func count(_ key: String, default value: Int? = nil) throws -> Int {
                guard let text = metadata[key] else {
                    if let value { return value }
                    throw fail("the checkpoint has no '\(key)' metadata")
                }
                guard let n = Int(text), (0...Self.maxSteps).contains(n) else {
                    throw fail("the checkpoint's '\(key)' must be a whole number from 0 to \(Self.maxSteps), got '\(text.prefix(40))'")
                }
                return n
            }
            step = try count("step")
            optimizerSteps = try count("optimizer_steps")
            skipped = try count("skipped_steps", default: 0)
            guard optimizerSteps <= step else { throw fail("the checkpoint's optimizer_steps (\(optimizerSteps)) exceeds its step (\(step))") }
            guard skipped <= step else { throw fail("the checkpoint's skipped_steps (\(skipped)) exceeds its step (\(step))") }
            let words = (metadata["rng"] ?? "").split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0) }
            guard words.count == 4, words.allSatisfy({ $0 != nil }), words.contains(where: { $0 != 0 }) else {
                throw fail("the checkpoint's 'rng' must be four unsigned 64-bit words, not all zero")
            }
            rng = words.map { $0! }
        }
    }
}
