import TensorGraph

/// The `unet` patch encoder/decoder (Transfusion §3.2, Fig. 3). The down path turns each whole
/// side×side image into one model-dim vector per p×p patch; the up path turns the transformer's
/// outputs at those patches back into a side×side prediction, with skip connections from the
/// down path at every resolution.
///
/// Level i works at side/2^i with c_i = dim/2^(L−i) channels (L = log2 p), so the last level
/// sits on the patch grid with the model's width:
///   down: stem conv3×3 → for i in 0…L: res(c_i) [skip i], then (i < L) conv3×3 stride 2 → c_{i+1}
///   up:   for i in L…0: (i < L) nearest ×2, conv3×3 → c_i; res(concat(u, skip i): 2c_i → c_i)
///         then GroupNorm, SiLU, conv3×3 → channels
/// A residual block is GroupNorm → SiLU → conv3×3, GroupNorm scaled and shifted by the
/// timestep embedding (h·(1 + scale) + shift, each projected to the block's channels: the
/// "scale-shift norm" of improved DDPM) → SiLU → conv3×3, plus the input (1×1 conv when the
/// width changes). GroupNorm uses up to 8 groups. The timestep enters after the norm: added
/// before it, a per-channel shift is what the norm removes (wholly when a group is one channel,
/// as at the first level of a small model). Convolutions have no bias: every one is followed by
/// a norm's bias or feeds a residual sum with one.
struct UNet {
    let parameters: Parameters
    let dim: Int, channels: Int, side: Int, patch: Int, timeFeatures: Int

    init(config c: ModelConfig, parameters: Parameters) {
        self.parameters = parameters
        dim = c.dim; channels = c.channels; side = c.imageSide; patch = c.patchSide ?? 1; timeFeatures = c.timeFeatures
    }

    /// Downsamplings between the image and the patch grid.
    var levels: Int { patch.trailingZeroBitCount }
    var grid: Int { side / patch }
    func width(_ level: Int) -> Int { dim >> (levels - level) }

    /// Why a config cannot have a U-Net (nil when it can).
    static func problem(_ c: ModelConfig) -> String? {
        guard let p = c.patchSide, [1, 2, 4, 8].contains(p) else { return "the unet encoder needs square patches of side 1, 2, 4 or 8" }
        return c.dim % p == 0 ? nil : "the unet encoder needs dim divisible by the patch side \(p) (its channels halve at each of log2(p) levels)"
    }

    /// What the up path reuses from the down path: each level's activations and the images'
    /// timestep embeddings; `embeddings` are the patch grid's vectors [images·k, dim].
    struct Encoding { let embeddings: Tensor; let skips: [Tensor]; let time: Tensor }

    // MARK: Parameters

    func makeParameters() {
        conv("unet.stem", width(0), channels, 3)
        for i in 0...levels {
            resBlock("unet.down\(i)", width(i), width(i))
            if i < levels { conv("unet.down\(i).downsample", width(i + 1), width(i), 3) }
        }
        for i in (0...levels).reversed() {
            if i < levels { conv("unet.up\(i).upsample", width(i), width(i + 1), 3) }
            resBlock("unet.up\(i)", 2 * width(i), width(i))
        }
        norm("unet.out.norm", width(0))
        conv("unet.out", channels, width(0), 3)
    }

    private func conv(_ name: String, _ out: Int, _ input: Int, _ k: Int) {
        parameters.make(name, [out, input, k, k], std: 1 / Float(input * k * k).squareRoot())
    }
    private func norm(_ name: String, _ c: Int) {
        parameters.make("\(name).weight", [c], fill: 1)
        parameters.make("\(name).bias", [c], fill: 0)
    }
    private func resBlock(_ name: String, _ input: Int, _ out: Int) {
        norm("\(name).norm1", input)
        conv("\(name).conv1", out, input, 3)
        parameters.make("\(name).time_scale", [dim, out], std: 1 / Float(dim).squareRoot())
        parameters.make("\(name).time_shift", [dim, out], std: 1 / Float(dim).squareRoot())
        norm("\(name).norm2", out)
        conv("\(name).conv2", out, out, 3)
        if input != out { conv("\(name).skip", out, input, 1) }
    }

    // MARK: Graph

    /// The down path over images [n, channels, side, side] at timestep features [n, F].
    func encode(_ images: Tensor, time features: Tensor) throws -> Encoding {
        let time = try features.matmul(parameters["embed.time1"]).silu()
        var h = try images.conv2d(parameters["unet.stem"], padding: 1), skips: [Tensor] = []
        for i in 0...levels {
            h = try resBlock("unet.down\(i)", h, time)
            skips.append(h)
            if i < levels { h = try h.conv2d(parameters["unet.down\(i).downsample"], stride: 2, padding: 1) }
        }
        let n = images.shape[0]
        return Encoding(embeddings: try h.permute([0, 2, 3, 1]).reshape([n * grid * grid, dim]), skips: skips, time: time)
    }

    /// The up path from the transformer's outputs on the patch grid [n, dim, g, g] to a
    /// prediction [n, channels, side, side].
    func decode(_ grid: Tensor, _ e: Encoding) throws -> Tensor {
        var u = grid
        for i in (0...levels).reversed() {
            if i < levels { u = try u.upsample(2).conv2d(parameters["unet.up\(i).upsample"], padding: 1) }
            u = try resBlock("unet.up\(i)", Tensor.concat([u, e.skips[i]], axis: 1), e.time)
        }
        return try normalized("unet.out.norm", u).silu().conv2d(parameters["unet.out"], padding: 1)
    }

    private func normalized(_ name: String, _ x: Tensor) throws -> Tensor {
        try x.groupNorm(groups: gcd(x.shape[1], 8), weight: parameters["\(name).weight"], bias: parameters["\(name).bias"])
    }

    private func resBlock(_ name: String, _ x: Tensor, _ time: Tensor) throws -> Tensor {
        let P = parameters
        var h = try normalized("\(name).norm1", x).silu().conv2d(P["\(name).conv1"], padding: 1)
        let map = { (w: String) in try time.matmul(P["\(name).\(w)"]).reshape([time.shape[0], h.shape[1], 1, 1]) }
        h = try normalized("\(name).norm2", h) * (map("time_scale") + 1) + map("time_shift")
        h = try h.silu().conv2d(P["\(name).conv2"], padding: 1)
        let skip = try P.tensors["\(name).skip"].map { try x.conv2d($0) } ?? x
        return try h + skip
    }

    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    // MARK: Layouts

    /// Patches [n, k, p·p·channels] (raster order, each row by row then channel) as images
    /// [n, channels, side, side].
    func image(_ patches: Tensor) throws -> Tensor {
        let n = patches.shape[0]
        return try patches.reshape([n, grid, grid, patch, patch, channels]).permute([0, 5, 1, 3, 2, 4])
            .reshape([n, channels, side, side])
    }

    /// Images [n, channels, side, side] re-cut into patches [n·k, p·p·channels].
    func patches(_ images: Tensor) throws -> Tensor {
        let n = images.shape[0]
        return try images.reshape([n, channels, grid, patch, grid, patch]).permute([0, 2, 4, 3, 5, 1])
            .reshape([n * grid * grid, patch * patch * channels])
    }

    /// Per-patch vectors [n, k, dim] as feature maps [n, dim, g, g].
    func gridImage(_ vectors: Tensor) throws -> Tensor {
        try vectors.reshape([vectors.shape[0], grid, grid, dim]).permute([0, 3, 1, 2])
    }
}
