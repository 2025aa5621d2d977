import TensorGraph

/// What `Generator` produces, in order: text, and images (side × side × channels, in [0, 1]).
public enum GeneratedPiece: Equatable, Sendable {
    case text(String)
    case image([Float])
}

public struct GenerationOptions: Sendable {
    public var maxTokens = 64
    public var maxImages = 2
    public var text = TokenSampler()
    public var sampler: DiffusionSampler = .ddim(steps: 50, eta: 0)
    /// Classifier-free guidance scale: prediction = uncond + cfg·(cond − uncond); 1 means none.
    public var cfg: Double = 1
    public var clip = true
    public var cached = true
    public var seed: UInt64 = 0
    /// Whether EOS ends a row (benchmarks turn it off to time a fixed number of tokens).
    public var stopAtEOS = true
    public init() {}
}

/// Generation from a trained Transfusion model, batched over prompts: text is sampled token by
/// token; when BOI comes (sampled, or forced after a caption), the image's patches start as
/// noise and are denoised in place — the model sees only the current step's patches — then the
/// clean image and EOI are committed and text goes on.
///
/// Classifier-free guidance runs an unconditional companion row per prompt whose context is
/// just BOS, BOI (what caption dropout taught the model), in the same batch.
public final class Generator {
    public let model: TransfusionModel
    public let options: GenerationOptions
    let patchifier: Patchifier
    var tokenizer: Tokenizer { model.config.tokenizer }
    /// For a latent model (`ModelConfig.latent`): the VAE whose latents it draws. Images given
    /// to the generator are encoded with it, drawn latents are decoded to pixels; without it a
    /// latent model's images are its latent grids.
    public var latents: Latents?
    /// Asked between decoding steps and between denoising steps: a stop request (Ctrl-C)
    /// ends generation there with `Cancelled`.
    public var cancellation = Cancellation.never

    public init(model: TransfusionModel, options: GenerationOptions) throws {
        let c = model.config
        guard let side = c.patchSide else {
            throw TensorGraphError("the model's patches (\(c.patchSize) values) are not square \(c.channels)-channel blocks of its \(c.imageSide)-pixel images")
        }
        try options.sampler.validate(for: model.process)
        if c.codebook != nil && options.cfg != 1 {
            throw TensorGraphError("classifier-free guidance is not implemented for codebook (Chameleon) models: use cfg=1")
        }
        self.model = model; self.options = options
        patchifier = Patchifier(side: c.imageSide, patch: side, channels: c.channels, scaled: !c.latent)
    }

    var guided: Bool { options.cfg != 1 }
    var patchCount: Int { patchifier.patchCount }
    /// A Chameleon baseline's codebook: its images are token spans sampled like text.
    var codebook: Codebook? { model.config.codebook }

    /// The position that opens image `image`: BOI (plain text for a codebook model).
    func imageStart(_ image: Int) -> SequenceDecoder.Position {
        codebook == nil ? .token(Tokenizer.boi, image: image) : .text(Tokenizer.boi)
    }

    /// A clean image as context: BOI, its patches at step 0 (or its codes), EOI.
    func cleanImage(_ pixels: [Float], image: Int) throws -> [SequenceDecoder.Position] {
        if let codebook { return codebook.tokens(pixels, firstCode: model.config.firstCode).map(SequenceDecoder.Position.text) }
        return [imageStart(image)] + (try cleanPatches(pixels, image: image)) + [.token(Tokenizer.eoi, image: image)]
    }

    /// Continues each prompt with text and images until EOS or the token limit.
    public func generate(_ prompts: [String]) throws -> [[GeneratedPiece]] {
        try run(prompts.map { [.token(Tokenizer.bos)] + tokens($0) }, stopAfterImage: false)
    }

    /// One image per caption (the caption is the prompt, BOI follows).
    public func images(for captions: [String]) throws -> [[Float]] {
        let prompts = captions.map { [.token(Tokenizer.bos)] + tokens($0) + [imageStart(0)] }
        return try run(prompts, stopAfterImage: true).map(Self.firstImage)
    }

    /// Each image edited as its instruction says: BOS, the instruction, the clean source
    /// image, then BOI and the sampler draws the edited image (the order edits train in).
    public func edits(_ images: [[Float]], instructions: [String]) throws -> [[Float]] {
        let prompts = try zip(images, instructions).map { pixels, instruction -> [SequenceDecoder.Position] in
            [.token(Tokenizer.bos)] + tokens(instruction) + (try cleanImage(pixels, image: 0)) + [imageStart(1)]
        }
        return try run(prompts, stopAfterImage: true).map(Self.firstImage)
    }

    static func firstImage(_ pieces: [GeneratedPiece]) -> [Float] {
        pieces.compactMap { if case .image(let p) = $0 { p } else { nil } }.first ?? []
    }

    /// A caption per image: BOS, the clean image, then text until EOS.
    public func captions(for images: [[Float]]) throws -> [String] {
        let prompts = try images.map { pixels -> [SequenceDecoder.Position] in
            [.token(Tokenizer.bos)] + (try cleanImage(pixels, image: 0))
        }
        return try run(prompts, stopAfterImage: false, imagesAllowed: false, guideText: guided).map { pieces in
            pieces.compactMap { if case .text(let s) = $0 { s } else { nil } }.joined()
        }
    }

    func tokens(_ text: String) -> [SequenceDecoder.Position] { tokenizer.encode(text).map { .token($0) } }

    /// Drawn images as pixels: latent grids decoded by `latents` when the model draws latents.
    func decoded(_ images: [[Float]]) throws -> [[Float]] {
        guard model.config.latent, let latents else { return images }
        return try latents.decode(images, latentSide: model.config.imageSide)
    }

    func cleanPatches(_ pixels: [Float], image: Int) throws -> [SequenceDecoder.Position] {
        var pixels = pixels
        if model.config.latent, let latents {
            pixels = try latents.encode([pixels], side: model.config.imageSide * latents.vae.config.factor)[0]
        }
        let values = patchifier.patches(pixels), p = model.config.patchSize
        return (0..<patchCount).map { .patch(Array(values[($0 * p)..<(($0 + 1) * p)]), step: 0, image: image) }
    }

    /// The generation loop over a batch of rows (and, with guidance, their companions). With
    /// `guideText` (captions), text is guided too: each companion holds just BOS and the text
    /// written so far, and tokens are drawn from uncond + cfg·(cond − uncond) logits.
    func run(_ prompts: [[SequenceDecoder.Position]], stopAfterImage: Bool, imagesAllowed: Bool = true,
             guideText: Bool = false) throws -> [[GeneratedPiece]] {
        precondition(!guideText || !imagesAllowed, "guided text is for captions, which draw no images")
        let n = prompts.count
        let promptImages = prompts.map { $0.filter { $0.token == Tokenizer.boi }.count }
        let capacity = prompts.map(\.count).max()! + options.maxTokens + 2
            + (imagesAllowed ? options.maxImages : 0) * (patchCount + 2)
        let decoder = try SequenceDecoder(model: model, batch: guided ? 2 * n : n, capacity: capacity, cached: options.cached)
        var rng = RNG(seed: options.seed)
        var pieces = Array(repeating: [GeneratedPiece](), count: n)
        var text = Array(repeating: [Int](), count: n)
        var done = Array(repeating: false, count: n), produced = Array(repeating: 0, count: n)
        var images = promptImages
        // A codebook model inside an image: how many of its codes are still to sample.
        var codesLeft = prompts.map { codebook != nil && $0.last?.token == Tokenizer.boi ? patchCount : 0 }
        var codes = Array(repeating: [Int](), count: n)
        let companions: [[SequenceDecoder.Position]] = guideText ? Array(repeating: [.token(Tokenizer.bos)], count: n) : []
        var logits = try decoder.step(padded(prompts + companions, rows: decoder.batch), commit: true).map(\.logits)
        while done.contains(false) {
            try cancellation.check("generation", "after \(produced.max() ?? 0) tokens")
            // Rows whose last position is BOI draw their image now; the others wait.
            let drawing = (0..<n).filter { !done[$0] && decoder.rows[$0].last?.kind == .boi }
            if !drawing.isEmpty {
                let drawn = try drawImages(drawing, decoder, &rng)
                for (r, pixels) in zip(drawing, try decoded(drawn.pixels)) {
                    flush(&text[r], into: &pieces[r]); pieces[r].append(.image(pixels))
                    images[r] += 1
                    if stopAfterImage { done[r] = true }
                }
                for (r, l) in drawn.logits { logits[r] = l }
                continue
            }
            var pending = Array(repeating: [SequenceDecoder.Position](), count: decoder.batch)
            for r in 0..<n where !done[r] {
                if let codebook, codesLeft[r] > 0 {
                    pending[r] = sampleCode(logits[r]!, row: r, codes: &codes[r], left: &codesLeft[r], rng: &rng)
                    guard codesLeft[r] == 0 else { continue }
                    flush(&text[r], into: &pieces[r]); pieces[r].append(.image(codebook.pixels(codes[r])))
                    codes[r] = []; images[r] += 1
                    if stopAfterImage { done[r] = true; pending[r] = [] }
                    continue
                }
                let limitReached = !imagesAllowed || images[r] >= options.maxImages + promptImages[r]
                let scores = guideText ? guide(logits[r]!, logits[n + r]!) : logits[r]!
                let token = scores.withUnsafeBufferPointer {
                    options.text.pick($0, rng: &rng) { t in
                        self.mayFollow(t, imagesAllowed: !limitReached) && (self.options.stopAtEOS || t != Tokenizer.eos)
                    }
                }
                produced[r] += 1
                if token == Tokenizer.eos || produced[r] > options.maxTokens { done[r] = true; continue }
                if token == Tokenizer.boi {
                    pending[r] = [imageStart(images[r])]
                    if codebook != nil { codesLeft[r] = patchCount }
                    continue
                }
                text[r].append(token); pending[r] = [.token(token)]
                if guideText { pending[n + r] = [.token(token)] }
            }
            guard pending.contains(where: { !$0.isEmpty }) else { break }
            let out = try decoder.step(pending, commit: true)
            for r in 0..<decoder.batch where !pending[r].isEmpty { logits[r] = out[r].logits }
        }
        for r in 0..<n { flush(&text[r], into: &pieces[r]) }
        return pieces
    }

    /// A codebook model's next image token, drawn among the codes only; after the image's last
    /// code, EOI follows it.
    func sampleCode(_ logits: [Float], row r: Int, codes: inout [Int], left: inout Int, rng: inout RNG) -> [SequenceDecoder.Position] {
        let first = model.config.firstCode, size = codebook!.size
        let token = logits.withUnsafeBufferPointer { options.text.pick($0, rng: &rng) { $0 >= first && $0 < first + size } }
        codes.append(token - first); left -= 1
        return [.text(token)] + (left == 0 ? [.text(Tokenizer.eoi)] : [])
    }

    /// Classifier-free guidance: uncond + cfg·(cond − uncond), for patch predictions and logits.
    func guide(_ cond: [Float], _ uncond: [Float]) -> [Float] {
        let s = Float(options.cfg)
        return zip(cond, uncond).map { c, u in u + s * (c - u) }
    }

    /// Tokens text sampling may produce: text tokens (bytes and merges), EOS, and BOI while
    /// images are allowed.
    func mayFollow(_ token: Int, imagesAllowed: Bool) -> Bool {
        tokenizer.isText(token) || token == Tokenizer.eos || (imagesAllowed && token == Tokenizer.boi)
    }

    func flush(_ tokens: inout [Int], into pieces: inout [GeneratedPiece]) {
        guard !tokens.isEmpty else { return }
        pieces.append(.text(tokenizer.decode(tokens))); tokens = []
    }

    func padded(_ pending: [[SequenceDecoder.Position]], rows: Int) -> [[SequenceDecoder.Position]] {
        pending + Array(repeating: [], count: rows - pending.count)
    }

    /// Denoises one image for each row in `drawing` (all at once), commits it clean with EOI,
    /// and returns the pixels and each row's logits after EOI.
    func drawImages(_ drawing: [Int], _ decoder: SequenceDecoder, _ rng: inout RNG) throws
        -> (pixels: [[Float]], logits: [(Int, [Float]?)]) {
        let n = guided ? decoder.batch / 2 : decoder.batch, p = model.config.patchSize, size = patchCount * p
        if guided {
            var companions = Array(repeating: [SequenceDecoder.Position](), count: decoder.batch)
            for r in drawing { decoder.reset(row: n + r); companions[n + r] = [.token(Tokenizer.bos), .token(Tokenizer.boi, image: 0)] }
            _ = try decoder.step(companions, commit: true)
        }
        let imageIndex = drawing.map { r in decoder.rows[r].last!.image ?? 0 }
        var x = rng.normal(drawing.count * size), denoised = 0
        try options.sampler.run(&x, process: model.process, clip: options.clip && !model.config.latent, rng: &rng) { values, t in
            try cancellation.check("drawing", "after \(denoised) of \(options.sampler.steps) denoising steps")
            denoised += 1
            var pending = Array(repeating: [SequenceDecoder.Position](), count: decoder.batch)
            for (i, r) in drawing.enumerated() {
                let block = (0..<patchCount).map { k -> SequenceDecoder.Position in
                    let start = i * size + k * p
                    return .patch(Array(values[start..<(start + p)]), step: t, image: imageIndex[i])
                }
                pending[r] = block
                if guided { pending[n + r] = block.map { var q = $0; q.image = 0; return q } }
            }
            let out: [SequenceDecoder.Output]
            do { out = try decoder.step(pending, commit: false) } catch is Cancelled {
                // Stopped inside the step (between its plan's kernels): say how far drawing got.
                throw Cancelled(activity: "drawing", progress: "after \(denoised - 1) of \(options.sampler.steps) denoising steps")
            }
            var prediction = [Float](); prediction.reserveCapacity(values.count)
            for r in drawing {
                let cond = out[r].predictions.flatMap { $0 }
                guard guided else { prediction += cond; continue }
                let uncond = out[n + r].predictions.flatMap { $0 }
                prediction += guide(cond, uncond)
            }
            return prediction
        }
        var pending = Array(repeating: [SequenceDecoder.Position](), count: decoder.batch)
        var pixels: [[Float]] = []
        for (i, r) in drawing.enumerated() {
            let clean = Array(x[(i * size)..<((i + 1) * size)])
            pixels.append(patchifier.image(clean))
            pending[r] = (0..<patchCount).map { .patch(Array(clean[($0 * p)..<(($0 + 1) * p)]), step: 0, image: imageIndex[i]) }
                + [.token(Tokenizer.eoi, image: imageIndex[i])]
        }
        let out = try decoder.step(pending, commit: true)
        return (pixels, drawing.map { ($0, out[$0].logits) })
    }
}
