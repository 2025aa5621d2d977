/// The shape of a Transfusion model: a Llama-style transformer (pre-norm RMSNorm, SwiGLU,
/// RoPE, no biases) over text tokens and image patches, with a linear patch encoder/decoder.
public struct ModelConfig: Equatable, Sendable, Codable {
    public var dim = 128
    public var layers = 4
    public var heads = 4
    public var vocabulary = ByteTokenizer().vocabularySize
    /// Values per patch (p·p·channels).
    public var patchSize = 48
    /// Width of the sinusoidal timestep features.
    public var timeFeatures = 64
    /// SwiGLU hidden width.
    public var hidden: Int { (8 * dim / 3 + 31) / 32 * 32 }
    public var headDim: Int { dim / heads }

    public init(dim: Int = 128, layers: Int = 4, heads: Int = 4, patchSize: Int = 48, timeFeatures: Int = 64) {
        self.dim = dim; self.layers = layers; self.heads = heads
        self.patchSize = patchSize; self.timeFeatures = timeFeatures
    }
}
