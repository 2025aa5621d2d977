/// Reads a `shapes` image back: finds each coloured component, and its colour, kind, size and
/// position, by pixel analysis. Scoring a caption against it gives the dataset's accuracy.
public struct ShapesJudge: Sendable {
    public let shapes: Shapes
    public init(_ shapes: Shapes) { self.shapes = shapes }

    public struct Reading: Equatable, Sendable { public var objects: [Shapes.Object] }

    public func read(_ pixels: [Float]) -> Reading {
        let side = shapes.side
        var label = [Int](repeating: -1, count: side * side)
        var objects: [Shapes.Object] = []
        for start in 0..<(side * side) where label[start] == -1 && bright(pixels, start) {
            // Flood fill one component (4-neighbours) of bright pixels.
            var stack = [start], members: [Int] = []
            label[start] = objects.count
            while let p = stack.popLast() {
                members.append(p)
                let (x, y) = (p % side, p / side)
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
                    where nx >= 0 && ny >= 0 && nx < side && ny < side && label[ny * side + nx] == -1 && bright(pixels, ny * side + nx) {
                    label[ny * side + nx] = objects.count; stack.append(ny * side + nx)
                }
            }
            guard members.count >= 3 else { continue }  // specks are noise, not objects
            objects.append(describe(members, pixels))
        }
        return Reading(objects: objects)
    }

    func bright(_ pixels: [Float], _ p: Int) -> Bool { max(pixels[3 * p], pixels[3 * p + 1], pixels[3 * p + 2]) > 0.5 }

    func describe(_ members: [Int], _ pixels: [Float]) -> Shapes.Object {
        let side = shapes.side
        let xs = members.map { $0 % side }, ys = members.map { $0 / side }
        let (x0, x1, y0, y1) = (xs.min()!, xs.max()!, ys.min()!, ys.max()!)
        let (w, h) = (x1 - x0 + 1, y1 - y0 + 1)
        // Colour: the palette entry nearest the mean colour.
        var mean: (Float, Float, Float) = (0, 0, 0)
        for p in members { mean.0 += pixels[3 * p]; mean.1 += pixels[3 * p + 1]; mean.2 += pixels[3 * p + 2] }
        let n = Float(members.count)
        let colour = Shapes.Colour.allCases.min { a, b in
            distance(a.rgb, (mean.0 / n, mean.1 / n, mean.2 / n)) < distance(b.rgb, (mean.0 / n, mean.1 / n, mean.2 / n))
        }!
        // Kind: how much of the bounding box is filled, and top row against bottom row.
        let fill = n / Float(w * h)
        let top = xs.indices.filter { ys[$0] == y0 }.count, bottom = xs.indices.filter { ys[$0] == y1 }.count
        let kind: Shapes.Kind = fill > 0.92 ? .square
            : (Float(top) < 0.6 * Float(bottom) ? .triangle : (fill > 0.68 ? .circle : .cross))
        let size: Shapes.Size = Float(max(w, h)) > (shapes.extent(.small) + shapes.extent(.large)) / 2 ? .large : .small
        let cx = (Float(x0 + x1) + 1) / 2 / Float(side), cy = (Float(y0 + y1) + 1) / 2 / Float(side)
        let position = Shapes.Position.allCases.min { a, b in
            distance((a.centre.x, a.centre.y, 0), (cx, cy, 0)) < distance((b.centre.x, b.centre.y, 0), (cx, cy, 0))
        }!
        return Shapes.Object(colour, kind, size, position)
    }

    func distance(_ a: (Float, Float, Float), _ b: (Float, Float, Float)) -> Float {
        (a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1) + (a.2 - b.2) * (a.2 - b.2)
    }

    /// Per attribute, whether the image shows what the objects say (objects matched by position).
    public struct Score: Equatable, Sendable {
        public var colour = true, kind = true, size = true, position = true, count = true
        public var all: Bool { colour && kind && size && position && count }
    }

    public func score(_ pixels: [Float], against expected: [Shapes.Object]) -> Score {
        let seen = read(pixels).objects
        var s = Score()
        s.count = seen.count == expected.count
        for e in expected {
            guard let o = seen.first(where: { $0.position == e.position }) ?? (seen.count == 1 ? seen.first : nil) else {
                s.position = false; s.colour = false; s.kind = false; s.size = false; continue
            }
            s.position = s.position && o.position == e.position
            s.colour = s.colour && o.colour == e.colour
            s.kind = s.kind && o.kind == e.kind
            s.size = s.size && o.size == e.size
        }
        return s
    }
}
