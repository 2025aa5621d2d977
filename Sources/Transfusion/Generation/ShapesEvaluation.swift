import TensorGraph

/// A model judged on `shapes` by the dataset's own judge: images drawn from held-out captions
/// are read back (colour, kind, size, position, count), and captions written for held-out
/// images are checked for the right colour and kind words.
public struct ShapesEvaluation {
    public let shapes: Shapes
    public let count: Int
    public let seed: UInt64
    public let batch: Int

    public init(shapes: Shapes, count: Int = 100, seed: UInt64 = 1_000_003, batch: Int = 50) {
        self.shapes = shapes; self.count = count; self.seed = seed; self.batch = batch
    }

    /// Shares of judged examples whose attribute is right.
    public struct Scores: Equatable, Sendable {
        public var count = 0
        public var colour = 0.0, kind = 0.0, size = 0.0, position = 0.0, number = 0.0
        /// Colour and kind both right (the headline figure).
        public var colourAndKind = 0.0
        public var all = 0.0

        init(_ judged: [ShapesJudge.Score]) {
            func share(_ ok: (ShapesJudge.Score) -> Bool) -> Double { Double(judged.filter(ok).count) / Double(max(judged.count, 1)) }
            count = judged.count
            colour = share(\.colour); kind = share(\.kind); size = share(\.size)
            position = share(\.position); number = share(\.count)
            colourAndKind = share { $0.colour && $0.kind }; all = share(\.all)
        }
    }

    /// The held-out examples: a fixed draw from a seed the trainer does not use.
    public func examples() -> [Shapes.Example] {
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in shapes.sample(&rng) }
    }

    /// Draws an image per held-out caption and judges it; returns the scores and the images.
    public func images(_ generator: Generator) throws -> (scores: Scores, images: [[Float]], captions: [String]) {
        let held = examples(), judge = ShapesJudge(shapes)
        let images = try batched(held, batch) { try generator.images(for: $0.map(\.caption)) }
        let judged = zip(images, held).map { judge.score($0, against: $1.objects) }
        return (Scores(judged), images, held.map(\.caption))
    }

    /// Edits held-out sources as held-out instructions say and judges each result against the
    /// edited objects (every attribute and the count must be right).
    public func edits(_ generator: Generator) throws -> (scores: Scores, kinds: [ShapesEdits.Kind: Double], images: [[Float]], instructions: [String]) {
        var rng = RNG(seed: seed)
        let held = (0..<count).map { _ in ShapesEdits.triple(&rng) }, judge = ShapesJudge(shapes)
        let images = try batched(held, batch) { part in
            try generator.edits(part.map { shapes.render($0.source) }, instructions: part.map(\.instruction))
        }
        let judged = zip(images, held).map { judge.score($0, against: $1.target) }
        var kinds: [ShapesEdits.Kind: Double] = [:]
        for kind in ShapesEdits.Kind.allCases {
            let mine = zip(judged, held).filter { $0.1.kind == kind }
            kinds[kind] = Double(mine.filter { $0.0.all }.count) / Double(max(mine.count, 1))
        }
        return (Scores(judged), kinds, images, held.map(\.instruction))
    }

    /// Captions each held-out image and checks the words it uses; also CIDEr-D against each
    /// image's true caption (one reference).
    public func captions(_ generator: Generator) throws -> (scores: Scores, captions: [String], cider: Double) {
        let held = examples()
        let captions = try batched(held, batch) { try generator.captions(for: $0.map(\.pixels)) }
        let cider = try CIDEr.score(candidates: captions, references: held.map { [$0.caption] }).mean
        return (Scores(zip(captions, held).map { Self.reads($0, $1.objects[0]) }), captions, cider)
    }

    /// Whether a caption names the object's attributes (the first colour, kind, size and
    /// position words it uses) and names one object only.
    static func reads(_ caption: String, _ object: Shapes.Object) -> ShapesJudge.Score {
        let words = caption.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
        func first<T: RawRepresentable & CaseIterable>(_: T.Type) -> T? where T.RawValue == String {
            words.lazy.compactMap { T(rawValue: $0) }.first
        }
        var s = ShapesJudge.Score()
        s.colour = first(Shapes.Colour.self) == object.colour
        s.kind = first(Shapes.Kind.self) == object.kind
        s.size = first(Shapes.Size.self) == object.size
        s.position = first(Shapes.Position.self) == object.position
        s.count = !words.contains("and")
        return s
    }
}
