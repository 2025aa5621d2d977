import Foundation
import TensorGraph

extension TransfusionModel {
    /// The model saved in a checkpoint: its config (from the header's metadata) and weights.
    /// Optimizer state in the file is ignored; the mask is the caller's (the file names it). A
    /// model with script pieces needs them again, by the names its config saved.
    public static func load(_ path: String, mask: Mask = .transfusion, pieces: ModelPieces = ModelPieces()) throws -> TransfusionModel {
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
        let saved = config.pieces ?? [:]
        for (slot, name) in saved.sorted(by: { $0.key < $1.key }) where pieces.names[slot] != name {
            throw TensorGraphError("\(path): the model's \(slot) is the script function '\(name)'; define it and load with pieces={\"\(slot)\": \(name)}")
        }
        if let extra = pieces.names.keys.sorted().first(where: { saved[$0] == nil }) {
            throw TensorGraphError("\(path): the model has the built-in \(extra); it takes no script \(extra)")
        }
        let model = try TransfusionModel(config, mask: mask, pieces: pieces)
        try model.parameters.assign(from: file, path: path)
        return model
    }

    /// The script pieces a checkpoint's model was built with, by slot → function name.
    public static func savedPieceNames(_ path: String) throws -> [String: String] {
        guard let json = try Safetensors.readMetadata(path: path)["config"],
              let config = try? JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) else { return [:] }
        return config.pieces ?? [:]
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
        let d = dim, block = 4 * d * d + (pieces?["mlp"] == nil ? 3 * d * hidden : 0) + (pieces?["norm"] == nil ? 2 * d : 0)
        let linear = encoder == .linear ? (pieces?["encoder"] == nil ? 2 * d * patchSize : 0) + (pieces?["decoder"] == nil ? d * patchSize : 0) : 0
        let patches = codebook == nil ? timeFeatures * d + linear : 0
        return 2 * vocabulary * d + layers * block + (pieces?["norm"] == nil ? d : 0) + patches
    }
}
