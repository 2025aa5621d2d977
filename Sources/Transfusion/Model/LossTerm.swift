import TensorGraph

/// A term of the training loss beyond LM and diffusion, written outside Swift (a script
/// function over the model's outputs): its weighted value joins the total, and each step
/// reports it under its name. Like a model piece it runs when the graph is built.
public struct LossTerm: @unchecked Sendable {
    public let name: String
    public var weight: Float
    /// The term's value, a scalar, from the outputs of a batch.
    public let compute: (LossOutputs) throws -> Tensor

    public init(name: String, weight: Float = 1, compute: @escaping (LossOutputs) throws -> Tensor) {
        self.name = name; self.weight = weight; self.compute = compute
    }
}

/// What a loss term sees of a batch: [b, t, …] at every position of the packed rows.
public struct LossOutputs {
    /// Final hidden states [b, t, dim].
    public let hidden: Tensor
    /// The patch decoder's prediction [b, t, patch values] (0 off patches) and what the
    /// objective wants it to be (ε, v or the velocity).
    public let prediction, target: Tensor
    /// 1 at patches that take the diffusion loss [b, t, 1] (not text, not clean context images).
    public let learned: Tensor
    /// The noisy patches x_t [b, t, patch values].
    public let patches: Tensor
    /// Each patch's diffusion time t / T in [0, 1] and its signal-to-noise ratio (signal² / noise²) [b, t, 1].
    public let t, snr: Tensor
    /// The timestep embedding [b, t, dim].
    public let time: Tensor
    /// Next-token logits [b, t, vocabulary] and the LM targets [b, t] (−1 where none).
    public let logits, targets: Tensor
}
