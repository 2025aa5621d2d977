import Testing
import TensorGraph
@testable import Transfusion

@Suite struct ShapesStoriesTests {
    /// A story packs as BOS, caption, image, "then" caption, image, EOS: LM loss on both texts
    /// (and on the token after each EOI), diffusion loss on both images.
    @Test func storiesPackTextImageTextImage() throws {
        let stories = ShapesStories(Shapes(side: 16))
        var rng = RNG(seed: 4)
        let batch = try ExamplePolicy().batch(1, from: try stories.fitted(length: 128, patches: 16), packer: Packer(length: 128),
                                              patchifier: Patchifier(side: 16, patch: 4), rng: &rng)
        let row = batch.rows[0]
        #expect(batch.images[0].count == 2 && batch.stepLimits[0] == [Int.max, Int.max])
        #expect(row.layout.imageCount == 2)
        let kinds = row.layout.tokens.map(\.kind.letter)
        let compact = String(kinds).replacingOccurrences(of: "P", with: "").replacingOccurrences(of: "_", with: "")
        #expect(compact.filter { $0 == "B" }.count == 2 && compact.filter { $0 == "E" }.count == 2)
        // Text follows the first image: the position after its EOI predicts a byte of "then".
        let firstEOI = row.layout.tokens.firstIndex { $0.kind == .eoi }!
        #expect(row.lmTarget[firstEOI] == Int(UInt8(ascii: "t")))
        #expect(batch.patchValues == 2 * 16 * 48)
        #expect(throws: TensorGraphError.self) { try stories.fitted(length: 64, patches: 16) }
    }
}
