import Testing
import TensorGraph
import Transfusion
@testable import Script
@testable import ScriptLibrary

/// The Chameleon baseline and the recipe's knobs in the language: codebook(), chameleon(),
/// and train()'s image_first, caption_noise and cfg_dropout.
@Suite struct ChameleonScriptTests {
    @Test func aCodebookModelTrainsAndIsJudgedLikeTransfusion() {
        let out = printedText("""
            data = shapes(size=8, seed=1)
            book = codebook(data, k=16, images=60, iterations=5)
            print(book.size, book.patch, book.error < 0.2)
            model = chameleon(book, dim=32, layers=1, heads=2)
            print(model)
            run = train(model, data, steps=3, batch=2, length=48)
            print(run.diffusion[-1] == 0, run.lm[-1] > 0)
            scores = judge_images(model, data, n=2)
            print(scores["colour"] <= 1, judge_captions(model, data, n=2, tokens=4)["cider"] >= 0)
            """)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.first == "16 4 True")
        #expect(lines.contains { $0.hasPrefix("chameleon(dim=32, layers=1, heads=2, image=8, codebook=16 codes of 4×4 patches, mask=causal)") }, "\(out)")
        #expect(lines.contains("True True"), "\(out)")
        #expect(lines.last == "True True", "\(out)")
    }

    @Test func badArgumentsPointAtTheArgument() {
        #expect(firstError(runScript("chameleon(3)")).contains("codebook"))
        #expect(firstError(runScript("codebook(shapes(size=8), k=1)")).contains("at least 2"))
        #expect(firstError(runScript("codebook(shapes(size=8), patch=3)")).contains("patch 3 must divide"))
        let m = "m = transfusion(dim=32, layers=1, heads=2, time_features=16)\n"
        #expect(firstError(runScript(m + "train(m, shapes(size=16), steps=1, image_first=1.5)")).contains("probability"))
        #expect(firstError(runScript(m + "train(m, shapes(size=16), steps=1, caption_noise=-1)")).contains("caption_noise"))
    }

    @Test func theRecipeKnobsReachTheTrainer() {
        // Every pair image-first with its step capped at 0: clean images, no diffusion loss.
        // Without the cap, or with captions first, the images are noised and learned.
        let out = printedText("""
            m = transfusion(dim=32, layers=1, heads=2, time_features=16)
            def last_diffusion(first, cap):
                return train(m, shapes(size=16), steps=2, batch=2, image_first=first, caption_noise=cap).diffusion[-1]
            print(last_diffusion(1, 0) == 0)
            print(last_diffusion(1, None) > 0)
            print(last_diffusion(0, 0) > 0)
            """)
        #expect(out == "True\nTrue\nTrue", "\(out)")
    }
}
