import Foundation
import Testing
@testable import Script
@testable import ScriptLibrary

@Suite struct ClassifierScriptTests {
    @Test func classifierFidAndJudgeImagesWithAClassifier() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tfs-classifier-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let s = Session(registry: .tfs)
        let r = s.run(source: """
            c = classifier(shapes(size=16), steps=40, batch=16, width=16, channels=8)
            print(c.accuracy["colour"] >= 0, c.width, c.features(shapes(size=16).take(3)).shape)
            real = shapes(size=16, seed=1).take(32)
            d = fid(c, real, shapes(size=16, seed=2).take(32))
            print(d >= 0, fid(c, real, real) < 1e-6)
            c.save("\(path)")
            print(fid(load_classifier("\(path)"), real, shapes(size=16, seed=2).take(32)) == d)
            m = transfusion(dim=32, layers=1, heads=2)
            j = judge_images(m, shapes(size=16), n=4, steps=2, classifier=c)
            print(j["fid"] >= 0, "fid" in j)
            c
            """, file: "t.tfs")
        #expect(r.failure == nil, "\(errorText(r))")
        let texts = r.outputs.compactMap { if case .text(let t) = $0 { return t } else { return nil } }
            .joined(separator: "\n").split(separator: "\n").map(String.init)
        #expect(texts == ["True 16 [3, 16]", "True True", "True", "True True"])
        #expect(r.value?.hasPrefix("classifier(size=16, channels=8, width=16)") == true, "\(r.value ?? "")")
        #expect(r.value?.contains("held-out accuracy colour") == true)
        #expect(s.metrics.map(\.name).filter { $0.hasSuffix("fid") } == ["fid", "fid", "fid", "images.fid"])
        #expect(s.metrics.map(\.name).contains("images.colour"))
    }

    @Test func argumentErrors() {
        let session = Session(registry: .tfs)
        _ = runScript("c = classifier(shapes(size=8), steps=2, batch=4, width=4, channels=2)", in: session)
        #expect(evalScript("fid(c, shapes(size=8).take(1), shapes(size=8).take(4))", in: session).contains("at least 2 images"))
        #expect(evalScript("fid(c, shapes(size=16).take(4), shapes(size=8).take(4))", in: session).contains("the classifier reads 8×8"))
        #expect(evalScript("fid(3, shapes(size=8).take(4), shapes(size=8).take(4))", in: session).contains("must be a classifier"))
        #expect(evalScript("classifier(5)").contains("must be a shapes dataset"))
        #expect(evalScript("classifier(shapes(size=10), steps=1)").contains("multiple of 4"))
        #expect(evalScript("judge_images(transfusion(dim=32, layers=1, heads=2), shapes(size=16), n=2, steps=1, classifier=c)", in: session)
            .contains("reads 8-pixel images"))
    }
}
