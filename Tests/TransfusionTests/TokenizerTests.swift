import Foundation
import Testing
import TensorGraph
@testable import Transfusion

/// The text tokenizer: bytes and specials, and a BPE vocabulary learned from a corpus.
@Suite struct TokenizerTests {
    typealias Pair = Tokenizer.Pair

    /// The classic example: in "aaabdaaabac", "aa" occurs 4 times → Z = 261 (left to right:
    /// Z a b d Z a b a c); then "Za" and "ab" both occur twice and the tie goes to the lower
    /// ids (97, 98) → Y = 262 (Z Y d Z Y a c); then "ZY" twice → X = 263 (X d X a c); then no
    /// pair occurs twice and learning stops, short of the 300 ids asked for.
    @Test func theClassicExampleMergesAsByHand() throws {
        let t = try Tokenizer.train(on: ["aaabdaaabac"], vocabulary: 300)
        #expect(t.merges == [Pair(97, 97), Pair(97, 98), Pair(261, 262)])
        #expect(t.vocabularySize == 264)
        #expect(t.encode("aaabdaaabac") == [263, 100, 263, 97, 99])
        #expect(t.pieces("aaabdaaabac") == ["aaab", "d", "aaab", "a", "c"])
        // The vocabulary size caps the merges.
        #expect(try Tokenizer.train(on: ["aaabdaaabac"], vocabulary: 262).merges == [Pair(97, 97)])
        #expect(throws: TensorGraphError.self) { try Tokenizer.train(on: ["ab"], vocabulary: 100) }
    }

    @Test func chunksAreWordsWithTheirLeadingSpace() {
        let text = "a  big\n cat!! 42é"
        let bytes = Array(text.utf8)
        let chunks = Tokenizer.chunks(bytes).map { String(decoding: bytes[$0], as: UTF8.self) }
        #expect(chunks == ["a", " ", " big", "\n", " cat", "!!", " 42", "é"])
        // Merges stay inside chunks: "ab" thrice, then " ab" twice; never "b ".
        let t = try! Tokenizer.train(on: ["ab ab ab"], vocabulary: 300)
        #expect(t.merges == [Pair(97, 98), Pair(32, 261)])
        #expect(t.pieces("ab ab ab") == ["ab", " ab", " ab"])
    }

    /// The incremental learner against the plain definition: recount every pair of every
    /// chunk after each merge.
    @Test func incrementalLearningMatchesRecountingEveryStep() throws {
        var rng = RNG(seed: 5)
        let words = ["red", "green", "blue", "circle", "square", "left", "right", "the", "a", "of", "42", "!", "éé"]
        for _ in 0..<3 {
            let texts = (0..<40).map { _ in (0..<(3 + rng.int(8))).map { _ in words[rng.int(words.count)] }.joined(separator: rng.int(4) == 0 ? "  " : " ") }
            let learned = try Tokenizer.train(on: texts, vocabulary: 400)
            #expect(learned.merges == Self.referenceMerges(texts, vocabulary: 400))
            #expect(learned.merges.count > 20)
        }
    }

    static func referenceMerges(_ texts: [String], vocabulary: Int) -> [Pair] {
        var words = texts.flatMap { text in
            let bytes = Array(text.utf8)
            return Tokenizer.chunks(bytes).map { bytes[$0].map(Int.init) }
        }
        var merges: [Pair] = []
        while Tokenizer.firstMerge + merges.count < vocabulary {
            var counts: [Pair: Int] = [:]
            for w in words where w.count >= 2 { for i in 0..<(w.count - 1) { counts[Pair(w[i], w[i + 1]), default: 0] += 1 } }
            guard let best = counts.max(by: { ($0.value, $1.key.left, $1.key.right) < ($1.value, $0.key.left, $0.key.right) }),
                  best.value >= 2 else { break }
            let id = Tokenizer.firstMerge + merges.count
            words = words.map { Tokenizer.replacing(best.key, with: id, in: $0) }
            merges.append(best.key)
        }
        return merges
    }

    @Test func anyTextRoundTrips() throws {
        let t = try Tokenizer.train(on: ["naïve café ✓ 日本語 🎉 the cat sat on the mat", "a large red circle on the left\n\tand 123"], vocabulary: 320)
        var rng = RNG(seed: 1)
        let alphabet = Array("ab cé✓日本🎉\n\t1!.") + [Character("\u{301}")]
        for _ in 0..<300 {
            let s = String((0..<rng.int(30)).map { _ in alphabet[rng.int(alphabet.count)] })
            #expect(t.decode(t.encode(s)) == s)
        }
        for text in ["naïve café ✓ 日本語 🎉", "", " ", "the cat sat on the mat"] { #expect(t.decode(t.encode(text)) == text) }
        #expect(t.encode("the cat sat on the mat").count < "the cat sat on the mat".utf8.count * 2 / 3)
    }

    @Test func theByteTokenizerIsTheCaseWithoutMerges() throws {
        let bytes = Tokenizer()
        #expect(bytes.vocabularySize == 261 && bytes.merges.isEmpty)
        #expect(bytes.encode("hé ✓") == "hé ✓".utf8.map(Int.init))
        #expect(try Tokenizer.train(on: ["abc"], vocabulary: 261) == bytes)
    }

    @Test func specialsKeepTheirIdsAndNames() throws {
        let t = try Tokenizer.train(on: ["hi hi hi"], vocabulary: 300)
        #expect(t.decode([Tokenizer.bos] + t.encode("hi") + [Tokenizer.boi, Tokenizer.eoi, Tokenizer.pad, Tokenizer.eos]) == "<bos>hi<boi><eoi><pad><eos>")
        #expect((Tokenizer.bos...Tokenizer.pad).allSatisfy { !t.isText($0) })
        #expect(t.isText(0) && t.isText(255) && t.isText(261) && !t.isText(t.vocabularySize))
        #expect(t.decode([t.vocabularySize, -1]) == "<\(t.vocabularySize)><-1>")
    }

    @Test func savedMergesReadBackAndBadOnesAreRefused() throws {
        let t = try Tokenizer.train(on: ["aaabdaaabac"], vocabulary: 300)
        let json = try JSONEncoder().encode(t)
        #expect(String(decoding: json, as: UTF8.self) == #"{"merges":[[97,97],[97,98],[261,262]]}"#)
        #expect(try JSONDecoder().decode(Tokenizer.self, from: json) == t)
        for bad in [#"{"merges":[[256,97]]}"#, #"{"merges":[[97,262]]}"#, #"{"merges":[[97,97],[97,97]]}"#, #"{"merges":[[97]]}"#] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(Tokenizer.self, from: Data(bad.utf8)) }
        }
    }

    /// Learning touches only the chunks that hold each merged pair: over a megabyte of text,
    /// the chunks visited by 1,739 merges are a small fraction of a pass over every chunk per
    /// merge (the cost is counted, not timed: time belongs to benchmarks).
    @Test func learningVisitsOnlyTheChunksThatHoldEachPair() throws {
        var rng = RNG(seed: 2)
        let syllables = ["ka", "to", "ri", "ne", "su", "mo", "la", "pe", "di", "vo", "zu", "ha"]
        let words = (0..<3000).map { _ in (0..<(1 + rng.int(4))).map { _ in syllables[rng.int(syllables.count)] }.joined() }
        let texts = (0..<2000).map { _ in (0..<100).map { _ in words[rng.int(words.count)] }.joined(separator: " ") }
        let (t, learner) = try Tokenizer.learn(on: texts, vocabulary: 2000)
        #expect(texts.reduce(0) { $0 + $1.utf8.count } > 1_000_000)
        #expect(t.merges.count == 2000 - 261)
        let naive = t.merges.count * learner.words.count
        #expect(learner.chunksVisited * 50 < naive, "\(learner.chunksVisited) chunks visited; a pass per merge visits \(naive)")
    }

    // MARK: in models

    static func bpe() throws -> Tokenizer {
        try Tokenizer.train(on: ["the cat sat on the mat", "a red circle on the left", "red red red"], vocabulary: 300)
    }

    @Test func codesComeAfterTheMerges() throws {
        let t = try Self.bpe(), book = try ChameleonTests.codebook()
        var c = ModelConfig(dim: 32, layers: 1, heads: 2, patchSize: book.patchValues, imageSide: 8)
        c.tokenizer = t; c.codebook = book
        #expect(c.firstCode == t.vocabularySize && c.vocabulary == t.vocabularySize + 16)
        var policy = ExamplePolicy(imageFirst: 0, conditionDropout: 0)
        policy.codebook = book
        let pixels = Shapes(side: 8).render([Shapes.Object(.red, .square, .large, .center)])
        let data = try ImageTextDataset(side: 8, pairs: [.init(pixels: pixels, caption: "red", source: "test")])
        var rng = RNG(seed: 0)
        let row = try policy.batch(1, from: data, packer: Packer(length: 32, tokenizer: t), patchifier: Patchifier(side: 8, patch: 4), rng: &rng).rows[0]
        let expected = [Tokenizer.bos] + t.encode("red") + [Tokenizer.boi] + book.codes(pixels).map { t.vocabularySize + $0 } + [Tokenizer.eoi, Tokenizer.eos]
        #expect(t.encode("red").count == 1)
        #expect(Array(row.tokens.prefix(expected.count)) == expected)
    }

    @Test func theTokenizerTravelsInTheCheckpointAndOldConfigsReadAsBytes() throws {
        var c = ModelConfig(dim: 32, layers: 1, heads: 2, timeFeatures: 16)
        c.tokenizer = try Self.bpe()
        let model = TransfusionModel(c, seed: 1)
        #expect(model.parameters["embed.tokens"].shape == [c.vocabulary, 32])
        let path = NSTemporaryDirectory() + "tfs-bpe-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Trainer(model: model, data: TrainerTests.corpus(["the cat"]), options: TrainerTests.options(steps: 1)).save(path)
        #expect(try TransfusionModel.load(path).config == c)
        // A config written before tokenizers were saved has no "tokenizer": bytes.
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ModelConfig())) as! [String: Any]
        old["tokenizer"] = nil
        let read = try JSONDecoder().decode(ModelConfig.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(read.tokenizer == Tokenizer() && read.vocabulary == 261)
        // A vocabulary that disagrees with the tokenizer is a damaged file.
        old["vocabulary"] = 300
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ModelConfig.self, from: JSONSerialization.data(withJSONObject: old)) }
    }

    /// "red red" + a 2-patch image + "red": with BPE each " red" is one token, so the row is
    /// shorter, and the loss mask is the byte packer's rule on the new tokens.
    @Test func packingWithBPEGivesShorterRowsWithTheSameLossRule() throws {
        let t = try Self.bpe()
        let red = t.encode("red"), spaceRed = t.encode(" red")
        #expect(red.count == 1 && spaceRed.count == 1)
        let example: [Segment] = [.text("red red"), .image(patches: 2), .text("red")]
        let bytes = try Packer(length: 24).pack([example])[0], merged = try Packer(length: 24, tokenizer: t).pack([example])[0]
        #expect(merged.lmLossCount < bytes.lmLossCount)
        let (B, E, BOI, EOI, PAD) = (Tokenizer.bos, Tokenizer.eos, Tokenizer.boi, Tokenizer.eoi, Tokenizer.pad)
        #expect(Array(merged.tokens.prefix(8)) == [B, red[0], spaceRed[0], BOI, PAD, PAD, EOI, red[0]] && merged.tokens[8] == E)
        #expect(Array(merged.lmTarget.prefix(9)) == [red[0], spaceRed[0], BOI, nil, nil, nil, red[0], E, nil])
        #expect(merged.layout.tokens.prefix(9).map(\.kind.letter) == Array("TTTBPPETT"))
    }

    @Test func aModelLearnsAndWritesBPEText() throws {
        let texts = ["the cat sat on the mat", "the dog sat on the log"]
        var c = ModelConfig(dim: 32, layers: 2, heads: 2, timeFeatures: 16)
        c.tokenizer = try Tokenizer.train(on: texts, vocabulary: 280)
        let model = TransfusionModel(c, seed: 3)
        // Texts are cut to fit a row by their bytes, so the row holds a whole byte-long text.
        var o = TrainerTests.options(steps: 80); o.length = 24; o.lr = .warmup(steps: 5) >> .cosine(peak: 1e-2)
        let trainer = try Trainer(model: model, data: TrainerTests.corpus(texts), options: o)
        for _ in 0..<80 { try trainer.trainStep() }
        #expect(trainer.history.suffix(5).map(\.lm).max()! < trainer.history[0].lm / 3, "\(trainer.history.map(\.lm))")
        // Generation samples merge tokens and decodes them with the model's tokenizer.
        var options = GenerationOptions(); options.maxTokens = 12
        let written = try Generator(model: model, options: options).generate(["the cat"])[0]
        #expect(written == [.text(" sat on the mat")], "\(written)")
        #expect(try BitsPerByte(model: model, length: 24).measure(["the cat sat on the mat"]).bitsPerByte < 1)
    }
}
