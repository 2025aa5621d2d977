import Foundation
import TensorGraph
import Transfusion

/// One Transfusion training step (forward, backward, AdamW) on the sequence shape of
/// docs/REFERENCE: 128 positions = 48 text tokens, BOI, 64 patches (4 values each), EOI, 14 text.
struct TransfusionBench {
    func report() throws -> String {
        var lines = ["| model | batch | ms/step | tokens/s | parameters |", "|---|---|---|---|---|"]
        var profile: [String] = []
        for (dim, layers, batch) in [(128, 4, 16), (256, 6, 16), (512, 8, 8)] {
            let config = ModelConfig(dim: dim, layers: layers, heads: dim / 32, patchSize: 4, timeFeatures: 64)
            let model = TransfusionModel(config, seed: 0)
            var rng = RNG(seed: 1)
            let example: [Segment] = [.text(String(repeating: "a", count: 47)), .image(patches: 64), .text(String(repeating: "b", count: 12))]
            let rows = try Packer(length: 128).pack(Array(repeating: example, count: batch))
            let images = rows.map { _ in [rng.normal(64 * 4)] }
            let x = BatchInputs(batch: batch, length: 128, config: config)
            let losses = try model.losses(x)
            let params = model.parameters.all
            let plan = Plan([losses.total.node] + (try losses.total.gradients(wrt: params)).map(\.node))
            let optimizer = AdamW(params.map { $0.node.storage! })
            let grads = (0..<params.count).map { plan.outputBuffer($0 + 1) }
            let feeds = try BatchFeeder(model: model).values(rows, images: images, inputs: x, rng: &rng)
            for (node, value) in feeds { try plan.set(node, value) }
            let seconds = BenchSuite(size: 0).time { try! plan.run(); optimizer.step(grads, lr: 1e-4) }
            if dim == 128 {
                let start = DispatchTime.now().uptimeNanoseconds
                optimizer.step(grads, lr: 1e-4)
                let adam = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                profile = try plan.profile().prefix(12).map { String(format: "| %@ | %.1f | %d |", $0.kernel, $0.seconds * 1e3, $0.calls) }
                profile.append(String(format: "| AdamW update | %.1f | 1 |", adam))
            }
            lines.append(String(format: "| dim %d, %d layers | %d | %.0f | %.0f | %.2f M |", dim, layers, batch,
                                seconds * 1e3, Double(batch * 128) / seconds, Double(model.parameters.count) / 1e6))
        }
        lines += ["", "Where the dim-128 step's time goes (kernels by kind, ms per step):", "",
                  "| kernel | ms | calls |", "|---|---|---|"] + profile
        return lines.joined(separator: "\n")
    }
}
