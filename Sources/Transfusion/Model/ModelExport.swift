import Foundation
import TensorGraph

extension TransfusionModel {
    /// The model as a step-0 training checkpoint in `Trainer.save`'s layout (zero AdamW
    /// moments), which `load` and `train(resume=)` read: the start of a run elsewhere.
    public func saveCheckpoint(to path: String) throws {
        let tensors = parameters.names.flatMap { name -> [(String, TensorData)] in
            let data = parameters[name].node.storage!.data
            let zero = TensorData(shape: data.shape, values: [Float](repeating: 0, count: data.values.count))
            return [(name, data), ("optimizer.m." + name, zero), ("optimizer.v." + name, zero)]
        }
        try Safetensors.write(tensors, metadata: [
            "format": "tfs-checkpoint-1", "step": "0", "optimizer_steps": "0", "skipped_steps": "0", "rng": "1,2,3,4",
            "config": String(decoding: try JSONEncoder().encode(config), as: UTF8.self), "mask": mask.json,
        ], to: path)
    }
}
