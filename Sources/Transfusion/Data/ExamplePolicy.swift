import TensorGraph

/// How dataset items become training examples. Text is one text segment. A captioned image
/// puts its image first with probability `imageFirst` — captioning, with its diffusion step
/// capped at `captionStepCap` so the image stays readable — and otherwise comes after its
/// caption, which is dropped (left empty) with probability `conditionDropout` so the model also
/// learns unconditional images for classifier-free guidance. An edit is its instruction, the
/// clean source image, then the edited image to denoise.
public struct ExamplePolicy: Sendable {
    public var imageFirst = Self.both.imageFirst, captionStepCap = Self.both.captionStepCap, conditionDropout = 0.1
    public init(imageFirst: Double = Self.both.imageFirst, captionStepCap: Int = Self.both.captionStepCap, conditionDropout: Double = 0.1) {
        self.imageFirst = imageFirst; self.captionStepCap = captionStepCap; self.conditionDropout = conditionDropout
    }

    /// The default: half the captioned images first, their steps capped at 200 — chosen by
    /// sweeps on real images (docs/results.md), where it learns to caption as well as to draw.
    public static let both = (imageFirst: 0.5, captionStepCap: 200)
    /// The paper's: a fifth of the captioned images first, their steps capped at 500.
    public static let paper = (imageFirst: 0.2, captionStepCap: 500)

    /// With a codebook (the Chameleon baseline) images are token spans learned by the LM loss
    /// instead of patches to denoise.
    public var codebook: Codebook?

    /// `count` examples drawn from `data`, each packed alone into one row of `packer.length`.
    /// Pairs need `patchifier` (the trainer checks the dataset's images against it first).
    public func batch(_ count: Int, from data: any Dataset, packer: Packer, patchifier: Patchifier?,
                      rng: inout RNG) throws -> ExampleBatch {
        var batch = ExampleBatch()
        for _ in 0..<count {
            let item = data.draw(&rng)
            if case .text(let text) = item {
                batch.rows += try packer.pack([[.text(text)]]); batch.images.append([]); batch.stepLimits.append([])
                continue
            }
            guard let patchifier else { throw TensorGraphError("\(data) has images but the run expects text only") }
            var images = ImageSegments(patchifier: patchifier, codebook: codebook, firstCode: packer.tokenizer.vocabularySize)
            let segments: [Segment]
            switch item {
            case .text: preconditionFailure("handled above")
            case .pair(let pixels, let caption):
                let order = arrange(caption, rng: &rng)
                let image = images.add(pixels, stepLimit: order.stepLimit)
                segments = order.imageFirst ? [image, .text(order.caption)] : [.text(order.caption), image]
            case .edit(let source, let instruction, let target):
                // The instruction, then the source as clean context (step 0, no diffusion loss),
                // then the edited image, learned. With the instruction first, a source patch and
                // the edited patch at the same place are always the same distance apart, which
                // copying what stays through RoPE needs.
                segments = [.text(instruction), images.add(source, stepLimit: 0), images.add(target, stepLimit: Int.max)]
            case .document(let parts):
                segments = parts.map { part in
                    switch part {
                    case .text(let s): return .text(s)
                    case .image(let pixels): return images.add(pixels, stepLimit: Int.max)
                    }
                }
            }
            batch.rows += try packer.pack([segments])
            batch.images.append(images.patches)
            batch.stepLimits.append(images.limits)
        }
        return batch
    }

    /// A pair's order (image first with probability `imageFirst`), its caption (empty when
    /// dropped for guidance) and the cap on its image's diffusion step.
    func arrange(_ caption: String, rng: inout RNG) -> (imageFirst: Bool, caption: String, stepLimit: Int) {
        if Double(rng.uniform()) < imageFirst { return (true, caption, captionStepCap) }
        let dropped = Double(rng.uniform()) < conditionDropout
        return (false, dropped ? "" : caption, Int.max)
    }
}

/// The images of one example as segments: patches to denoise (collected with their step caps,
/// 0 for clean context), or with a codebook token spans (codes after the packer's text
/// tokens) that take the LM loss.
struct ImageSegments {
    let patchifier: Patchifier, codebook: Codebook?, firstCode: Int
    var patches: [[Float]] = [], limits: [Int] = []

    mutating func add(_ pixels: [Float], stepLimit: Int) -> Segment {
        if let codebook { return .tokens(codebook.tokens(pixels, firstCode: firstCode)) }
        patches.append(patchifier.patches(pixels)); limits.append(stepLimit)
        return .image(patches: patchifier.patchCount)
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
