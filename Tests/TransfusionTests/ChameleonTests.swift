import Foundation
import Testing
import TensorGraph
@testable import Transfusion

/// The Chameleon baseline: images as codebook tokens, learned by the LM loss alone.
@Suite struct ChameleonTests {
    @Test func kMeansFindsWellSeparatedClusters() {
        // Four tight clusters in 3-D: k-means++ and Lloyd put one centroid on each centre.
        let centres: [[Float]] = [[0, 0, 0], [5, 0, 0], [0, 5, 0], [0, 0, 5]]
        var rng = RNG(seed: 3), points: [Float] = []
        for i in 0..<400 { points += centres[i % 4].map { $0 + 0.1 * rng.normal(1)[0] } }
        var means = KMeans(points: points, dim: 3)
        means.seed(4, rng: &rng)
        for _ in 0..<20 { if !means.iterate() { break } }
        for centre in centres {
            let closest = (0..<4).map { k in zip(centre, means.centroids[(k * 3)..<(k * 3 + 3)]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }.min()!
            #expect(closest < 0.01, "no centroid near \(centre)")
        }
        // Every point is assigned to the centroid of its own cluster.
        let owner = means.assign()
        for i in 0..<400 { #expect(owner[i] == owner[i % 4]) }
    }

    /// A stop request (Ctrl-C) ends k-means between iterations (F19).
    @Test func aStopRequestEndsLearningACodebook() throws {
        let error = #expect(throws: Cancelled.self) {
            try Codebook.learn(from: Shapes(side: 16), size: 8, patch: 4, images: 20, iterations: 10, cancellation: Cancellation { true })
        }
        #expect(error?.description == "codebook stopped after drawing 20 images")
    }

    @Test func codesRoundTripImagesMadeOfCentroids() throws {
        let shapes = Shapes(side: 16)
        let book = try Codebook.learn(from: shapes, size: 64, patch: 4, images: 200, iterations: 10, seed: 1)
        #expect(book.size == 64 && book.tokensPerImage == 16)
        // An image assembled from centroids encodes to exactly those codes.
        let chosen = (0..<16).map { ($0 * 7) % 64 }
        let image = book.pixels(chosen)
        let back = book.pixels(book.codes(image))
        #expect(zip(back, image).allSatisfy { abs($0 - $1) < 1e-6 })
        // Tokens: BOI, codes after the byte tokenizer's ids, EOI.
        let first = Tokenizer().vocabularySize, tokens = book.tokens(image, firstCode: first)
        #expect(tokens.first == Tokenizer.boi && tokens.last == Tokenizer.eoi && tokens.count == 18)
        #expect(tokens.dropFirst().dropLast().allSatisfy { $0 >= first && $0 < first + 64 })
    }

    @Test func aLargerCodebookReconstructsShapesBetter() throws {
        let shapes = Shapes(side: 16)
        var rng = RNG(seed: 99)
        let held = (0..<50).map { _ in shapes.sample(&rng).pixels }
        let small = try Codebook.learn(from: shapes, size: 8, patch: 4, images: 300, iterations: 15, seed: 2)
        let large = try Codebook.learn(from: shapes, size: 128, patch: 4, images: 300, iterations: 15, seed: 2)
        let (e8, e128) = (small.reconstructionError(held), large.reconstructionError(held))
        #expect(e128 < e8 / 2, "MSE 8 codes \(e8), 128 codes \(e128)")
        #expect(e128 < 0.02, "MSE with 128 codes \(e128)")
    }

    /// More centroids than patches to learn them from is refused (README: a codebook larger
    /// than the number of patches): 2 images of 8×8 at patch 4 give 8 patches.
    @Test func aCodebookLargerThanItsPatchesIsRefused() throws {
        #expect(thrownMessage { try Codebook.learn(from: Shapes(side: 8), size: 9, patch: 4, images: 2, iterations: 1, seed: 0) }
                == "a codebook of 9 centroids needs at least as many patches; 2 images give 8")
        #expect(try Codebook.learn(from: Shapes(side: 8), size: 8, patch: 4, images: 2, iterations: 1, seed: 0).size == 8)
    }

    static func codebook() throws -> Codebook {
        try Codebook.learn(from: Shapes(side: 8), size: 16, patch: 4, images: 100, iterations: 10, seed: 0)
    }

    @Test func pairsPackAsTokenSpansThatTakeTheLMLoss() throws {
        let book = try Self.codebook()
        var policy = ExamplePolicy(imageFirst: 0, conditionDropout: 0)
        policy.codebook = book
        let pixels = Shapes(side: 8).render([Shapes.Object(.red, .square, .large, .center)])
        let data = try ImageTextDataset(side: 8, pairs: [.init(pixels: pixels, caption: "ab", source: "test")])
        var rng = RNG(seed: 0)
        let batch = try policy.batch(1, from: data, packer: Packer(length: 16), patchifier: Patchifier(side: 8, patch: 4), rng: &rng)
        let row = batch.rows[0], codes = book.codes(pixels).map { Tokenizer().vocabularySize + $0 }
        let expected = [Tokenizer.bos, 97, 98, Tokenizer.boi] + codes + [Tokenizer.eoi, Tokenizer.eos]
        #expect(Array(row.tokens.prefix(expected.count)) == expected)
        // Every position but the last of the example predicts the next token, image tokens included.
        #expect(Array(row.lmTarget.prefix(expected.count)) == expected.dropFirst().map { Optional($0) } + [nil])
        #expect(row.layout.tokens.allSatisfy { $0.kind != .patch && $0.kind != .boi })
        #expect(batch.images == [[]] && batch.patchValues == 0)
    }

    static func model(_ book: Codebook) -> TransfusionModel {
        var c = ModelConfig(dim: 32, layers: 2, heads: 2, patchSize: book.patchValues, timeFeatures: 16, imageSide: 8)
        c.codebook = book
        return TransfusionModel(c, mask: .causal, seed: 3)
    }

    @Test func aChameleonModelHasNoPatchPathAndAnLMOnlyLoss() throws {
        let book = try Self.codebook(), model = Self.model(book)
        #expect(model.config.vocabulary == Tokenizer().vocabularySize + 16)
        #expect(!model.parameters.names.contains { $0.hasPrefix("embed.time") || $0 == "embed.patches" || $0 == "head.patches" })
        var o = TrainerTests.options(steps: 1); o.length = 48
        let trainer = try Trainer(model: model, data: Shapes(side: 8), options: o)
        let record = try trainer.trainStep()
        #expect(record.diffusion == 0 && record.total == record.lm && record.lm > 0)
    }

    @Test func aChameleonModelLearnsAPairAndDrawsAndCaptionsIt() throws {
        // One pair, learned both ways round: the model must write its codes after the caption
        // and the caption after its codes.
        let book = try Self.codebook(), model = Self.model(book)
        let pixels = Shapes(side: 8).render([Shapes.Object(.green, .square, .large, .center)])
        let data = try ImageTextDataset(side: 8, pairs: [.init(pixels: pixels, caption: "go", source: "test")])
        var o = TrainerTests.options(steps: 150); o.length = 24; o.conditionDropout = 0; o.imageFirst = 0.5
        o.lr = .warmup(steps: 10) >> .cosine(peak: 1e-2)
        let trainer = try Trainer(model: model, data: data, options: o)
        for _ in 0..<150 { try trainer.trainStep() }
        #expect(trainer.history.last!.lm < trainer.history.first!.lm / 10)
        var options = GenerationOptions(); options.maxTokens = 4
        let generator = try Generator(model: model, options: options)
        let drawn = try generator.images(for: ["go"])[0]
        #expect(book.codes(drawn) == book.codes(pixels))
        #expect(try generator.captions(for: [pixels]) == ["go"])
        // Free generation: after the caption the model opens an image itself, samples its codes,
        // closes it, and ends.
        let pieces = try generator.generate(["go"])[0]
        #expect(pieces.first == .image(drawn), "\(pieces)")
        // The cache agrees with recomputing whole rows.
        options.cached = false
        #expect(try Generator(model: model, options: options).images(for: ["go"])[0] == drawn)
    }

    @Test func guidanceIsRefusedForCodebookModels() throws {
        var options = GenerationOptions(); options.cfg = 3
        #expect(throws: TensorGraphError.self) { try Generator(model: Self.model(try Self.codebook()), options: options) }
    }

    @Test func theCodebookTravelsInTheCheckpoint() throws {
        let model = Self.model(try Self.codebook())
        let path = NSTemporaryDirectory() + "tfs-chameleon-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var o = TrainerTests.options(steps: 1); o.length = 48
        let trainer = try Trainer(model: model, data: Shapes(side: 8), options: o)
        try trainer.save(path)
        let loaded = try TransfusionModel.load(path, mask: .causal)
        #expect(loaded.config == model.config && loaded.config.codebook == model.config.codebook)
    }
}
