import Script
import Foundation
import TensorGraph
import Transfusion
import Visual

/// A convolutional VAE in the language: `vae(...)` makes one, `train_vae` trains it,
/// `load_vae` reads one back; `encode`, `decode` and `reconstruct` move between pixels and
/// (scaled) latents.
final class VAEValue: ScriptObject {
    let vae: VAE
    init(_ vae: VAE) { self.vae = vae }

    static let type: ValueType = {
        let m = Members<VAEValue>("vae")
        return ValueType("vae", help: "A convolutional VAE (vae(...), train_vae, load_vae): moves images to latents and back.", fields: [
            m.field("channels", "Latent channels.") { .int($0.vae.config.channels) },
            m.field("factor", "How many pixels a latent side covers (2, 4 or 8).") { .int($0.vae.config.factor) },
            m.field("scale", "The factor latents are multiplied by so they have unit variance.") { .float(Double($0.vae.scale)) },
            m.field("parameters", "How many weights it has.") { .int($0.vae.parameters.count) },
        ], methods: [
            m.method("encode", "images, sample=False",
                     "Latents of images (an image folder or a slice of one, taken examples, drawn images, or a tensor [n, side, side, 3] in [0, 1]): a tensor [n, side/factor, side/factor, channels] of posterior means (or samples with sample=True), times the VAE's scale.",
                     example: "v = vae(width=8)\nprint(v.encode(shapes(size=8).take(2)).shape)") { v, a in
                let (images, side) = try VAEValue.images(a, "images")
                var rng: RNG? = try a.bool("sample") ? RNG(seed: a.interpreter.rng.next()) : nil
                let latents = Latents(v.vae)
                let z = try RuntimeError.located { try latents.encode(images, side: side, rng: &rng) }
                let s = try RuntimeError.located { try latents.side(forImage: side) }
                return .tensor(.constant(TensorData(shape: [images.count, s, s, latents.channels], values: z.flatMap { $0 })))
            },
            m.method("decode", "latents", "Images decoded from scaled latents [n, s, s, channels] (what encode returns), clipped to [0, 1].",
                     example: "v = vae(width=8)\nshow(v.decode(v.encode(shapes(size=8).take(2))))") { v, a in
                let t = try RuntimeError.located { try a.tensor("latents").realize() }
                guard t.rank == 4, t.shape[1] == t.shape[2], t.shape[3] == v.vae.config.channels else {
                    throw a.error("latents", "must be a tensor [n, s, s, \(v.vae.config.channels)], got \(Shape.describe(t.shape))")
                }
                let per = t.count / max(t.shape[0], 1)
                let items = (0..<t.shape[0]).map { Array(t.values[$0 * per..<($0 + 1) * per]) }
                let images = try RuntimeError.located { try Latents(v.vae).decode(items, latentSide: t.shape[1]) }
                return .object(ImagesValue(images, side: t.shape[1] * v.vae.config.factor, channels: v.vae.config.imageChannels == 1 ? 1 : 3))
            },
            m.method("reconstruct", "images",
                     "The images decoded from their own latent means, beside nothing else: show(v.reconstruct(test[:8])) to judge a VAE by eye.",
                     example: "v = vae(width=8)\nshow(v.reconstruct(shapes(size=8).take(4)))") { v, a in
                let (images, side) = try VAEValue.images(a, "images")
                let latents = Latents(v.vae)
                let back = try RuntimeError.located { try latents.decode(latents.encode(images, side: side), latentSide: latents.side(forImage: side)) }
                return .object(ImagesValue(back, side: side, channels: v.vae.config.imageChannels == 1 ? 1 : 3))
            },
            m.method("save", "path", "Writes the VAE (weights, config, latent scale) as safetensors, atomically; load_vae reads it.",
                     example: "vae(width=8).save(\"/tmp/tfs-vae.safetensors\")") { v, a in
                try RuntimeError.located { try v.vae.save(try a.path("path")) }
                return .none
            },
        ])
    }()

    var description: String {
        let c = vae.config
        let gray = c.imageChannels == 1 ? ", image_channels=1" : ""
        return "vae(channels=\(c.channels), factor=\(c.factor), width=\(c.width), beta=\(c.beta)\(gray)) — \(vae.parameters.count) parameters, latent scale \(vae.scale)"
    }
    /// Pixels [0, 1] and the side of an images argument: an image folder or a slice of one,
    /// examples from `take`, images, or a tensor.
    static func images(_ a: Arguments, _ p: String) throws -> (images: [[Float]], side: Int) {
        switch a[p] {
        case .object(let o as ExamplesValue):
            guard let side = o.side, !o.pairs.isEmpty else { throw a.error(p, "holds no images") }
            return (o.pairs.map(\.pixels), side)
        case .object(let o as ImagesValue):
            return (o.images, o.side)
        case .object(let o as DatasetValue):   // an image folder or a slice of one: all its images
            let items = try RuntimeError.located { try o.indexed() }
            guard let side = o.dataset.imageSide, items.length > 0 else { throw a.error(p, "holds no images") }
            return ((0..<items.length).compactMap { items.example($0).item.pixels }, side)
        default:
            let t = try RuntimeError.located { try a.tensor(p).realize() }
            guard t.rank == 4, t.shape[1] == t.shape[2], t.shape[3] == 3, t.shape[0] > 0 else {
                throw a.error(p, "must be images: an image folder (or a slice of one), taken examples, drawn images or a tensor [n, side, side, 3], got \(Shape.describe(t.shape))")
            }
            let per = t.count / t.shape[0]
            return ((0..<t.shape[0]).map { Array(t.values[$0 * per..<($0 + 1) * per]) }, t.shape[1])
        }
    }
}

/// What `train_vae` returns: the loss curves (total, reconstruction, KL) and the VAE.
final class VAERunValue: ScriptObject {
    let trainer: VAETrainer
    let target: Int, stoppedEarly: Bool
    /// Whether the minutes= budget ended it before `target`, and its wall-clock seconds.
    let outOfTime: Bool, seconds: Double
    init(_ trainer: VAETrainer, target: Int, stoppedEarly: Bool, outOfTime: Bool = false, seconds: Double = 0) {
        self.trainer = trainer; self.target = target; self.stoppedEarly = stoppedEarly
        self.outOfTime = outOfTime; self.seconds = seconds
    }

    static let type: ValueType = {
        let m = Members<VAERunValue>("vae_run")
        func curve(_ k: KeyPath<VAETrainer.Record, Float>) -> (VAERunValue) -> Value {
            { run in .list(ListRef(run.trainer.history.map { .float(Double($0[keyPath: k])) })) }
        }
        return ValueType("vae_run", help: "What train_vae returns: the loss curves and the VAE; shows as a plot.", fields: [
            m.field("loss", "The total loss at each step.", curve(\.total)),
            m.field("reconstruction", "The reconstruction MSE at each step.", curve(\.reconstruction)),
            m.field("kl", "The KL term (before beta) at each step.", curve(\.kl)),
            m.field("steps", "How many steps it took.") { .int($0.trainer.step) },
            m.field("vae", "The trained VAE.") { .object(VAEValue($0.trainer.vae)) },
            m.field("stopped_early", "Whether Ctrl-C stopped it before its last step.") { .bool($0.stoppedEarly) },
            m.field("out_of_time", "Whether the minutes= budget ended it before its steps.") { .bool($0.outOfTime) },
            m.field("seconds", "Its wall-clock time in seconds (training and calibrating the latent scale).") { .float($0.seconds) },
        ])
    }()

    var description: String {
        var parts = [stoppedEarly ? "stopped early at step \(trainer.step) of \(target)"
                     : outOfTime ? "\(trainer.step) of \(target) steps in its time budget" : "\(trainer.step) steps"]
        if let last = trainer.history.last {
            parts.append(String(format: "loss %.4f: reconstruction %.4f, KL %.4f", last.total, last.reconstruction, last.kl))
        }
        parts.append(String(format: "latent scale %.4g", trainer.vae.scale))
        return "vae_run(" + parts.joined(separator: ", ") + ")"
    }
    func output() throws -> Output? {
        let lines = [("reconstruction", trainer.history.map { Double($0.reconstruction) }),
                     ("β·KL", trainer.history.map { Double($0.kl * trainer.vae.config.beta) })]
        return .svg(LinePlot.svg(lines, title: "VAE training losses", yLabel: "loss"), caption: description)
    }
}

enum VAEBuiltins {
    static let all: [Builtin] = [
        Builtin("vae", "channels=4, factor=2, width=32, beta=1e-4, image_channels=3, seed=0",
                help: "A small convolutional VAE for RGB images (gray ones with image_channels=1: it reads each pixel's mean and decodes gray images): an encoder (residual conv blocks, GroupNorm, SiLU, one, two or three stride-2 convolutions: factor 2, 4 or 8) to `channels` latent means and log-variances, and a mirrored decoder (nearest upsampling + conv). It trains with MSE reconstruction + beta · KL (KL averaged per latent value); train it with train_vae.",
                example: "v = vae(channels=4, factor=2, width=8)\nprint(v)") { a in
            // Its weights grow as width²: 4096 is about 600 MB.
            let config = VAEConfig(channels: try a.size("channels", atMost: 4096), factor: try a.int("factor"),
                                   width: try a.size("width", atMost: 4096), beta: Float(try a.double("beta")))
            var gray = config
            gray.imageChannels = try a.int("image_channels")
            guard gray.imageChannels == 1 || gray.imageChannels == 3 else { throw a.error("image_channels", "must be 1 (gray) or 3 (RGB), got \(gray.imageChannels)") }
            if let problem = config.problem { throw a.error("factor", problem) }
            guard config.beta >= 0 else { throw a.error("beta", "must not be negative") }
            return .object(VAEValue(VAE(gray, seed: UInt64(max(0, try a.int("seed"))))))
        },
        Builtin("train_vae", "vae, data, steps=200, batch=16, lr=1e-3, seed=0, minutes=None, checkpoint=None, every=0",
                help: "Trains a VAE on a dataset's images (AdamW at a constant lr, fresh batches each step), sets its latent scale so the latent means of a few batches have unit variance, saves it to checkpoint= if given, and returns the run: .loss, .reconstruction and .kl curves (show(run) plots them), .vae and .seconds (its wall time). minutes=M is a wall-clock budget beside steps: no step starts after M minutes (run.out_of_time says the clock ended it). Ctrl-C stops at a step boundary.",
                example: "v = vae(width=8)\nrun = train_vae(v, shapes(size=8), steps=3, batch=4)\nprint(run.steps, run.vae.scale > 0)") { a in
            guard case .object(let o) = a["vae"], let value = o as? VAEValue else { throw a.error("vae", "must be a VAE from vae(...) or load_vae(...)") }
            let data = try DatasetBuiltins.dataset(a, "data")
            let steps = try a.size("steps"), batch = try a.size("batch")
            let lr = Float(try a.double("lr"))
            guard lr > 0 else { throw a.error("lr", "must be positive") }
            let budget = try TrainingBuiltins.minutesBudget(a)
            let trainer = try RuntimeError.located {
                try VAETrainer(vae: value.vae, data: data, batch: batch, lr: lr, seed: UInt64(max(0, try a.int("seed"))))
            }
            let every = try a.int("every") > 0 ? try a.int("every") : max(1, steps / 10)
            let start = Date(), interrupt = a.interpreter.interruptFlag
            var stoppedEarly = false, outOfTime = false, lastLine = 0.0
            try RuntimeError.located {
                while trainer.step < steps {
                    if interrupt.isRaised { stoppedEarly = true; break }
                    if let budget, Date().timeIntervalSince(start) >= budget * 60 { outOfTime = true; break }
                    let r = try trainer.trainStep()
                    let elapsed = Date().timeIntervalSince(start)
                    // With a time budget a line also comes every tenth of it, and the ETA is the
                    // sooner of the steps' end and the budget's.
                    let due = budget.map { elapsed - lastLine >= $0 * 6 } ?? false
                    if r.step % every == 0 || r.step + 1 == steps || due {
                        lastLine = elapsed
                        var eta = elapsed / Double(r.step + 1) * Double(steps - r.step - 1)
                        if let budget { eta = max(0, min(eta, budget * 60 - elapsed)) }
                        FileHandle.standardError.write(Data((String(format: "vae step %5ld/%ld  reconstruction %.4f  KL %.4f  ETA %@",
                                                                    r.step + 1, steps, r.reconstruction, r.kl, Progress.clock(eta)) + "\n").utf8))
                    }
                }
                var rng = RNG(seed: 0x5CA1E)
                try value.vae.calibrate(VAETrainer.images(data, count: min(64, 4 * batch), channels: value.vae.config.imageChannels, rng: &rng))
                if let path = try a.optionalPath("checkpoint") { try value.vae.save(path) }
            }
            return .object(VAERunValue(trainer, target: steps, stoppedEarly: stoppedEarly, outOfTime: outOfTime,
                                       seconds: Date().timeIntervalSince(start)))
        },
        Builtin("load_vae", "path", help: "A VAE saved by vae.save or train_vae(checkpoint=...): weights, config and latent scale.",
                example: "vae(width=8).save(\"/tmp/tfs-vae.safetensors\")\nprint(load_vae(\"/tmp/tfs-vae.safetensors\").factor)") { a in
            .object(VAEValue(try RuntimeError.located { try VAE.load(try a.path("path")) }))
        },
    ]
}
