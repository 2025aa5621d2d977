import TensorGraph

/// `shapes`: procedural captioned images — coloured shapes on black — deterministic by seed,
/// with a judge that reads an image back by pixel analysis (the dataset's own metric).
public struct Shapes: Sendable {
    public enum Colour: String, CaseIterable, Sendable {
        case red, green, blue, yellow, magenta, cyan
        public var rgb: (Float, Float, Float) {
            switch self {
            case .red: (1, 0, 0); case .green: (0, 1, 0); case .blue: (0, 0, 1)
            case .yellow: (1, 1, 0); case .magenta: (1, 0, 1); case .cyan: (0, 1, 1)
            }
        }
    }
    public enum Kind: String, CaseIterable, Sendable { case circle, square, triangle, cross }
    public enum Size: String, CaseIterable, Sendable { case small, large }
    public enum Position: String, CaseIterable, Sendable {
        case left, right, top, bottom, center
        var phrase: String { self == .center ? "in the center" : (self == .top || self == .bottom ? "at the \(rawValue)" : "on the \(rawValue)") }
        /// Centre as a fraction of the image side.
        var centre: (x: Float, y: Float) {
            switch self {
            case .left: (0.25, 0.5); case .right: (0.75, 0.5); case .top: (0.5, 0.25)
            case .bottom: (0.5, 0.75); case .center: (0.5, 0.5)
            }
        }
    }

    public struct Object: Equatable, Sendable {
        public var colour: Colour, kind: Kind, size: Size, position: Position
        public init(_ colour: Colour, _ kind: Kind, _ size: Size, _ position: Position) {
            self.colour = colour; self.kind = kind; self.size = size; self.position = position
        }
        public var phrase: String { "a \(size.rawValue) \(colour.rawValue) \(kind.rawValue) \(position.phrase)" }
    }

    /// An image (side × side × 3, values in [0, 1], row-major, channels last) and its caption.
    public struct Example: Sendable {
        public var objects: [Object]
        public var pixels: [Float]
        public var caption: String { objects.map(\.phrase).joined(separator: " and ") }
    }

    public let side: Int
    /// Whether training draws two shapes per image (`sample` takes the choice per call).
    public let two: Bool
    public init(side: Int = 16, two: Bool = false) { self.side = side; self.two = two }

    /// Pixel extent of a shape, odd so shapes sit symmetric on a pixel centre and stay inside the
    /// image at every position: large 7 px at side 16 (15 at 32), small 5 px (9 at 32).
    func extent(_ size: Size) -> Float { Float(2 * Int(Float(side) * (size == .large ? 0.24 : 0.15)) + 1) }

    public func render(_ objects: [Object]) -> [Float] {
        var pixels = [Float](repeating: 0, count: side * side * 3)
        for o in objects {
            let (fx, fy) = o.position.centre, r = extent(o.size) / 2
            let (cx, cy) = ((fx * Float(side)).rounded(.down) + 0.5, (fy * Float(side)).rounded(.down) + 0.5)
            for y in 0..<side {
                for x in 0..<side {
                    let dx = Float(x) + 0.5 - cx, dy = Float(y) + 0.5 - cy
                    guard Self.inside(o.kind, dx, dy, r) else { continue }
                    let (cr, cg, cb) = o.colour.rgb, i = (y * side + x) * 3
                    pixels[i] = cr; pixels[i + 1] = cg; pixels[i + 2] = cb
                }
            }
        }
        return pixels
    }

    static func inside(_ kind: Kind, _ dx: Float, _ dy: Float, _ r: Float) -> Bool {
        guard abs(dx) <= r, abs(dy) <= r else { return false }
        switch kind {
        case .square: return true
        case .circle: return dx * dx + dy * dy <= r * r
        case .triangle: return abs(dx) <= (dy + r) / 2           // apex up, base at the bottom
        case .cross: return abs(dx) <= r / 3 || abs(dy) <= r / 3
        }
    }

    /// A random example with one object, or two at different positions when `two`.
    public func sample(_ rng: inout RNG, two: Bool = false) -> Example {
        func pick<T: CaseIterable>(_: T.Type) -> T { let all = Array(T.allCases); return all[rng.int(all.count)] }
        var objects = [Object(pick(Colour.self), pick(Kind.self), pick(Size.self), pick(Position.self))]
        if two {
            var second = Object(pick(Colour.self), pick(Kind.self), .small, pick(Position.self))
            // Only opposite positions keep two shapes apart (left/right, top/bottom).
            objects[0].position = [Position.left, .right, .top, .bottom][rng.int(4)]
            second.position = Self.opposite(objects[0].position)
            objects[0].size = .small
            objects.append(second)
        }
        return Example(objects: objects, pixels: render(objects))
    }

    static func opposite(_ p: Position) -> Position {
        switch p { case .left: .right; case .right: .left; case .top: .bottom; case .bottom: .top; case .center: .center }
    }
}


/// Shapes as a training source: one item per draw, procedural and endless.
extension Shapes: Dataset {
    public var imageSide: Int? { side }
    public var imagesPerItem: Int { 1 }
    public var count: Int? { nil }
    public var description: String { "shapes(size=\(side)\(two ? ", two=True" : ""))" }

    public func draw(_ rng: inout RNG) -> DatasetItem {
        let example = sample(&rng, two: two)
        return .pair(pixels: example.pixels, caption: example.caption)
    }

    public func fitted(length: Int, patches: Int) throws -> any Dataset {
        let longest = longestCaption
        guard longest + Self.overhead(patches: patches) <= length else {
            throw Self.captionTooLong(longest, of: "the longest shapes example", length: length, patches: patches)
        }
        return self
    }

    /// Fresh draws are already unseen examples: both sides are the whole dataset, and what
    /// keeps evaluation apart from training is the separate seed it is drawn with.
    public func split(heldOut fraction: Double, seed: UInt64) throws -> (train: any Dataset, heldOut: any Dataset) {
        (self, self)
    }

    /// The bytes of the longest caption `sample` can write.
    var longestCaption: Int {
        func longest<T: CaseIterable & RawRepresentable>(_: T.Type) -> Int where T.RawValue == String {
            T.allCases.map(\.rawValue.utf8.count).max()!
        }
        // "a <size> <colour> <kind> <position phrase>": the article, four spaces, the words.
        let phrase = 1 + 4 + longest(Size.self) + longest(Colour.self) + longest(Kind.self)
            + Position.allCases.map(\.phrase.utf8.count).max()!
        return two ? 2 * phrase + " and ".utf8.count : phrase
    }
}
