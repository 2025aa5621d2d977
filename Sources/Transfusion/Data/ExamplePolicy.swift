import TensorGraph

/// How dataset items become training examples (the paper's recipe). Text is one text segment.
/// A captioned image puts its image first with probability `imageFirst` — captioning, with
/// its diffusion step capped at `captionStepCap` so the image stays readable — and otherwise
/// comes after its caption, which is dropped (left empty) with probability
/// `conditionDropout` so the model also learns unconditional images for classifier-free guidance.
/// An edit is its instruction, the clean source image, then the edited image to denoise.
public struct ExamplePolicy: Sendable {
    public var imageFirst = 0.2, captionStepCap = 500, conditionDropout = 0.1
    public init(imageFirst: Double = 0.2, captionStepCap: Int = 500, conditionDropout: Double = 0.1) {
        self.imageFirst = imageFirst; self.captionStepCap = captionStepCap; self.conditionDropout = conditionDropout
    }

    /// `count` examples drawn from `data`, each packed alone into one row of `packer.length`.
    /// Pairs need `patchifier` (the trainer checks the dataset's images against it first).
    public func batch(_ count: Int, from data: any Dataset, packer: Packer, patchifier: Patchifier?,
                      rng: inout RNG) throws -> ExampleBatch {
        var batch = ExampleBatch()
        for _ in 0..<count {
            let item = data.draw(&rng)
            var patches: [[Float]] = [], limits: [Int] = []
            let segments: [Segment]
            switch item {
            case .text(let text): segments = [.text(text)]
            case .pair(let pixels, let caption):
                guard let patchifier else { throw TensorGraphError("\(data) has images but the run expects text only") }
                patches = [patchifier.patches(pixels)]
                let order = arrange(caption, patchCount: patchifier.patchCount, rng: &rng)
                segments = order.segments; limits = [order.stepLimit]
            case .edit(let source, let instruction, let target):
                guard let patchifier else { throw TensorGraphError("\(data) has images but the run expects text only") }
                // The instruction, then the source as clean context (step 0, no diffusion loss),
                // then the edited image, learned. With the instruction first, a source patch and
                // the edited patch at the same place are always the same distance apart, which
                // copying what stays through RoPE needs.
                patches = [patchifier.patches(source), patchifier.patches(target)]
                let n = patchifier.patchCount
                segments = [.text(instruction), .image(patches: n), .image(patches: n)]; limits = [0, Int.max]
            case .document(let parts):
                guard let patchifier else { throw TensorGraphError("\(data) has images but the run expects text only") }
                segments = parts.map { part in
                    switch part {
                    case .text(let s): return .text(s)
                    case .image: return .image(patches: patchifier.patchCount)
                    }
                }
                patches = parts.compactMap { if case .image(let p) = $0 { patchifier.patches(p) } else { nil } }
                limits = Array(repeating: Int.max, count: patches.count)
            }
            batch.rows += try packer.pack([segments])
            batch.images.append(patches)
            batch.stepLimits.append(limits)
        }
        return batch
    }

    /// A pair's segments in training order, and the cap on its image's diffusion step.
    func arrange(_ caption: String, patchCount n: Int, rng: inout RNG) -> (segments: [Segment], stepLimit: Int) {
        if Double(rng.uniform()) < imageFirst { return ([.image(patches: n), .text(caption)], captionStepCap) }
        let dropped = Double(rng.uniform()) < conditionDropout
        return ([.text(dropped ? "" : caption), .image(patches: n)], Int.max)
    }
}

/// One step's examples: a packed row each, with the clean patches of each row's images and
/// the cap on each image's diffusion step (what `BatchFeeder.values` takes).
public struct ExampleBatch {
    public var rows: [PackedSequence] = []
    public var images: [[[Float]]] = []
    public var stepLimits: [[Int]] = []

    /// Positions that take the LM loss.
    public var lmTargets: Int { rows.reduce(0) { $0 + $1.lmLossCount } }
    /// Patch values that take the diffusion loss.
    public var patchValues: Int {
        zip(images, stepLimits).reduce(0) { total, row in
            total + zip(row.0, row.1).reduce(0) { $0 + ($1.1 == 0 ? 0 : $1.0.count) }   // clean context: no loss
        }
    }
}
