import Foundation
import TensorGraph

extension TransfusionModel {
    /// The model saved in a checkpoint: its config (from the header's metadata) and weights.
    /// Optimizer state in the file is ignored; the mask is the caller's (the file names it).
    public static func load(_ path: String, mask: Mask = .transfusion) throws -> TransfusionModel {
        let file = try Safetensors.read(path: path)
        guard let json = file.metadata["config"] else {
            throw TensorGraphError("\(path) holds no model config (is it a tfs checkpoint?)")
        }
        let config: ModelConfig
        do { config = try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) } catch {
            throw TensorGraphError("\(path): the model config in its metadata is unreadable (\(error))")
        }
        if let problem = config.problem { throw TensorGraphError("\(path): \(problem)") }
        let stored = file.entries.reduce(0) { $0 + $1.shape.reduce(1, *) }
        guard config.transformerWeights <= stored else {
            throw TensorGraphError("\(path): its model config (dim \(config.dim), \(config.layers) layers) describes \(config.transformerWeights) weights, but the file holds \(stored) values")
        }
        let model = TransfusionModel(config, mask: mask)
        try model.parameters.assign(from: file, path: path)
        return model
    }

    /// The mask the checkpoint's metadata holds, if it holds one: its JSON encoding, or in older
    /// checkpoints its text (`causal | same_image`). Neither needs the language to read back.
    public static func savedMask(_ path: String) throws -> Mask? {
        guard let text = try Safetensors.read(path: path).metadata["mask"] else { return nil }
        return try Mask(saved: text)
    }
}

extension ModelConfig {
    /// The weights of the embeddings, blocks and heads (not a U-Net's): what a checkpoint of
    /// this config holds at least. Exact for valid configs (bounded sizes cannot overflow).
    var transformerWeights: Int {
        let d = dim, block = 4 * d * d + 3 * d * hidden + 2 * d
        let patches = codebook == nil ? timeFeatures * d + (encoder == .linear ? 3 * d * patchSize : 0) : 0
        return 2 * vocabulary * d + layers * block + d + patches
    }
}
