import Foundation
import TensorGraph

/// Trains a Transfusion model on `shapes`: each step draws a batch (caption → image, or image →
/// caption with its noise capped, or an image with its caption dropped for classifier-free
/// guidance), runs the step's plan — built once — and updates the weights with AdamW.
public final class Trainer {
    public struct Options: Sendable {
        public var batch = 16, length = 64, steps = 1000, patch = 4
        public var lr: LRSchedule = .warmup(steps: 100) >> .cosine(peak: 1e-3)
        public var loss = LossWeights()
        public var imageFirst = 0.2, captionStepCap = 500, conditionDropout = 0.1
        public var seed: UInt64 = 1
        public init() {}
    }

    public struct Record: Equatable, Sendable { public let step: Int; public let total, lm, diffusion: Float }

    public let model: TransfusionModel
    public let options: Options
    public let shapes: Shapes
    public private(set) var step = 0
    public private(set) var history: [Record] = []
    var rng: RNG
    let inputs: BatchInputs
    let plan: Plan
    let optimizer: AdamW
    let gradients: [UnsafeMutableBufferPointer<Float>]
    let patchifier: Patchifier
    let feeder: BatchFeeder

    public init(model: TransfusionModel, shapes: Shapes, options: Options) throws {
        self.model = model; self.options = options; self.shapes = shapes
        patchifier = Patchifier(side: shapes.side, patch: options.patch)
        guard patchifier.patchValues == model.config.patchSize else {
            throw TensorGraphError("the model takes patches of \(model.config.patchSize) values; \(options.patch)×\(options.patch) RGB patches have \(patchifier.patchValues)")
        }
        rng = RNG(seed: options.seed)
        inputs = BatchInputs(batch: options.batch, length: options.length, config: model.config)
        let losses = try model.losses(inputs, weights: options.loss)
        let params = model.parameters.all
        plan = Plan([losses.total.node, losses.lm.node, losses.diffusion.node] + (try losses.total.gradients(wrt: params)).map(\.node))
        optimizer = AdamW(params.map { $0.node.storage! })
        gradients = (0..<params.count).map { [plan] in plan.outputBuffer($0 + 3) }
        feeder = BatchFeeder(model: model)
    }

    /// One step; returns its losses (measured before the update).
    @discardableResult
    public func trainStep() throws -> Record {
        var rows: [PackedSequence] = [], images: [[[Float]]] = [], limits: [[Int]] = []
        let packer = Packer(length: options.length)
        for _ in 0..<options.batch {
            let example = shapes.sample(&rng)
            let patches = patchifier.patches(example.pixels), n = patchifier.patchCount
            let roll = Double(rng.uniform())
            let segments: [Segment]
            if roll < options.imageFirst {
                segments = [.image(patches: n), .text(example.caption)]
                limits.append([options.captionStepCap])
            } else {
                let dropped = Double(rng.uniform()) < options.conditionDropout
                segments = [.text(dropped ? "" : example.caption), .image(patches: n)]
                limits.append([Int.max])
            }
            rows += try packer.pack([segments])
            images.append([patches])
        }
        for (node, value) in try feeder.values(rows, images: images, inputs: inputs, stepLimits: limits, rng: &rng) {
            try plan.set(node, value)
        }
        try plan.run()
        let record = Record(step: step, total: plan.scalar(0), lm: plan.scalar(1), diffusion: plan.scalar(2))
        optimizer.step(gradients, lr: Float(options.lr.rate(step, total: options.steps)))
        step += 1
        history.append(record)
        return record
    }

    // MARK: checkpoints

    /// Weights, AdamW moments, step and RNG state in one safetensors file, written atomically.
    public func save(_ path: String) throws {
        var tensors: [(String, TensorData)] = []
        for (i, name) in model.parameters.names.enumerated() {
            tensors.append((name, model.parameters[name].node.storage!.data))
            tensors.append(("optimizer.m." + name, optimizer.m[i].data))
            tensors.append(("optimizer.v." + name, optimizer.v[i].data))
        }
        let config = String(decoding: try JSONEncoder().encode(model.config), as: UTF8.self)
        try Safetensors.write(tensors, metadata: [
            "format": "tfs-checkpoint-1", "step": String(step), "optimizer_steps": String(optimizer.steps),
            "rng": rng.stateWords.map(String.init).joined(separator: ","), "config": config,
        ], to: path)
    }

    /// Continues exactly where a checkpoint of the same model and options stopped.
    public func resume(from path: String) throws {
        let file = try Safetensors.read(path: path)
        guard file.metadata["format"] == "tfs-checkpoint-1", let step = file.metadata["step"].flatMap(Int.init),
              let optSteps = file.metadata["optimizer_steps"].flatMap(Int.init),
              let words = file.metadata["rng"]?.split(separator: ",").compactMap({ UInt64($0) }), words.count == 4 else {
            throw TensorGraphError("\(path) is not a tfs checkpoint (missing format, step or rng metadata)")
        }
        for (i, name) in model.parameters.names.enumerated() {
            for (key, storage) in [(name, model.parameters[name].node.storage!), ("optimizer.m." + name, optimizer.m[i]),
                                   ("optimizer.v." + name, optimizer.v[i])] {
                guard let entry = file[key] else { throw TensorGraphError("\(path) has no tensor '\(key)'") }
                try storage.assign(entry.tensorData)
            }
        }
        self.step = step
        optimizer.restore(steps: optSteps)
        rng = RNG(state: words)
    }
}
