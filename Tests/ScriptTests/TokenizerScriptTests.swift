import Testing
import TensorGraph
import Transfusion
@testable import Script
@testable import ScriptLibrary

/// bpe(...) in the language: learned from strings, examples and datasets, looked at, and
/// given to a model.
@Suite struct TokenizerScriptTests {
    @Test func aVocabularyLearnedFromStringsEncodesAndDecodes() {
        let out = printedText("""
            tok = bpe("aaabdaaabac", vocab=300)
            print(tok.vocab, tok.merges)
            print(tok.encode("aaabdaaabac"))
            print(tok.tokens("aaabdaaabac"))
            print(tok.decode([256] + tok.encode("aaab ✓") + [257]))
            print(tok)
            """)
        #expect(out == """
            264 3
            [263, 100, 263, 97, 99]
            ['aaab', 'd', 'aaab', 'a', 'c']
            <bos>aaab ✓<eos>
            bpe(vocab=264) — 3 merges after 256 bytes and 5 specials; longest: 'aaab', 'aa', 'ab'
            """, "\(out)")
    }

    @Test func shapesCaptionsTrainAModelWithFewerTokens() {
        let out = printedText("""
            data = shapes(size=16)
            tok = bpe(data, vocab=400, samples=500)
            print(len(tok.tokens("a large red circle on the left")) <= 7)
            print(bpe(data.take(50)).merges > 10, bpe(["red red", "blue"]).merges)
            model = transfusion(dim=32, layers=1, heads=2, time_features=16, tokenizer=tok)
            print(model)
            print(model.tokenizer.vocab == tok.vocab)
            run = train(model, data, steps=2, batch=2)
            print(run.lm[-1] > 0)
            print(pack([["red red"]], length=8, tokenizer=bpe(["red red"]))[0])
            """)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.count == 6, "\(out)")
        #expect(lines.first == "True")
        #expect(lines.dropFirst().first == "True 2")
        #expect(lines.contains { $0.hasPrefix("transfusion(dim=32, layers=1, heads=2, image=16, patch=4, encoder=\"linear\", tokenizer=bpe(vocab=") }, "\(out)")
        #expect(lines.last?.hasSuffix(": <bos>red red<eos><pad><pad><pad>") == true, "\(out)")
        #expect(lines.last?.hasPrefix("packed_sequence(8 positions, 0 images, 4 LM targets)") == true, "\(out)")
    }

    @Test func badArgumentsPointAtTheArgument() {
        #expect(firstError(runScript("bpe(3)")).contains("must be a string or a list of strings, not 'int'"))
        #expect(firstError(runScript("bpe([\"a\", 1])")).contains("must be a string or a list of strings"))
        #expect(firstError(runScript("bpe(\"ab\", vocab=100)")).contains("at least the 256 bytes"))
        #expect(firstError(runScript("transfusion(tokenizer=3)")).contains("bpe(...)"))
        #expect(firstError(runScript("bpe(\"ab\").decode([\"x\"])")).contains("must be ints"))
    }
}
