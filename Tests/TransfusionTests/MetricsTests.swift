import Foundation
import Testing
import TensorGraph
@testable import Transfusion

/// Bits per byte against a naive computation, and CIDEr-D against coco-caption's numbers.
@Suite struct MetricsTests {
    static let config = ModelConfig(dim: 16, layers: 1, heads: 2, patchSize: 12, timeFeatures: 8, imageSide: 8)

    /// −log p of each byte and the EOS of one text, from the model's logits over that text
    /// alone (one row of exactly its length), with a log-softmax written out in Double.
    static func naiveNats(_ model: TransfusionModel, _ text: String) throws -> Double {
        let length = text.utf8.count + 2
        let row = try Packer(length: length).pack([[.text(text)]])[0]
        let x = try BatchInputs(batch: 1, length: length, config: model.config)
        let logits = try model.tokenLogits(model.forward(x).hidden)
        let plan = try Plan([logits.node])
        var rng = RNG(seed: 0)
        for (node, value) in try BatchFeeder(model: model).values([row], images: [[]], inputs: x, rng: &rng) where plan.buffer(node) != nil {
            try plan.set(node, value)
        }
        try plan.run()
        let v = model.config.vocabulary, out = plan.output(0).values.map(Double.init)
        var nats = 0.0
        for (i, target) in row.lmTarget.enumerated() {
            guard let target else { continue }
            let z = out[(i * v)..<((i + 1) * v)], top = z.max()!
            let logSum = top + log(z.reduce(0) { $0 + exp($1 - top) })
            nats += logSum - z[i * v + target]
        }
        #expect(row.lmLossCount == text.utf8.count + 1)   // every byte and the EOS
        return nats
    }

    @Test func bitsPerByteMatchesANaiveLogSoftmaxPerText() throws {
        let model = TransfusionModel(Self.config, seed: 3)
        // Several texts per row, rows in groups of 3 with a short last group, an empty text.
        let texts = ["abc", "hello", "", "x y z", "mnopqrstu", "red circle", "ok", "the end"]
        let result = try BitsPerByte(model: model, length: 16, batch: 3).measure(texts)
        #expect(result.documents.count == texts.count)
        for (text, document) in zip(texts, result.documents) {
            #expect(document.bytes == text.utf8.count)
            let expected = text.isEmpty ? 0 : try Self.naiveNats(model, text) / log(2)
            #expect(abs(document.bits - expected) <= 1e-4 * max(1, expected), "\(text): \(document.bits) vs \(expected)")
        }
        #expect(result.bytes == texts.reduce(0) { $0 + $1.utf8.count })
        #expect(abs(result.bitsPerByte - result.bits / Double(result.bytes)) < 1e-12)
        #expect(abs(result.perplexity - pow(2, result.bitsPerByte)) < 1e-9)
        // The batch size changes nothing but speed.
        let one = try BitsPerByte(model: model, length: 16, batch: 1).measure(texts)
        #expect(abs(one.bits - result.bits) <= 1e-5 * result.bits)
    }

    @Test func aZeroTokenHeadGivesLog2OfTheVocabularyPerPrediction() throws {
        let model = TransfusionModel(Self.config, seed: 5)
        try model.parameters["head.tokens"].node.storage!.assign(TensorData(shape: [Self.config.dim, Self.config.vocabulary]))
        let long = String(repeating: "a long text that needs cutting ", count: 3)   // 93 bytes, rows of 32
        let texts = ["hi", "uniform", long]
        let result = try BitsPerByte(model: model, length: 32, batch: 2).measure(texts)
        let pieces = TextCorpus.chunks(long, maxBytes: 30).count
        #expect(pieces == 4)
        let perPrediction = log2(Double(Self.config.vocabulary))
        for (text, document) in zip(texts, result.documents) {
            let predictions = text.utf8.count + (text == long ? pieces : 1)   // each piece ends with EOS
            #expect(abs(document.bits - perPrediction * Double(predictions)) < 1e-4, "\(text)")
        }
        #expect(result.documents[2].bytes == 93)
    }

    @Test func bitsPerByteRejectsNoText() throws {
        let model = TransfusionModel(Self.config)
        #expect(throws: TensorGraphError.self) { try BitsPerByte(model: model).measure(["", ""]) }
        #expect(throws: TensorGraphError.self) { try BitsPerByte(model: model, length: 4) }
    }

    // MARK: CIDEr-D

    /// Computed with pycocoevalcap 1.2 (`Cider().compute_score(gts, res)`) on these captions.
    @Test func ciderMatchesCocoCaption() throws {
        let references = [
            ["a red circle on the left", "a small red circle at the left", "red circle left side"],
            ["a blue square on the right", "a big blue square to the right"],
            ["two green triangles at the top", "a pair of green triangles near the top"],
            ["a yellow circle in the middle", "one yellow circle in the center"],
            ["a purple square at the bottom"],
        ]
        let candidates = ["a red circle on the left", "a blue circle on the right side of the image", "green triangles",
                          "a yellow circle in the middle of a yellow circle", "nothing here"]
        let expected = [5.153908154241185, 1.7686771395268777, 1.9175711860582547, 3.8383770381434044, 0.0]
        let result = try CIDEr.score(candidates: candidates, references: references)
        for (score, want) in zip(result.scores, expected) { #expect(abs(score - want) < 1e-12, "\(score) vs \(want)") }
        #expect(abs(result.mean - 2.5357067035939442) < 1e-12)
    }

    /// Two images, references "a b" and "a c": idf(a) = 0 (in both), idf of the rest = log 2.
    /// "a b" for image 0 has cosine 1 for unigrams and bigrams and no 3- or 4-grams: 10 · 2/4 = 5;
    /// for image 1 it shares only "a", whose weight is 0: 0.
    @Test func ciderByHand() throws {
        let result = try CIDEr.score(candidates: ["a b", "a b"], references: [["a b"], ["a c"]])
        #expect(result.scores == [5, 0] && result.mean == 2.5)
    }

    @Test func ciderOfIdenticalCaptionsIsTenAndOfDisjointOnesZero() throws {
        let references = [["a red circle on the left"], ["a blue square at the top"], ["two green triangles near the bottom"]]
        let same = try CIDEr.score(candidates: references.map { $0[0] }, references: references)
        for s in same.scores { #expect(abs(s - 10) < 1e-12) }
        let none = try CIDEr.score(candidates: ["purple hexagons", "", "one orange star"], references: references)
        #expect(none.scores == [0, 0, 0])
        // Case and punctuation do not count.
        let loud = try CIDEr.score(candidates: ["A red circle, on the LEFT.", "A blue square!"], references: [["a red circle on the left"], ["a blue square"]])
        let quiet = try CIDEr.score(candidates: ["a red circle on the left", "a blue square"], references: [["a red circle on the left"], ["a blue square"]])
        #expect(loud.scores == quiet.scores)
    }

    @Test func ciderLengthPenaltyIsGaussianInTheBigramCount() throws {
        let corpus = try CIDEr(references: [["a b c d e f"], ["g h"]])
        let vector = corpus.vector(CIDEr.counts("a b c d e f"))
        var longer = vector
        longer.length += 3
        let plain = CIDEr.similarity(vector, vector), penalised = CIDEr.similarity(longer, vector)
        for n in 0..<4 {
            #expect(abs(plain[n] - 1) < 1e-12)
            #expect(abs(penalised[n] - exp(-9.0 / 72)) < 1e-12)   // δ = 3, σ = 6
        }
        #expect(CIDEr.words("Two  green-ish (triangles)!") == ["two", "green-ish", "triangles"])
    }

    @Test func ciderRejectsMismatchedInputs() {
        #expect(throws: TensorGraphError.self) { try CIDEr.score(candidates: ["a"], references: [["a"], ["b"]]) }
        #expect(throws: TensorGraphError.self) { try CIDEr.score(candidates: ["a"], references: [[]]) }
    }
}
