import Foundation
import Testing
import TensorGraph
@testable import Transfusion

/// One classifier trained once (16-pixel shapes, 300 steps of 32) and shared by the tests of
/// this suite, which run one at a time (its forward plans are not shared across threads).
@Suite(.serialized) struct ImageClassifierTests {
    static let trained: (classifier: ImageClassifier, seconds: Double) = {
        let classifier = ImageClassifier(ImageClassifierConfig(side: 16), seed: 0)
        let start = Date()
        let trainer = try! ImageClassifierTrainer(classifier: classifier, batch: 32, lr: 3e-3, seed: 1)
        try! trainer.train(steps: 300)
        return (classifier, Date().timeIntervalSince(start))
    }()

    static func real(_ count: Int, seed: UInt64, side: Int = 16) -> [[Float]] {
        var rng = RNG(seed: seed)
        let shapes = Shapes(side: side)
        return (0..<count).map { _ in shapes.sample(&rng).pixels }
    }

    @Test func shapesOfTheGraph() throws {
        let c = ImageClassifier(ImageClassifierConfig(side: 8, channels: 4, width: 8), seed: 1)
        let f = try c.forward(.input("x", [3, 8, 8, 3]))
        #expect(f.features.shape == [3, 8])
        #expect(f.logits.map(\.shape) == [[3, 6], [3, 4], [3, 2], [3, 5]])
        #expect(try c.features(Self.real(5, seed: 1, side: 8)).map(\.count) == [8, 8, 8, 8, 8])
        #expect(throws: TensorGraphError.self) { try c.features([[Float](repeating: 0, count: 7)]) }
        #expect(ImageClassifierConfig(side: 10).problem != nil)
    }

    /// Training is deterministic by seed: two runs give the same weights.
    @Test func trainingIsDeterministic() throws {
        func weights() throws -> [Float] {
            let c = ImageClassifier(ImageClassifierConfig(side: 8, channels: 4, width: 8), seed: 2)
            let t = try ImageClassifierTrainer(classifier: c, batch: 8, seed: 3)
            for _ in 0..<5 { try t.trainStep() }
            return c.parameters.all.flatMap { $0.node.storage!.data.values }
        }
        #expect(try weights() == weights())
    }

    @Test func theTrainedClassifierReadsHeldOutShapes() throws {
        let (c, seconds) = Self.trained
        let a = try #require(c.accuracy)
        print(String(format: "shapes classifier (16 px, 300 steps × 32): trained in %.1f s; held-out accuracy colour %.3f kind %.3f size %.3f position %.3f (%d draws)",
                     seconds, a["colour"]!, a["kind"]!, a["size"]!, a["position"]!, a.count))
        #expect(a.count == 500 && a.heads == ["colour", "kind", "size", "position"])
        #expect(a["colour"]! >= 0.95 && a["kind"]! >= 0.9, "\(a)")
        #expect(a["size"]! >= 0.9 && a["position"]! >= 0.9, "\(a)")
        // Another held-out draw agrees.
        var rng = RNG(seed: 77)
        let other = try c.accuracy(on: (0..<200).map { _ in ImageClassifier.Example(Shapes(side: 16).sample(&rng)) })
        #expect(other["colour"]! >= 0.95 && other["kind"]! >= 0.9, "\(other)")
    }

    /// A label classifier learns a labelled set and reads held-out images of it: here the kind
    /// of one-object 16-pixel shapes images (4 labels), learnt from a fixed set of 800 examples.
    @Test func aLabelClassifierReadsHeldOutImagesOfItsClasses() throws {
        let names = Shapes.Kind.allCases.map { "\($0)" }
        func labelled(_ count: Int, seed: UInt64) -> [ImageClassifier.Example] {
            var rng = RNG(seed: seed)
            return (0..<count).map { _ in
                let e = Shapes(side: 16).sample(&rng)
                return ImageClassifier.Example(pixels: e.pixels, labels: [Shapes.Kind.allCases.firstIndex(of: e.objects[0].kind)!])
            }
        }
        let c = ImageClassifier(ImageClassifierConfig(side: 16, channels: 8, width: 32, labels: names), seed: 1)
        #expect(try c.forward(.input("x", [2, 16, 16, 3])).logits.map(\.shape) == [[2, 4]])
        let trainer = try ImageClassifierTrainer(classifier: c, examples: labelled(800, seed: 2), batch: 32, seed: 3)
        let a = try trainer.train(steps: 300, heldOut: labelled(200, seed: 4))
        #expect(a.heads == ["label"] && a.count == 200)
        #expect(a["label"]! >= 0.85, "\(a)")
        // Labels out of range, a label classifier without examples, repeated names: errors.
        #expect(throws: TensorGraphError.self) { try ImageClassifierTrainer(classifier: c, examples: [.init(pixels: [Float](repeating: 0, count: 768), labels: [4])]) }
        #expect(throws: TensorGraphError.self) { try ImageClassifierTrainer(classifier: c) }
        #expect(ImageClassifierConfig(side: 8, labels: ["a", "a"]).problem != nil)
    }

    /// Real vs real (different seeds) is far closer than real vs blank or noise images.
    @Test func fidSeparatesRealFromBlankAndNoise() throws {
        let c = Self.trained.classifier
        let realA = Self.real(200, seed: 11), realB = Self.real(200, seed: 12)
        var rng = RNG(seed: 13)
        let blank = [[Float]](repeating: [Float](repeating: 0, count: 16 * 16 * 3), count: 200)
        let noise = (0..<200).map { _ in rng.uniform(16 * 16 * 3) }
        let realReal = try c.frechetDistance(realA, realB)
        let realBlank = try c.frechetDistance(realA, blank)
        let realNoise = try c.frechetDistance(realA, noise)
        print(String(format: "FID-like (200 vs 200): real/real %.4g, real/blank %.4g, real/noise %.4g", realReal, realBlank, realNoise))
        #expect(realReal < realBlank / 10 && realReal < realNoise / 10)
        #expect(try c.frechetDistance(realA, realA) < 1e-6)
    }

    @Test func saveAndLoadGiveIdenticalFeatures() throws {
        let c = Self.trained.classifier
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tfs-classifier-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try c.save(path)
        let back = try ImageClassifier.load(path)
        #expect(back.config == c.config)
        #expect(back.accuracy == c.accuracy)
        let images = Self.real(20, seed: 21)
        #expect(try back.features(images) == c.features(images))
        #expect(throws: TensorGraphError.self) {
            let vae = VAE(VAEConfig(width: 4)); try vae.save(path); _ = try ImageClassifier.load(path)
        }
    }
}
