import Testing
import TensorGraph
@testable import Transfusion

@Suite struct ShapesTests {
    @Test(arguments: [16, 32])
    func theJudgeReadsEveryGroundTruthImage(side: Int) {
        let shapes = Shapes(side: side), judge = ShapesJudge(shapes)
        var wrong: [String] = []
        for c in Shapes.Colour.allCases { for k in Shapes.Kind.allCases { for s in Shapes.Size.allCases { for p in Shapes.Position.allCases {
            let o = Shapes.Object(c, k, s, p)
            if judge.read(shapes.render([o])).objects != [o] { wrong.append(o.phrase) }
        } } } }
        #expect(wrong.isEmpty, "misread: \(wrong.prefix(10))")
    }

    @Test func twoObjectImagesAreReadWhole() {
        let shapes = Shapes(side: 16), judge = ShapesJudge(shapes)
        var rng = RNG(seed: 3)
        for _ in 0..<200 {
            let e = shapes.sample(&rng, two: true)
            #expect(judge.score(e.pixels, against: e.objects).all, "\(e.caption) read as \(judge.read(e.pixels).objects.map(\.phrase))")
        }
    }

    @Test func theJudgeRejectsMismatchedCaptions() {
        let shapes = Shapes(side: 16), judge = ShapesJudge(shapes)
        let truth = Shapes.Object(.red, .circle, .large, .left)
        let pixels = shapes.render([truth])
        #expect(judge.score(pixels, against: [truth]).all)
        #expect(!judge.score(pixels, against: [Shapes.Object(.blue, .circle, .large, .left)]).colour)
        #expect(!judge.score(pixels, against: [Shapes.Object(.red, .square, .large, .left)]).kind)
        #expect(!judge.score(pixels, against: [Shapes.Object(.red, .circle, .small, .left)]).size)
        #expect(!judge.score(pixels, against: [Shapes.Object(.red, .circle, .large, .right)]).position)
        #expect(!judge.score(pixels, against: [truth, Shapes.Object(.blue, .square, .small, .right)]).count)
        #expect(judge.read([Float](repeating: 0, count: 16 * 16 * 3)).objects.isEmpty)
    }

    @Test func samplesAreDeterministicBySeedAndCaptioned() {
        let shapes = Shapes(side: 16)
        var a = RNG(seed: 9), b = RNG(seed: 9)
        let x = shapes.sample(&a), y = shapes.sample(&b)
        #expect(x.caption == y.caption && x.pixels == y.pixels)
        #expect(Shapes.Object(.magenta, .triangle, .large, .center).phrase == "a large magenta triangle in the center")
    }
}
