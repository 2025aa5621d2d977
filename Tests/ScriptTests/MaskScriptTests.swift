import Foundation
import Testing
import TensorGraph
import Transfusion
@testable import Script
@testable import ScriptLibrary

@Suite struct MaskScriptTests {
    func run(_ source: String) -> (Session, CellResult) {
        let s = Session(registry: .tfs)
        return (s, s.run(source: source, file: "t.tfs", line: 1))
    }

    func text(_ r: CellResult) -> String {
        r.outputs.compactMap { if case .text(let t) = $0 { t } else { nil } }.joined()
    }

    @Test func masksCombinePrintAndSimplify() {
        let (_, r) = run("""
            print(causal | same_image)
            print(causal & (prefix(4) | same_image))
            print(causal | bidirectional, ~~causal, causal & nothing)
            print(transfusion(dim=32, layers=1, heads=2, patch=4).mask_expression)
            """)
        #expect(r.failure == nil)
        #expect(text(r) == "causal | same_image\ncausal & (prefix(4) | same_image)\nbidirectional causal nothing\n(causal | same_image) & same_document")
    }

    @Test func maskOnALayoutGivesItsMatrix() throws {
        let (s, r) = run("""
            v = (causal | same_image).on("text:2 image:2 text:1")
            t = v.tensor
            n = v.count
            """)
        #expect(r.failure == nil)
        guard case .tensor(let t)? = s.interpreter.global("t") else { Issue.record("no tensor"); return }
        let expected = MaskMatrix(.transfusion, try SequenceLayout(parsing: "text:2 image:2 text:1")).tensorData
        #expect(try t.realize() == expected)
        #expect(s.interpreter.global("n").map { if case .int(7) = $0 { true } else { false } } == true)
    }

    @Test func badMasksAndLayoutsAreRuntimeErrorsAtTheCall() {
        let (_, r1) = run("m = prefix(0)")
        #expect(r1.failure == .runtime)
        let (_, r2) = run("v = causal.on(\"text:3 movie:2\")")
        #expect(r2.failure == .runtime)
        #expect(r2.outputs.contains { if case .error(let e) = $0 { e.contains("unknown kind 'movie'") } else { false } })
        let (_, r3) = run("same_image.check(\"text:2 image:2\")")
        #expect(r3.failure == .runtime)
        #expect(r3.outputs.contains { if case .error(let e) = $0 { e.contains("position 0 (text)") } else { false } })
    }

    @Test func aModelGivesItsMaskForAPackedRow() throws {
        let (s, r) = run("""
            model = transfusion(dim=32, layers=1, heads=2, patch=4, mask=causal | same_image)
            rows = pack([["hi", 4], [2, "yo"]], length=32)
            v = model.mask(rows[0])
            t = v.tensor
            """)
        #expect(r.failure == nil, "\(r.outputs)")
        guard case .tensor(let t)? = s.interpreter.global("t") else { Issue.record("no tensor"); return }
        let layout = try Packer(length: 32).pack([[.text("hi"), .image(patches: 4)], [.image(patches: 2), .text("yo")]])[0].layout
        #expect(try t.realize() == MaskMatrix(.transfusion & .sameDocument, layout).tensorData)
        let (_, bad) = run("m = transfusion(dim=30, heads=4)")
        #expect(bad.failure == .runtime)
    }

    @Test func lossesAreWrittenAsExpressions() {
        let (_, r) = run("""
            print(lm + 5 * diffusion)
            print(diffusion * 0.5 + lm)
            print(transfusion(dim=32, layers=1, heads=2, patch=4, loss=lm + 2 * diffusion))
            """)
        #expect(r.failure == nil, "\(r.outputs)")
        let lines = text(r).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.first == "lm + 5 * diffusion")
        #expect(lines.dropFirst().first == "lm + 0.5 * diffusion")
        #expect(lines.last?.contains("loss=lm + 2 * diffusion") == true)
        let (_, bad) = run("m = transfusion(loss=3)")
        #expect(bad.failure == .runtime)
    }

    @Test func showingAMaskViewGivesAnSVG() {
        let (_, r) = run("show(causal.on(\"text:3 image:2x2\"))")
        #expect(r.failure == nil)
        #expect(r.outputs.contains { if case .svg(let s, _) = $0 { s.contains("<svg") } else { false } })
    }

    @Test func maskExpressionsFromTheCommandLine() throws {
        guard case .success(let m) = MaskExpression.evaluate("causal | prefix(2)", layout: "text:4") else {
            Issue.record("expected a mask"); return
        }
        #expect(m[0, 1] && !m[2, 3])
        guard case .failure(let e) = MaskExpression.evaluate("causal | prefx(2)", layout: "text:4") else {
            Issue.record("expected an error"); return
        }
        #expect(e.text.contains("did you mean 'prefix'?"))
        let path = NSTemporaryDirectory() + "tfs-mask-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try MaskExpression.write(m, to: path)
        let file = try Safetensors.read(path: path), entry = file["mask"]!
        #expect(entry.dtype == .u8 && entry.shape == [4, 4])
        #expect(try file.metadata["mask"].map { try Mask(json: $0) } == m.mask && file.metadata["layout"] == "text:4")
        #expect(entry.floats == m.allowed.map { $0 ? 1 : 0 })
    }
}
