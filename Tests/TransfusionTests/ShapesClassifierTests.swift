import Foundation
import Testing
import TensorGraph
@testable import Transfusion

/// One classifier trained once (16-pixel shapes, 300 steps of 32) and shared by the tests of
/// this suite, which run one at a time (its forward plans are not shared across threads).
@Suite(.serialized) struct ShapesClassifierTests {
    static let trained: (classifier: ShapesClassifier, seconds: Double) = {
        let classifier = ShapesClassifier(ShapesClassifierConfig(side: 16), seed: 0)
        let start = Date()
        let trainer = try! ShapesClassifierTrainer(classifier: classifier, batch: 32, lr: 3e-3, seed: 1)
        try! trainer.train(steps: 300)
        return (classifier, Date().timeIntervalSince(start))
    }()

    static func real(_ count: Int, seed: UInt64, side: Int = 16) -> [[Float]] {
        var rng = RNG(seed: seed)
        let shapes = Shapes(side: side)
        return (0..<count).map { _ in shapes.sample(&rng).pixels }
    }

    @Test func shapesOfTheGraph() throws {
        let c = ShapesClassifier(ShapesClassifierConfig(side: 8, channels: 4, width: 8), seed: 1)
        let f = try c.forward(.input("x", [3, 8, 8, 3]))
        #expect(f.features.shape == [3, 8])
        #expect(f.logits.map(\.shape) == [[3, 6], [3, 4], [3, 2], [3, 5]])
        #expect(try c.features(Self.real(5, seed: 1, side: 8)).map(\.count) == [8, 8, 8, 8, 8])
        #expect(throws: TensorGraphError.self) { try c.features([[Float](repeating: 0, count: 7)]) }
        #expect(ShapesClassifierConfig(side: 10).problem != nil)
    }

    /// Training is deterministic by seed: two runs give the same weights.
    @Test func trainingIsDeterministic() throws {
        func weights() throws -> [Float] {
            let c = ShapesClassifier(ShapesClassifierConfig(side: 8, channels: 4, width: 8), seed: 2)
            let t = try ShapesClassifierTrainer(classifier: c, batch: 8, seed: 3)
            for _ in 0..<5 { try t.trainStep() }
            return c.parameters.all.flatMap { $0.node.storage!.data.values }
        }
        #expect(try weights() == weights())
    }

    @Test func theTrainedClassifierReadsHeldOutShapes() throws {
        let (c, seconds) = Self.trained
        let a = try #require(c.accuracy)
        print(String(format: "shapes classifier (16 px, 300 steps × 32): trained in %.1f s; held-out accuracy colour %.3f kind %.3f size %.3f position %.3f (%d draws)",
                     seconds, a.colour, a.kind, a.size, a.position, a.count))
        #expect(a.count == 500)
        #expect(a.colour >= 0.95 && a.kind >= 0.9, "\(a)")
        #expect(a.size >= 0.9 && a.position >= 0.9, "\(a)")
        // Another held-out draw agrees.
        var rng = RNG(seed: 77)
        let other = try c.accuracy(on: (0..<200).map { _ in Shapes(side: 16).sample(&rng) })
        #expect(other.colour >= 0.95 && other.kind >= 0.9, "\(other)")
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
        let back = try ShapesClassifier.load(path)
        #expect(back.config == c.config)
        #expect(back.accuracy == c.accuracy)
        let images = Self.real(20, seed: 21)
        #expect(try back.features(images) == c.features(images))
        #expect(throws: TensorGraphError.self) {
            let vae = VAE(VAEConfig(width: 4)); try vae.save(path); _ = try ShapesClassifier.load(path)
        }
    }
}
