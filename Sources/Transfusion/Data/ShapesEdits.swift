import TensorGraph

/// Edit triples drawn from `shapes`: a source image, an instruction, and the edited image,
/// in five kinds — recolour, move, reshape (change the kind), add an object, remove one.
/// With `count`, a fixed set of that many triples chosen by `seed` (the paper fine-tunes on
/// 8,000); without, endless fresh draws.
public struct ShapesEdits: Dataset {
    public enum Kind: String, CaseIterable, Sendable { case recolour, move, reshape, add, remove }

    public struct Triple: Equatable, Sendable {
        public var kind: Kind
        public var source: [Shapes.Object], instruction: String, target: [Shapes.Object]
    }

    public let shapes: Shapes
    public let triples: [Triple]?

    public init(_ shapes: Shapes, count: Int? = nil, seed: UInt64 = 0) {
        self.shapes = shapes
        var rng = RNG(seed: seed)
        triples = count.map { n in (0..<n).map { _ in Self.triple(&rng) } }
    }

    init(_ shapes: Shapes, triples: [Triple]) { self.shapes = shapes; self.triples = triples }

    public var imageSide: Int? { shapes.side }
    public var imagesPerItem: Int { 2 }
    public var count: Int? { triples?.count }
    public var description: String { "\(shapes).edits(\(triples.map { "n=\($0.count)" } ?? ""))" }

    public func next(_ rng: inout RNG) -> Triple {
        triples.map { $0[rng.int($0.count)] } ?? Self.triple(&rng)
    }

    public func draw(_ rng: inout RNG) -> DatasetItem {
        let t = next(&rng)
        return .edit(source: shapes.render(t.source), instruction: t.instruction, target: shapes.render(t.target))
    }

    /// A random triple of a random kind.
    public static func triple(_ rng: inout RNG) -> Triple {
        func pick<T: CaseIterable>(_: T.Type, not excluded: T? = nil) -> T where T: Equatable {
            let all = Array(T.allCases).filter { $0 != excluded }
            return all[rng.int(all.count)]
        }
        let kind = pick(Kind.self)
        var o = Shapes.Object(pick(Shapes.Colour.self), pick(Shapes.Kind.self), pick(Shapes.Size.self), pick(Shapes.Position.self))
        switch kind {
        case .recolour:
            var t = o; t.colour = pick(Shapes.Colour.self, not: o.colour)
            return Triple(kind: kind, source: [o], instruction: "make the \(o.kind) \(t.colour)", target: [t])
        case .move:
            var t = o; t.position = pick(Shapes.Position.self, not: o.position)
            return Triple(kind: kind, source: [o], instruction: "move the \(o.kind) to the \(t.position)", target: [t])
        case .reshape:
            var t = o; t.kind = pick(Shapes.Kind.self, not: o.kind)
            return Triple(kind: kind, source: [o], instruction: "turn the \(o.kind) into a \(t.kind)", target: [t])
        case .add, .remove:
            // Two objects are small and at opposite sides, as `shapes(two=True)` draws them.
            o.size = .small; o.position = [Shapes.Position.left, .right, .top, .bottom][rng.int(4)]
            var other = Shapes.Object(pick(Shapes.Colour.self), pick(Shapes.Kind.self), .small, Shapes.opposite(o.position))
            while other.colour == o.colour && other.kind == o.kind { other.colour = pick(Shapes.Colour.self, not: o.colour) }
            if kind == .add {
                return Triple(kind: kind, source: [o], instruction: "add \(other.phrase)", target: [o, other])
            }
            return Triple(kind: kind, source: [o, other], instruction: "remove the \(other.colour) \(other.kind)", target: [o])
        }
    }

    public func fitted(length: Int, patches: Int) throws -> any Dataset {
        // BOS, BOI, source, EOI, the instruction, BOI, target, EOI, EOS.
        let longest = "add ".utf8.count + shapes.longestCaption
        guard longest + 2 * patches + 5 <= length else {
            throw TensorGraphError("an edit needs up to \(longest + 2 * patches + 5) positions (two images of \(patches) patches and the instruction), more than the sequence length \(length); raise length=")
        }
        return self
    }

    public func split(heldOut fraction: Double, seed: UInt64) throws -> (train: any Dataset, heldOut: any Dataset) {
        guard let triples else { return (self, self) }
        let order = shuffledIndices(triples.count, seed: seed), held = try heldOutCount(triples.count, fraction: fraction)
        return (ShapesEdits(shapes, triples: order.dropFirst(held).map { triples[$0] }),
                ShapesEdits(shapes, triples: order.prefix(held).map { triples[$0] }))
    }
}
