import Testing
import TensorGraph
@testable import Transfusion

@Suite struct PackingTests {
    let t = Tokenizer()

    @Test func tokenizerRoundTripsAndNamesSpecials() {
        #expect(t.decode(t.encode("a small red circle ✓")) == "a small red circle ✓")
        #expect(t.decode([Tokenizer.bos] + t.encode("hi") + [Tokenizer.boi]) == "<bos>hi<boi>")
        #expect(t.vocabularySize == 261)
        #expect(t.decode([-1, 104, 999]) == "<-1>h<999>")  // never traps on ids it does not know
    }

    /// `hi` + a 4-patch image + `ok`, packed in 16, checked position by position.
    @Test func captionThenImageHandChecked() throws {
        let seqs = try Packer(length: 16).pack([[.text("hi"), .image(patches: 4), .text("ok")]])
        #expect(seqs.count == 1)
        let s = seqs[0]
        let (B, E, BOI, EOI, PAD) = (Tokenizer.bos, Tokenizer.eos, Tokenizer.boi, Tokenizer.eoi, Tokenizer.pad)
        let (h, i, o, k) = (104, 105, 111, 107)
        #expect(s.tokens == [B, h, i, BOI, PAD, PAD, PAD, PAD, EOI, o, k, E, PAD, PAD, PAD, PAD])
        // Inputs predict the next token; no loss at BOI (a patch follows), at patches, at EOS
        // (the example ends) or at padding. The model learns to emit BOI (from 'i').
        #expect(s.lmTarget == [h, i, BOI, nil, nil, nil, nil, nil, o, k, E, nil, nil, nil, nil, nil])
        #expect(s.positions == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0])
        #expect(s.layout.tokens.map(\.kind.letter) == Array("TTTBPPPPETTT____"))
        #expect(s.layout[4].image == 0 && s.layout[8].image == 0 && s.layout[9].image == nil)
        #expect(s.lmLossCount == 6)
    }

    @Test func imageFirstExamplesAndSeveralImages() throws {
        let s = try Packer(length: 12).pack([[.image(patches: 2), .text("a"), .image(patches: 1)]])[0]
        #expect(s.layout.tokens.map(\.kind.letter) == Array("TBPPETBPET__"))
        #expect(s.layout[2].image == 0 && s.layout[7].image == 1)
        // EOI predicts 'a'; 'a' predicts the second BOI; the first BOS predicts BOI.
        #expect(s.lmTarget[0] == Tokenizer.boi && s.lmTarget[4] == 97 && s.lmTarget[5] == Tokenizer.boi)
        #expect(s.images.map(\.image) == [0, 1])
    }

    @Test func examplesArePackedWholeAndSeparatedByDocument() throws {
        let seqs = try Packer(length: 10).pack([[.text("ab")], [.text("cd")], [.text("efghij")]])
        #expect(seqs.count == 2)
        #expect(seqs[0].layout.description == "text:4 / text:4 / pad:2")
        #expect(try SequenceLayout(parsing: seqs[0].layout.description).tokens == seqs[0].layout.tokens)
        // Two 4-token examples share the first sequence; the third does not fit and starts the next.
        #expect(seqs[0].layout.tokens.map(\.document) == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
        #expect(seqs[0].positions == [0, 1, 2, 3, 0, 1, 2, 3, 0, 0])
        #expect(seqs[1].count == 10 && seqs[1].lmLossCount == 7)
        // Under the packed-sequence mask no query sees another example, and none sees nothing.
        let m = MaskMatrix(.transfusion & .sameDocument, seqs[0].layout)
        try m.validate()
        #expect(!m[5, 2] && m[5, 4])
    }

    @Test func anExampleLongerThanTheSequenceIsAnError() {
        #expect(throws: TensorGraphError.self) { try Packer(length: 8).pack([[.text("x"), .image(patches: 16)]]) }
    }
}
