import Script
import TensorGraph
import Transfusion

/// A codebook in the language: k-means centroids of image patches, which turn images into
/// discrete tokens for the Chameleon baseline.
final class CodebookValue: ScriptObject {
    let codebook: Codebook
    /// Mean squared pixel error of held-out images rebuilt from their codes.
    let error: Double
    init(_ codebook: Codebook, error: Double) { self.codebook = codebook; self.error = error }

    static let type: ValueType = {
        let m = Members<CodebookValue>("codebook")
        return ValueType("codebook", help: "k-means centroids of image patches (codebook(...)): they turn images into discrete tokens for the Chameleon baseline.", fields: [
            m.field("size", "How many centroids (k).") { .int($0.codebook.size) },
            m.field("patch", "The side of the patches it codes.") { .int($0.codebook.patch) },
            m.field("error", "Mean squared pixel error of held-out images rebuilt from their codes.") { .float($0.error) },
        ], methods: [
            m.method("reconstruct", "images",
                     "The images rebuilt from their codes (each patch replaced by its nearest centroid): what a Chameleon model can draw at best.",
                     example: "data = shapes(size=8)\nbook = codebook(data, k=16, images=50)\nshow(book.reconstruct(data.take(4)))") { book, a in
                let (images, side) = try VAEValue.images(a, "images")
                guard side == book.codebook.side else { throw a.error("images", "are \(side)×\(side); the codebook reads \(book.codebook.side)×\(book.codebook.side) images") }
                return .object(ImagesValue(images.map { book.codebook.pixels(book.codebook.codes($0)) }, side: side))
            },
        ])
    }()

    var description: String {
        let c = codebook
        return "codebook(k=\(c.size), patch=\(c.patch)) — \(c.tokensPerImage) tokens per \(c.side)×\(c.side) image, held-out reconstruction MSE \(String(format: "%.4g", error))"
    }
}

enum ChameleonBuiltins {
    static let all: [Builtin] = [
        Builtin("codebook", "data, k=512, patch=4, images=2000, iterations=20, seed=0",
                help: "A codebook of k centroids learned by k-means (k-means++ seeding, then Lloyd iterations) on the patch×patch patches of `images` images drawn from data: each patch of an image becomes the index of its nearest centroid, a discrete token. Prints the reconstruction error on 100 held-out images. For chameleon(...).",
                example: "book = codebook(shapes(size=8), k=16, images=50)\nprint(book)") { a in
            let data = try DatasetBuiltins.dataset(a, "data")
            let k = try a.size("k"), patch = try a.size("patch")
            guard k >= 2 else { throw a.error("k", "must be at least 2, got \(k)") }
            let seed = UInt64(max(0, try a.int("seed")))
            let book = try RuntimeError.located {
                try Codebook.learn(from: data, size: k, patch: patch, images: try a.size("images"),
                                   iterations: try a.size("iterations"), seed: seed,
                                   cancellation: a.interpreter.interruptFlag.cancellation)
            }
            var rng = RNG(seed: seed &+ 0x5EED), held: [[Float]] = []
            var draws = 0
            while held.count < 100 && draws < 2000 { draws += 1; if let p = data.draw(&rng).pixels { held.append(p) } }
            return .object(CodebookValue(book, error: book.reconstructionError(held)))
        },
        Builtin("chameleon", "codebook, dim=128, layers=4, heads=4, mask=None, tokenizer=None, seed=0",
                help: "The Chameleon baseline: the same transformer as transfusion(...), but images are discrete tokens of a codebook (BOI, a code per patch, EOI) learned with the LM loss alone — no patch encoder, no diffusion. Trains, generates, captions and is judged like a Transfusion model (no classifier-free guidance). Default mask: causal (as Chameleon). Text is bytes unless tokenizer= gives a BPE vocabulary from bpe(...); the codes come after its ids.",
                example: "data = shapes(size=8)\nmodel = chameleon(codebook(data, k=16, images=50), dim=32, layers=1, heads=2)\nprint(model)") { a in
            guard case .object(let o) = a["codebook"], let book = o as? CodebookValue else {
                throw a.error("codebook", "must be a codebook from codebook(data, k=...)")
            }
            let (dim, heads) = try ModelBuiltins.dimAndHeads(a)
            let c = book.codebook
            var config = ModelConfig(dim: dim, layers: try a.size("layers", atMost: ModelBuiltins.maxLayers), heads: heads,
                                     patchSize: c.patchValues, imageSide: c.side)
            config.codebook = c
            config.tokenizer = try TokenizerBuiltins.tokenizer(a)
            try ModelBuiltins.checkParameters(config, a)
            let model = TransfusionModel(config, mask: try ModelBuiltins.maskArgument(a) ?? .causal, seed: UInt64(max(0, try a.int("seed"))))
            return .object(ModelValue(model, loss: LossWeights(lm: 1, diffusion: 0)))
        },
    ]
}
