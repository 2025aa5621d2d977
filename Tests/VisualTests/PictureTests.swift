import Foundation
import Testing
import CZlib
@testable import Visual

@Suite struct PictureTests {
    /// Decodes our own PNG (one IDAT, filter 0) back to RGB bytes with zlib.
    static func decode(_ png: Data) throws -> (width: Int, height: Int, rgb: [UInt8]) {
        let bytes = [UInt8](png)
        #expect(Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        func u32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        var i = 8, width = 0, height = 0, idat: [UInt8] = []
        while i < bytes.count {
            let length = u32(i), type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            let body = Array(bytes[(i + 8)..<(i + 8 + length)])
            let crc = crc32(0, Array(bytes[(i + 4)..<(i + 8 + length)]), uInt(length + 4))
            #expect(UInt32(u32(i + 8 + length)) == UInt32(crc), "CRC of \(type)")
            if type == "IHDR" { width = u32(i + 8); height = u32(i + 12) }
            if type == "IDAT" { idat += body }
            i += 12 + length
        }
        var raw = [UInt8](repeating: 0, count: (width * 3 + 1) * height)
        var size = uLongf(raw.count)
        #expect(uncompress(&raw, &size, idat, uLong(idat.count)) == Z_OK)
        var rgb: [UInt8] = []
        for y in 0..<height {
            let row: Int = y * (width * 3 + 1)
            #expect(raw[row] == 0)
            rgb += raw[(row + 1)..<(row + 1 + width * 3)]
        }
        return (width, height, rgb)
    }

    @Test func pngRoundTripsThroughZlib() throws {
        var img = RGBImage(width: 7, height: 5)
        img.fill(x: 2, y: 1, w: 3, h: 2, (10, 200, 30))
        let back = try Self.decode(img.png)
        #expect(back.width == 7 && back.height == 5)
        #expect(back.rgb == img.pixels)
    }

    static let picture = MaskPicture(
        title: "causal", count: 3, allowed: [true, false, false, true, true, false, true, true, true],
        kinds: ["T", "B", "P"], images: [nil, 0, 0])

    @Test func terminalPictureLabelsRowsAndColumns() {
        let text = Self.picture.terminal(color: false)
        #expect(text == "causal  (3 tokens)\n   TBP\n T █··\n B ██·\n P ███\n")
        #expect(Self.picture.terminal(color: true).contains("\u{1B}[38;2;"))
    }

    @Test func svgHasLabelsBandsAndCells() {
        let svg = Self.picture.svg()
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains(">T</text>") && svg.contains(">B</text>") && svg.contains(">P</text>"))
        #expect(svg.components(separatedBy: "<rect").count > 6)
    }

    @Test func pngPictureDecodes() throws {
        // Rasterised from the SVG at two pixels a unit: the title and legend make it wide.
        let back = try Self.decode(Self.picture.png())
        #expect(back.width > 600 && back.height > 100)
    }
}
