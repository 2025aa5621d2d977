import TensorGraph

/// How patches enter and leave the transformer: `linear` (the timestep embedding added to
/// each patch, then one matrix each way) or `unet` (down blocks on each whole image before the
/// transformer, up blocks after it: Transfusion §3.2, Fig. 3).
public enum PatchEncoder: String, Codable, Sendable, CaseIterable {
    case linear, unet
}

/// The U-Net runs on whole images, but the transformer sees rows of positions: these move each
/// image's patches from the [batch·length] positions into [images, …] tensors and back, with
/// the index inputs of `BatchInputs` (filled by `ImageSlots`).
extension TransfusionModel {
    var unet: UNet { UNet(config: config, parameters: parameters) }

    /// Why a config cannot have the unet encoder (nil when it can).
    public static func unetProblem(_ config: ModelConfig) -> String? { UNet.problem(config) }

    /// The patch positions' embeddings from the U-Net's down path (and what its up path needs).
    func unetEmbeddings(_ x: BatchInputs) throws -> (embeddings: Tensor, encoding: UNet.Encoding) {
        let net = unet, (b, t) = (x.tokens.shape[0], x.tokens.shape[1])
        let (positions, sources) = try indices(x)
        let patches = try x.patches.reshape([b * t, config.patchSize]).gather(positions)
        // Every patch of an image carries the image's timestep features: read the first one's.
        let time = try x.time.reshape([b * t, config.timeFeatures]).gather(positions.slice(axis: 1, 0, 1))
        let encoding = try net.encode(net.image(patches), time: time.reshape([x.imageSlots, config.timeFeatures]))
        return (try fromImages(encoding.embeddings, sources, rows: b, length: t), encoding)
    }

    /// The U-Net's prediction at every position [batch, length, patchSize] (0 off the patches).
    func unetPrediction(_ hidden: Tensor, _ encoding: UNet.Encoding, _ x: BatchInputs) throws -> Tensor {
        let net = unet, (b, t) = (hidden.shape[0], hidden.shape[1])
        let (positions, sources) = try indices(x)
        let grid = try net.gridImage(hidden.reshape([b * t, config.dim]).gather(positions))
        return try fromImages(net.patches(net.decode(grid, encoding)), sources, rows: b, length: t)
    }

    private func indices(_ x: BatchInputs) throws -> (positions: Tensor, sources: Tensor) {
        guard let positions = x.imagePositions, let sources = x.patchSources else {
            throw TensorGraphError("a unet model needs BatchInputs made with its config (image slot indices)")
        }
        return (positions, sources)
    }

    /// Per-position rows from per-image rows [images·k, w]: positions that are no image's
    /// patch read an appended zero row.
    private func fromImages(_ rows: Tensor, _ sources: Tensor, rows b: Int, length t: Int) throws -> Tensor {
        let width = rows.shape[1]
        return try Tensor.concat([rows, .full([1, width], 0)], axis: 0).gather(sources).reshape([b, t, width])
    }
}
