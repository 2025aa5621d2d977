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

    /// A folder whose captions are classes (here the kind of one-object shapes images): the
    /// classifier learns its captions as labels, and the judges read a model's drawings with it
    /// and compare its captions with the images' own.
    @Test func aFolderClassifierJudgesDrawingsAndCaptions() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tfs-labelled-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = runScript("shapes(size=8).take(60).save(\"\(folder)\")")
        // Each caption becomes its kind word: four classes.
        let metadata = URL(fileURLWithPath: folder).appendingPathComponent("metadata.jsonl")
        let kinds = ["circle", "square", "triangle", "cross"]
        let lines = try String(contentsOf: metadata, encoding: .utf8).split(separator: "\n").map { line -> String in
            var o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: String]
            o["text"] = kinds.first { o["text"]!.contains($0) }!
            return String(decoding: try JSONSerialization.data(withJSONObject: o, options: .sortedKeys), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(to: metadata, atomically: true, encoding: .utf8)
        let s = Session(registry: .tfs)
        let r = s.run(source: """
            data = images("\(folder)", size=8)
            c = classifier(data, steps=30, batch=16, width=16, channels=8)
            print(c.labels, c.accuracy["label"] <= 1)
            m = transfusion(dim=32, layers=1, heads=2, image=8, patch=4)
            j = judge_images(m, data, n=8, steps=2, classifier=c)
            print(j["label"] <= 1, j["fid"] >= 0, len(j["per_class"]) <= 4)
            k = judge_captions(m, data, n=8, tokens=4)
            print(k["label"] <= 1, k["distinct"] >= 1, k["cider"] >= 0)
            c
            """, file: "t.tfs")
        #expect(r.failure == nil, "\(errorText(r))")
        let texts = r.outputs.compactMap { if case .text(let t) = $0 { return t } else { return nil } }
            .joined(separator: "\n").split(separator: "\n").map(String.init).filter { !$0.contains("→") }
        #expect(texts == ["['circle', 'cross', 'square', 'triangle'] True", "True True True", "True True True"])
        #expect(r.value?.contains("4 labels") == true && r.value?.contains("held-out accuracy label") == true, "\(r.value ?? "")")
        #expect(Set(s.metrics.map(\.name)).isSuperset(of: ["images.label", "images.fid", "captions.label", "captions.distinct", "captions.cider"]))
        // A folder is judged with a classifier of its captions, never a shapes one, and only by one.
        _ = runScript("sc = classifier(shapes(size=8), steps=2, batch=4, width=4, channels=2)", in: s)
        #expect(evalScript("judge_images(m, data, n=4, steps=1)", in: s).contains("needs classifier="))
        #expect(evalScript("judge_images(m, data, n=4, steps=1, classifier=sc)", in: s).contains("needs classifier="))
        #expect(evalScript("judge_images(m, shapes(size=8), n=4, steps=1, classifier=c)", in: s).contains("folder classifier"))
        #expect(evalScript("judge_captions(m, data, n=500, tokens=2)", in: s).contains("data holds 60"))
    }

    @Test func argumentErrors() {
        let session = Session(registry: .tfs)
        _ = runScript("c = classifier(shapes(size=8), steps=2, batch=4, width=4, channels=2)", in: session)
        #expect(evalScript("fid(c, shapes(size=8).take(1), shapes(size=8).take(4))", in: session).contains("at least 2 images"))
        #expect(evalScript("fid(c, shapes(size=16).take(4), shapes(size=8).take(4))", in: session).contains("the classifier reads 8×8"))
        #expect(evalScript("fid(3, shapes(size=8).take(4), shapes(size=8).take(4))", in: session).contains("must be a classifier"))
        #expect(evalScript("classifier(5)").contains("must be a shapes dataset or a captioned image folder"))
        #expect(evalScript("classifier(shapes(size=10), steps=1)").contains("multiple of 4"))
        #expect(evalScript("judge_images(transfusion(dim=32, layers=1, heads=2), shapes(size=16), n=2, steps=1, classifier=c)", in: session)
            .contains("reads 8-pixel images"))
    }
}
