import Testing
import TensorGraph
@testable import Transfusion

@Suite struct ShapesEditsTests {
    /// Every kind of edit changes what it says and nothing else, and the judge reads both
    /// images as their objects.
    @Test func triplesChangeWhatTheirInstructionSays() {
        var rng = RNG(seed: 3)
        let shapes = Shapes(side: 16), judge = ShapesJudge(shapes)
        var seen = Set<ShapesEdits.Kind>()
        for _ in 0..<400 {
            let t = ShapesEdits.triple(&rng)
            seen.insert(t.kind)
            #expect(judge.score(shapes.render(t.source), against: t.source).all, "\(t)")
            #expect(judge.score(shapes.render(t.target), against: t.target).all, "\(t)")
            switch t.kind {
            case .recolour:
                #expect(t.source[0].colour != t.target[0].colour && t.instruction.hasSuffix(t.target[0].colour.rawValue))
                #expect(t.source[0].kind == t.target[0].kind && t.source[0].position == t.target[0].position)
            case .move:
                #expect(t.source[0].position != t.target[0].position && t.source[0].colour == t.target[0].colour)
                #expect(t.instruction.hasSuffix(t.target[0].position.rawValue))
            case .reshape:
                #expect(t.source[0].kind != t.target[0].kind && t.instruction.hasSuffix(t.target[0].kind.rawValue))
            case .add:
                #expect(t.source.count == 1 && t.target.count == 2 && t.target[0] == t.source[0])
            case .remove:
                #expect(t.source.count == 2 && t.target == [t.source[0]])
                #expect(t.instruction == "remove the \(t.source[1].colour) \(t.source[1].kind)")
            }
        }
        #expect(seen.count == ShapesEdits.Kind.allCases.count)
    }

    /// An edit trains on its edited image only: the source is clean context without diffusion loss.
    @Test func editRowsLearnOnlyTheEditedImage() throws {
        let config = ModelConfig(dim: 16, layers: 1, heads: 2, patchSize: 48, timeFeatures: 8, imageSide: 16)
        let model = TransfusionModel(config)
        let edits = ShapesEdits(Shapes(side: 16), count: 10, seed: 1)
        var rng = RNG(seed: 2)
        let batch = try ExamplePolicy().batch(2, from: edits, packer: Packer(length: 80), patchifier: Patchifier(side: 16, patch: 4), rng: &rng)
        #expect(batch.stepLimits == [[0, Int.max], [0, Int.max]])
        #expect(batch.patchValues == 2 * 16 * 48)
        let x = try BatchInputs(batch: 2, length: 80, config: config)
        let feeds = try BatchFeeder(model: model).values(batch.rows, images: batch.images, inputs: x, stepLimits: batch.stepLimits, rng: &rng)
        let isPatch = feeds[x.isPatch.node]!.values, learned = feeds[x.learned.node]!.values
        #expect(isPatch.filter { $0 == 1 }.count == 2 * 32)
        #expect(learned.filter { $0 == 1 }.count == 2 * 16)
        // The source image (the first 16 patches of each row) is fed clean.
        for r in 0..<2 {
            let first = batch.rows[r].layout.tokens.firstIndex { $0.kind == .patch }!
            let fed = feeds[x.patches.node]!.values[((r * 80 + first) * 48)..<((r * 80 + first + 1) * 48)]
            #expect(Array(fed) == Array(batch.images[r][0][0..<48]))
            #expect(learned[r * 80 + first] == 0)
        }
    }
}
