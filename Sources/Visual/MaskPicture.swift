import Foundation

/// A picture of an attention mask: the [queries × keys] matrix with each position's token kind
/// along both axes and a modality band (text, BOI/EOI, the patches of each image), in the spirit
/// of the Transfusion paper's Figure 4; optionally the tile table attention uses to skip work.
/// Neutral data, so Visual needs nothing from the model code: Transfusion fills it in.
public struct MaskPicture: Sendable {
    public var title: String
    public var count: Int
    public var allowed: [Bool]            // row-major, count × count
    public var kinds: [Character]         // per position: T (text), B, P (patch), E, _ (pad)
    public var images: [Int?]             // per position: the image a token belongs to
    public var tiles: Tiles?

    public struct Tiles: Sendable {
        public var grid: [Character]      // █ full, ▒ partial, · empty
        public var rows: Int, cols: Int, tileRows: Int, tileCols: Int
        public init(grid: [Character], rows: Int, cols: Int, tileRows: Int, tileCols: Int) {
            self.grid = grid; self.rows = rows; self.cols = cols; self.tileRows = tileRows; self.tileCols = tileCols
        }
        public var skippedShare: Double { Double(grid.filter { $0 == "·" }.count) / Double(max(grid.count, 1)) }
    }

    public init(title: String, count: Int, allowed: [Bool], kinds: [Character], images: [Int?], tiles: Tiles? = nil) {
        self.title = title; self.count = count; self.allowed = allowed
        self.kinds = kinds; self.images = images; self.tiles = tiles
    }

    // MARK: colours

    typealias RGB = (UInt8, UInt8, UInt8)
    static let imagePalette: [RGB] = [(214, 96, 77), (67, 147, 195), (90, 174, 97), (153, 112, 171), (224, 130, 20), (53, 151, 143)]
    static let textColor: RGB = (120, 120, 120), markerColor: RGB = (40, 40, 40), padColor: RGB = (220, 220, 220)

    /// The band colour of a position: grey text, dark BOI/EOI, a hue per image for patches.
    func bandColor(_ i: Int) -> RGB {
        switch kinds[i] {
        case "P": return Self.imagePalette[(images[i] ?? 0) % Self.imagePalette.count]
        case "B", "E": return Self.markerColor
        case "_": return Self.padColor
        default: return Self.textColor
        }
    }

    /// An allowed cell takes its key's colour, lighter: the picture shows who sees what.
    func cellColor(_ q: Int, _ k: Int) -> RGB {
        let c = bandColor(k)
        return kinds[k] == "P" && images[q] == images[k] && kinds[q] == "P" ? c : Self.lighter(c)
    }

    /// A cell across modalities or images: the key's colour, lighter.
    static func lighter(_ c: RGB) -> RGB {
        (UInt8((Int(c.0) + 60) * 3 / 4), UInt8((Int(c.1) + 60) * 3 / 4), UInt8((Int(c.2) + 60) * 3 / 4))
    }

    /// A block of a long sequence only partly allowed: its colour, most of the way to white.
    static func partial(_ c: RGB) -> RGB {
        func mix(_ v: UInt8) -> UInt8 { UInt8((Int(v) + 3 * 255) / 4) }
        return (mix(c.0), mix(c.1), mix(c.2))
    }

    static func hex(_ c: RGB) -> String { String(format: "#%02x%02x%02x", c.0, c.1, c.2) }
}
