import Testing
import TensorGraph
@testable import Transfusion

/// Masks against an independent, naive construction, on many random layouts.
@Suite struct MaskTests {
    /// The Transfusion mask built the obvious way: start causal, then open each image's block.
    static func naiveTransfusion(_ layout: SequenceLayout) -> [[Bool]] {
        let n = layout.count
        var m = (0..<n).map { q in (0..<n).map { k in k <= q } }
        var blocks: [Int: [Int]] = [:]
        for i in 0..<n where layout[i].kind == .patch { blocks[layout[i].image!, default: []].append(i) }
        for members in blocks.values { for a in members { for b in members { m[a][b] = true } } }
        return m
    }

    static func randomLayout(_ rng: inout RNG) -> SequenceLayout {
        var layout = SequenceLayout()
        let segments = 1 + rng.int(6)
        let imageFirst = rng.int(3) == 0, textOnly = rng.int(8) == 0, imageOnly = rng.int(8) == 0
        for s in 0..<segments {
            let image = !textOnly && (imageOnly || (s % 2 == 0) == imageFirst)
            if image { layout.appendImage(patches: 1 + rng.int(12)) } else { layout.appendText(1 + rng.int(7)) }
        }
        return layout
    }

    @Test func transfusionMaskEqualsNaiveConstructionOnRandomLayouts() throws {
        var rng = RNG(seed: 42)
        var layouts = (0..<300).map { _ in Self.randomLayout(&rng) }
        layouts.append(try SequenceLayout(parsing: "image:4 image:9"))           // images back to back
        layouts.append(try SequenceLayout(parsing: "text:7"))                    // text only
        layouts.append(try SequenceLayout(parsing: "image:16"))                  // image only
        layouts.append(try SequenceLayout(parsing: "text:3 image:2x2 text:2 image:3x3 text:1"))
        for layout in layouts {
            let m = MaskMatrix(.transfusion, layout), naive = Self.naiveTransfusion(layout)
            for q in 0..<layout.count { for k in 0..<layout.count { #expect(m[q, k] == naive[q][k]) } }
            try m.validate()
        }
    }

    @Test func anEarlierImageNeverSeesALaterOne() throws {
        let layout = try SequenceLayout(parsing: "text:2 image:4 text:1 image:4")
        let m = MaskMatrix(.transfusion, layout)
        let first = (0..<layout.count).filter { layout[$0].image == 0 && layout[$0].kind == .patch }
        let second = (0..<layout.count).filter { layout[$0].image == 1 && layout[$0].kind == .patch }
        for a in first { for b in second { #expect(!m[a, b]); #expect(m[b, a]) } }
        // Inside an image, the first patch sees the last (bidirectional), unlike causal.
        #expect(m[first[0], first[3]] && !MaskMatrix(.causal, layout)[first[0], first[3]])
    }

    @Test func primitivesFollowTheirDefinitions() throws {
        let layout = try SequenceLayout(parsing: "text:3 image:2 / text:2")
        let n = layout.count
        for q in 0..<n {
            for k in 0..<n {
                #expect(MaskMatrix(.prefix(3), layout)[q, k] == (k < 3))
                #expect(MaskMatrix(.window(2), layout)[q, k] == (abs(q - k) < 2))
                #expect(MaskMatrix(.sameDocument, layout)[q, k] == ((q < 7) == (k < 7)))
                #expect(MaskMatrix(.modality(query: .image, key: .text), layout)[q, k]
                        == (layout[q].kind == .patch && layout[k].kind != .patch))
                #expect(MaskMatrix(~Mask.causal, layout)[q, k] == (k > q))
                #expect(MaskMatrix(.causal & .sameDocument, layout)[q, k] == (k <= q && (q < 7) == (k < 7)))
            }
        }
    }

    @Test func printsSymbolicallyAndSimplifies() {
        #expect(Mask.transfusion.description == "causal | same_image")
        #expect((Mask.causal & (.prefix(4) | .sameImage)).description == "causal & (prefix(4) | same_image)")
        #expect((Mask.causal | .full) == .full)
        #expect((Mask.causal & .full) == .causal)
        #expect((Mask.causal | .none) == .causal)
        #expect(~(~Mask.causal) == .causal)
        #expect((Mask.causal | .causal) == .causal)
        #expect((~Mask.full) == Mask.none)
    }

    @Test func aQueryThatSeesNothingIsNamed() throws {
        let layout = try SequenceLayout(parsing: "text:2 image:3")
        do {
            try MaskMatrix(.sameImage, layout).validate()
            Issue.record("expected an error")
        } catch let e as TensorGraphError {
            #expect(e.message.contains("position 0 (text)"))
        }
        do {
            let imageFirst = try SequenceLayout(parsing: "image:3 text:2")
            try MaskMatrix(.sameImage | (.causal & ~Mask.prefix(1)), imageFirst).validate()
            Issue.record("expected an error")
        } catch let e as TensorGraphError {
            #expect(e.message.contains("position 0 (boi of image 0)"))
        }
    }

    @Test func layoutsParseAndRejectNonsense() throws {
        let l = try SequenceLayout(parsing: "text:5 image:4x4 text:3 image:2x2")
        #expect(l.count == 5 + 18 + 3 + 6)
        #expect(l[5].kind == .boi && l[6].kind == .patch && l[22].kind == .eoi && l[22].image == 0)
        for bad in ["", "text", "text:0", "video:3", "image:4x", "text:-1", "image:1000x1000"] {
            #expect(throws: TensorGraphError.self) { try SequenceLayout(parsing: bad) }
        }
    }

    @Test func tileTableClassifiesTiles() throws {
        let layout = try SequenceLayout(parsing: "text:64 image:62 text:64")  // 192 tokens
        let t = MaskMatrix(.transfusion, layout).tiles()
        #expect(t.rows == 6 && t.cols == 3)
        // First query tile: text rows 0..<32 see keys 0...q only: partial on tile 0, empty after.
        #expect(t.grid[0] == .partial && t.grid[1] == .empty && t.grid[2] == .empty)
        // Last query tile (text after the image): everything before it is full.
        #expect(t.grid[5 * 3] == .full && t.grid[5 * 3 + 1] == .full && t.grid[5 * 3 + 2] == .partial)
        // Tiles agree with the matrix they summarise.
        let m = MaskMatrix(.transfusion, layout)
        for i in 0..<t.rows { for j in 0..<t.cols {
            let cells = (i * 32..<min(layout.count, i * 32 + 32)).flatMap { q in (j * 64..<min(layout.count, j * 64 + 64)).map { m[q, $0] } }
            let expected: MaskMatrix.Tile = cells.allSatisfy { $0 } ? .full : (cells.contains(true) ? .partial : .empty)
            #expect(t.grid[i * t.cols + j] == expected)
        } }
    }
}
