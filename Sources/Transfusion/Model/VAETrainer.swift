import TensorGraph

/// Trains a `VAE` on a dataset's images: batches of `batch` images drawn with the trainer's
/// own generator, one plan (losses and gradients) built once and re-run, AdamW.
public final class VAETrainer {
    public struct Record: Equatable, Sendable {
        public let step: Int
        public let total: Float, reconstruction: Float, kl: Float
    }

    public let vae: VAE
    public let data: any Dataset
    public let batch: Int, side: Int
    public var lr: Float
    public private(set) var step = 0
    public private(set) var history: [Record] = []
    public var rng: RNG
    let plan: Plan
    let images: Tensor, noise: Tensor
    public let optimizer: AdamW

    public init(vae: VAE, data: any Dataset, batch: Int = 16, lr: Float = 1e-3, seed: UInt64 = 0) throws {
        guard let side = data.imageSide else { throw TensorGraphError("the VAE trains on images, and \(data) holds none") }
        guard batch > 0 else { throw TensorGraphError("the VAE's batch must be positive, got \(batch)") }
        let latent = try vae.latentSide(side)
        self.vae = vae; self.data = data; self.batch = batch; self.side = side; self.lr = lr
        rng = RNG(seed: seed)
        images = Tensor.input("images", [batch, side, side, vae.config.imageChannels])
        noise = Tensor.input("noise", [batch, vae.config.channels, latent, latent])
        let losses = try vae.losses(images: images, noise: noise)
        let params = vae.parameters.all
        plan = try Plan([losses.total.node, losses.reconstruction.node, losses.kl.node] + (try losses.total.gradients(wrt: params)).map(\.node))
        optimizer = AdamW(params.map { $0.node.storage! }, weightDecay: 0)
    }

    /// `count` images of the dataset [count, side, side, channels] in [-1, 1] (text-only items
    /// are skipped); one channel holds each pixel's mean.
    public static func images(_ data: any Dataset, count: Int, channels: Int = 3, rng: inout RNG) throws -> TensorData {
        guard let side = data.imageSide else { throw TensorGraphError("\(data) holds no images") }
        var values: [Float] = []; values.reserveCapacity(count * side * side * 3)
        var found = 0, tries = 0
        while found < count {
            tries += 1
            if tries > 100 * count + 100 { throw TensorGraphError("\(data) gave too few images (\(found) in \(tries) draws)") }
            guard let pixels = data.draw(&rng).pixels else { continue }
            values += (channels == 1 ? GrayPixels.mean(pixels) : pixels).map { $0 * 2 - 1 }; found += 1
        }
        return TensorData(shape: [count, side, side, channels], values: values)
    }

    /// One step: a fresh batch and fresh noise, losses, gradients, an AdamW update.
    @discardableResult
    public func trainStep() throws -> Record {
        try plan.set(images.node, try Self.images(data, count: batch, channels: vae.config.imageChannels, rng: &rng))
        try plan.set(noise.node, TensorData(shape: noise.shape, values: rng.normal(noise.count)))
        try Cancellation.$current.withValue(.never) { try plan.run() }   // a step runs whole
        let record = Record(step: step, total: plan.scalar(0), reconstruction: plan.scalar(1), kl: plan.scalar(2))
        optimizer.step((3..<plan.outputs.count).map(plan.outputBuffer), lr: lr)
        step += 1
        history.append(record)
        return record
    }

    /// The mean squared error of reconstructing these images [n, s, s, 3] from their latent means.
    public static func reconstructionError(_ vae: VAE, _ images: TensorData) throws -> Float {
        let decoded = try vae.decode(vae.encode(images).mean)
        var sum: Double = 0
        for (a, b) in zip(decoded.values, images.values) { sum += Double((a - b) * (a - b)) }
        return Float(sum / Double(images.count))
    }
}
