import CZlib
import Foundation
import Testing
import TensorGraph
@testable import Visual

@Suite struct PNGDecodeTests {
    /// PNGs written by Python with only `zlib` and `struct` (7×6 pixels; row y uses filter
    /// y mod 5, so every filter appears; the data is split over 3 IDAT chunks), with the 8-bit
    /// samples the decoder must return, computed by Python from the source arrays: 16-bit
    /// samples keep their high byte, palettes become RGB (RGBA with tRNS), 1-bit gray is 0/255.
    /// The generator (at the end of this file) filtered rows with its own Sub/Up/Average/Paeth
    /// and packed sub-byte pixels high bits first.
    static let pythonFixtures: [(name: String, channels: Int, png: String, samples: String)] = [
        ("gray", 1, "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAGCAAAAAAqZduqAAAAE0lEQVR42gEwAM//ANwEZaofrR0BWoAL9HPCLwAAABRJREFUx28DQQK5lpTA4vKgAxBrzLd3ot+dBYINAAAAFElEQVQEBFMpKVvHxwDy31+utwhZ3qYU1xTHCwMAAAAASUVORK5CYII=",
         "dc0465aa1fad1d5adae5ac1b1e5f1370796cfd10ff19af601d04acb41d022b4678733af2df5faeb70859"),
        ("grayAlpha", 2, "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAGCAQAAAClB0z9AAAAIUlEQVR42gFaAKX/ANHuORDLSJW1zIkpEf8GAbZieH0OGvkEFpeXySxJAAAAIklEQVTdNuGyAo5R1H9aZn7tIhisY3jyA0dWq2DMqv9pY3pZ3tH7DCYBTAAAACJJREFUBGA7FI9vOqqfrDuuPC5zAA3Ls3cVamo6aLqO23QITD8ozcw6jf0AAAAASUVORK5CYII=",
         "d1ee3910cb4895b5cc892911ff06b6622edf3cf935fd4b9428ca097c44b3025e965fb3ea6dacd42d816e69afe0e6874c9c04e7d2365d2c60c9eaf479f686a0eb9326e46212d50dcbb377156a6a3a68ba8edb7408"),
        ("rgb", 3, "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAGCAIAAACAbBMhAAAAL0lEQVR42gGEAHv/AEae886zCvjQ3Wi7+F/6JPLS/BiH+wFch7pYsXjxY+mYdWG6aFqIaoy2gNMAAAAwSURBVJd5LyQCzffZ4ZPgILyzHeFYH6ABmtqXY20IA1GyWReTan5IoWdqJRaf4Ot3qtmq7jAITAwAAAAwSURBVATHqHiXevtK5FPcqLhH9qIi45h0mCQAl2PTkvyv36KMlyNFYuvdB2Vw/1iJtd1HTp/Bl9MAAAAASUVORK5CYII=",
         "469ef3ceb30af8d0dd68bbf85ffa24f2d2fc1887fb5c87bab43832a59b1b3d107cf778d67fe26df81191297e9395cb12c557ce5af1d41618d719bc045b7e9965f1a29471c42aac6aa938c475c7ad3238021f053b2c991afceb15decf68bae07cbcd61e971b9a0b9dbe9763d392fcafdfa28c97234562ebdd076570ff5889"),
        ("rgba", 4, "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAGCAYAAAAPDoR2AAAAPUlEQVR42gGuAFH/AGrP98ruPxzp5Apo5d6TjTicfb3XWwnU5+IzRD8BSozEoUZK9BdMi6cZssdfiICCksJC4Bobaf1F0AAAAD5JREFU2VwGqQIL6/Y7tJeLA82nuAUyzr2vU8aJEnmICCX7mFIDA7B2VZYPkQYVlIYk65EVuRI8T4YDGdWURnxYw/UXG1p9AAAAPklEQVQElCIrDtZCgJjdDX0z7i9vlxnCNbBZ/8+w+5gyigBFtDbViP7SAEHyh7EPg190ZbooRhZS34iiE9m/mzdSNqTGPmYAAAAASUVORK5CYII=",
         "6acff7caee3f1ce9e40a68e5de938d389c7dbdd75b09d4e7e233443f4a8cc4a190d6b8b8dc615fd18e28be590eaa501b508a6a3629e670df5577badc446d43bba90817d6c0f67b086170d92dc912725b247ec2e2dab1b2049e208074379a6f900cdd2e5e72f50948b658d197e9c38cb16ed3dd124462320c14a7af3ffa0cded613ce1386cb57a047e45bbed145b436d588fed20041f287b10f835f7465ba28461652df88a213d9bf"),
        ("rgb16", 3, "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAGEAIAAADQ/M9iAAAAWUlEQVR42gECAf3+AELvtxG13gd/yXm646hYSqnoLahNUJ3mmGviqZrPIUxmKozVkBE3mGeJuwGt81GNE61IKVB0gf+7aMv09kl69iUAabYFDKHFjprxt5Gtk0NaOPP3/cEAAABaSURBVM1hTz8CWu3NNV1WpbXqFat4Rj9yNmVoMFdVgSDOm7zk/49l5ZzAybOCVRBgnmglA+w8euvCtltaMJKYcizzfjvvlEWhCdqWP3nXhmAvTZ1+h7JQRdOmCY/S/WcfxdEAAABaSURBVARyQzoHcRkwflwrGd49bw6pfpLelqS5tt6A+Tf2mMytxYvcTdOXM1i7DLUAIf+XehpNf3CMqy98+oAbQsr124z5LLjmfkH2+X8B5Kg2baTsou26cO1UgWuD9jUsBJwAAAAASUVORK5CYII=",
         "42b7b507c9baa84ae8a850e66ba9cf4c2ad5119889ad5113f5a194b06c8a2a91f32f328120c3147a9063071e709a8b3ff6deef5ae613ca16100583c7cff0cbef89fa1fba34b64a80cda1df44e1a6c139069b9d3a61c36b4f1f4df32dfed145b4c4d83e71c453081c5f21971a7f8c2ffa1bcadbf9b87ef67fe436a4a2baed"),
        ("palette8Alpha", 4, "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAGCAMAAAA40HREAAAAD1BMVEVX66CXY0GJTU1ZaOaSvFxRQlBmAAAAA3RSTlP/AICpVnMTAAAADUlEQVR42g3HwREAMAzCMAzsZn2KEQAAAA5JREFUv3GT5vyRRQMYXUxca9hQ0j9BAAAADklEQVTNbH24fdFabiF83dMKM8BELPgAAAAASUVORK5CYII=",
         "9763410092bc5cff5968e6ff976341009763410097634100894d4d8057eba0ff9763410097634100894d4d805968e6ff9763410092bc5cff92bc5cff5968e6ff9763410057eba0ff92bc5cff57eba0ff5968e6ff57eba0ff57eba0ff92bc5cff92bc5cff894d4d80894d4d8097634100894d4d80894d4d809763410092bc5cff894d4d80976341005968e6ff894d4d8092bc5cff92bc5cff97634100976341005968e6ff97634100"),
        ("palette2", 3, "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAGAgMAAAByYGzlAAAADFBMVEWl5crDSQRQwvpzTSj/wa1/AAAACElEQVR42mNglWHkmxdYTbUAAAAJSURBVMUUyMHMeonFfklkzmUAAAAJSURBVCnDPxYAGpcD6lzlsGkAAAAASUVORK5CYII=",
         "a5e5caa5e5cac34904c34904a5e5cac34904734d28a5e5caa5e5ca734d2850c2fa50c2fa50c2fa50c2fac34904c34904734d28734d2850c2fa734d28a5e5caa5e5ca734d28c34904a5e5cac34904a5e5cac34904c34904734d28a5e5ca734d28a5e5cac3490450c2fa734d28734d28734d2850c2faa5e5caa5e5cac34904"),
        ("gray1", 1, "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAGAQAAAAAndbnbAAAABklEQVR42mN4xHiW+3vVAAAAB0lEQVSP6RHzHxYRrkJ9ZgAAAAdJREFUhnUAHdAEa2iJXzgAAAAASUVORK5CYII=",
         "ffffff000000ffffff00ffffffffffff000000000000ff00ffffff0000ffffff000000ff00ff00ffffff"),
    ]

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = [], it = hex.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
        return out
    }

    @Test(arguments: pythonFixtures.map(\.name))
    func decodesFilesWrittenByPython(_ name: String) throws {
        let f = Self.pythonFixtures.first { $0.name == name }!
        let image = try PNGDecoder.decode(Data(base64Encoded: f.png)!)
        #expect(image.width == 7 && image.height == 6)
        #expect(image.channels == f.channels)
        #expect(image.samples == Self.bytes(hex: f.samples))
    }

    @Test func roundTripsTheEncoder() throws {
        var rng = RNG(seed: 3)
        var original = RGBImage(width: 13, height: 9)
        original.pixels = (0..<original.pixels.count).map { _ in UInt8(rng.int(256)) }
        let back = try PNGDecoder.decode(original.png)
        #expect(back.width == 13 && back.height == 9 && back.channels == 3)
        #expect(back.samples == original.pixels)
        #expect(back.rgb == original.pixels.map { Float($0) / 255 })
    }

    /// Random images through an encoder written here (filters applied forwards, the opposite
    /// of what the decoder does), random filters per row, the stream cut into random IDATs.
    @Test(arguments: [(0, 1), (2, 3), (4, 2), (6, 4)])
    func decodesEveryFilterOnRandomImages(colourType: Int, channels: Int) throws {
        var rng = RNG(seed: UInt64(colourType))
        for trial in 0..<20 {
            let (w, h) = (1 + rng.int(20), 1 + rng.int(12))
            let samples = (0..<(w * h * channels)).map { _ in UInt8(rng.int(256)) }
            let filters = (0..<h).map { _ in UInt8(rng.int(5)) }
            let png = TestPNG.file(width: w, height: h, colourType: colourType, rows: TestPNG.rows(samples, width: w * channels),
                                   bpp: channels, filters: filters, idatParts: 1 + rng.int(4))
            let image = try PNGDecoder.decode(png)
            #expect(image.samples == samples, "trial \(trial): \(w)×\(h), filters \(filters)")
        }
    }

    @Test func grayBecomesThreeEqualChannelsAndAlphaIsDropped() throws {
        let gray = try PNGDecoder.decode(TestPNG.file(width: 2, height: 1, colourType: 4, rows: [[0, 9, 255, 0]], bpp: 2))
        #expect(gray.rgb == [0, 0, 0, 1, 1, 1])
    }

    // MARK: damaged files

    static func message(_ data: Data) -> String {
        do { _ = try PNGDecoder.decode(data); return "decoded" } catch let e as PNGError { return e.message } catch { return "other error \(error)" }
    }

    @Test func refusesInterlacedImagesClearly() {
        let png = TestPNG.file(width: 2, height: 2, colourType: 2, rows: [[UInt8]](repeating: [1, 2, 3, 4, 5, 6], count: 2), bpp: 3, interlace: 1)
        #expect(Self.message(png) == "Adam7-interlaced PNGs are not supported; save the image without interlacing")
    }

    @Test func namesWhatIsWrong() {
        let good = Data(base64Encoded: Self.pythonFixtures[2].png)!
        #expect(Self.message(Data("GIF89a".utf8)).hasPrefix("not a PNG file"))
        var flipped = good; flipped[40] ^= 0x10   // inside the first IDAT's data
        #expect(Self.message(flipped).contains("fails its CRC check"))
        #expect(Self.message(good.prefix(good.count - 12)).contains("truncated"))  // IEND cut off
        let badFilter = TestPNG.file(width: 1, height: 1, colourType: 0, rows: [[7]], bpp: 1, filters: [9])
        #expect(Self.message(badFilter) == "row 0 has filter type 9; PNG defines 0 to 4 (corrupt file)")
        let short = TestPNG.file(width: 4, height: 4, colourType: 0, rows: [[1, 2, 3, 4]], bpp: 1)
        #expect(Self.message(short).contains("truncated image"))
        let palette = TestPNG.file(width: 2, height: 1, colourType: 3, rows: [[0, 2]], bpp: 1,
                                   extra: [("PLTE", [10, 20, 30, 40, 50, 60])])
        #expect(Self.message(palette) == "pixel (1, 0) uses palette entry 2 but the palette has 2 entries")
        let noPalette = TestPNG.file(width: 1, height: 1, colourType: 3, rows: [[0]], bpp: 1)
        #expect(Self.message(noPalette) == "a palette image has no PLTE chunk")
        let depth = TestPNG.file(width: 1, height: 1, colourType: 2, rows: [[0, 0, 0]], bpp: 3, depth: 4)
        #expect(Self.message(depth) == "bit depth 4 is not allowed for colour type 2 (allowed: 8, 16)")
    }

    /// A header whose sides multiply past Int.max (0xC0000000² = 2⁶³ + 2⁶²) is refused by the
    /// size check, not trapped by the multiplication before it.
    @Test func refusesSidesWhoseProductOverflows() {
        let side = 0xC000_0000
        let png = Data(PNGChunks.signature + TestPNG.chunk("IHDR", TestPNG.be(side) + TestPNG.be(side) + [8, 2, 0, 0, 0])
                       + TestPNG.chunk("IEND", []))
        #expect(Self.message(png) == "the image is \(side)×\(side), more than the \(PNGDecoder.maxPixels) pixels this decoder accepts")
    }

    /// Every prefix of a file, and random byte changes with the CRCs repaired (so they reach
    /// the header, zlib and filter checks), give a PNGError or an image — never a crash.
    @Test func damagedFilesNeverCrash() {
        for f in Self.pythonFixtures {
            let good = Data(base64Encoded: f.png)!
            for n in 0..<good.count { #expect(Self.message(good.prefix(n)) != "decoded") }
        }
        var rng = RNG(seed: 11)
        for trial in 0..<2000 {
            let f = Self.pythonFixtures[trial % Self.pythonFixtures.count]
            var bytes = [UInt8](Data(base64Encoded: f.png)!)
            for _ in 0...rng.int(3) { bytes[8 + rng.int(bytes.count - 8)] = UInt8(rng.int(256)) }
            let m = Self.message(TestPNG.repairingCRCs(bytes))
            #expect(!m.hasPrefix("other error"), "\(m)")
        }
    }
}

/// A PNG encoder for tests, written apart from the decoder: forward filters, chunk CRCs.
enum TestPNG {
    static func rows(_ samples: [UInt8], width: Int) -> [[UInt8]] {
        stride(from: 0, to: samples.count, by: width).map { Array(samples[$0..<($0 + width)]) }
    }

    static func file(width: Int, height: Int, colourType: Int, rows: [[UInt8]], bpp: Int, filters: [UInt8]? = nil,
                     idatParts: Int = 1, depth: UInt8 = 8, interlace: UInt8 = 0, extra: [(String, [UInt8])] = []) -> Data {
        var raw: [UInt8] = [], previous = [UInt8](repeating: 0, count: rows[0].count)
        for (y, row) in rows.enumerated() {
            let f = filters?[y] ?? 0
            raw.append(f)
            raw += row.indices.map { i in
                let a = i >= bpp ? Int(row[i - bpp]) : 0, b = Int(previous[i]), c = i >= bpp ? Int(previous[i - bpp]) : 0
                return UInt8(truncatingIfNeeded: Int(row[i]) - predictor(f, a, b, c))
            }
            previous = row
        }
        var size = compressBound(uLong(raw.count))
        var z = [UInt8](repeating: 0, count: Int(size))
        _ = compress2(&z, &size, raw, uLong(raw.count), 9)
        z = Array(z.prefix(Int(size)))
        var chunks: [(String, [UInt8])] = [("IHDR", be(width) + be(height) + [depth, UInt8(colourType), 0, 0, interlace])] + extra
        let cuts = (0...idatParts).map { z.count * $0 / idatParts }
        for k in 0..<idatParts { chunks.append(("IDAT", Array(z[cuts[k]..<cuts[k + 1]]))) }
        chunks.append(("IEND", []))
        return Data(PNGChunks.signature + chunks.flatMap { type, body in chunk(type, body) })
    }

    static func predictor(_ f: UInt8, _ a: Int, _ b: Int, _ c: Int) -> Int {
        switch f {
        case 1: return a
        case 2: return b
        case 3: return (a + b) / 2
        case 4:
            let p = a + b - c
            let (da, db, dc) = (abs(p - a), abs(p - b), abs(p - c))
            if da <= db && da <= dc { return a }
            return db <= dc ? b : c
        default: return 0
        }
    }

    static func be(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }

    static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be(body.count) + typed + be(Int(crc32(0, typed, uInt(typed.count))))
    }

    /// The file with every chunk's CRC recomputed (chunk lengths are trusted while they fit).
    static func repairingCRCs(_ bytes: [UInt8]) -> Data {
        var out = bytes, i = 8
        while i + 12 <= out.count {
            let n = out[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard i + 12 + n <= out.count else { break }
            let crc = be(Int(crc32(0, Array(out[(i + 4)..<(i + 8 + n)]), uInt(n + 4))))
            out.replaceSubrange((i + 8 + n)..<(i + 12 + n), with: crc)
            i += 12 + n
        }
        return Data(out)
    }
}

/* The generator of `pythonFixtures` (python3, standard library only):

import zlib, struct, base64

def chunk(t, body):
    return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body) & 0xffffffff)

def paeth(a, b, c):
    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)

def filtered(rows, bpp):
    out, prev = b"", bytes(len(rows[0]))
    for y, row in enumerate(rows):
        f = y % 5
        enc = bytearray()
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][f]
            enc.append((x - pred) % 256)
        out += bytes([f]) + bytes(enc); prev = row
    return out

def png(w, h, depth, ctype, rows, bpp, extra=b"", idat_parts=3):
    data = zlib.compress(filtered(rows, bpp), 9)
    cut = [len(data) * k // idat_parts for k in range(idat_parts + 1)]
    idats = b"".join(chunk(b"IDAT", data[cut[k]:cut[k + 1]]) for k in range(idat_parts))
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + idats + chunk(b"IEND", b"")

seed = [12345]
def rnd(n):
    out = []
    for _ in range(n):
        seed[0] = (seed[0] * 1103515245 + 12345) % 2**31
        out.append(seed[0] >> 16 & 255)
    return out

W, H = 7, 6
fixtures = []
for name, ctype, ch in [("gray", 0, 1), ("grayAlpha", 4, 2), ("rgb", 2, 3), ("rgba", 6, 4)]:
    px = rnd(W * H * ch)
    rows = [bytes(px[y * W * ch:(y + 1) * W * ch]) for y in range(H)]
    fixtures.append((name, png(W, H, 8, ctype, rows, ch), ch, bytes(px)))
# 16-bit RGB: expected is the high byte
px = rnd(W * H * 6)
rows = [bytes(px[y * W * 6:(y + 1) * W * 6]) for y in range(H)]
fixtures.append(("rgb16", png(W, H, 16, 2, rows, 6), 3, bytes(px[0::2])))
# palette, 8 bits, with tRNS
pal = rnd(5 * 3); alpha = [255, 0, 128]
idx = [v % 5 for v in rnd(W * H)]
rows = [bytes(idx[y * W:(y + 1) * W]) for y in range(H)]
exp = b"".join(bytes(pal[i * 3:i * 3 + 3] + [alpha[i] if i < 3 else 255]) for i in idx)
fixtures.append(("palette8Alpha", png(W, H, 8, 3, rows, 1, chunk(b"PLTE", bytes(pal)) + chunk(b"tRNS", bytes(alpha))), 4, exp))
# palette, 2 bits per pixel (what PIL writes for 4-colour palettes), no transparency
pal = rnd(4 * 3); idx = [v % 4 for v in rnd(W * H)]
def pack(vals, depth):
    out = bytearray(); per = 8 // depth
    for k in range(0, len(vals), per):
        byte = 0
        for j, v in enumerate(vals[k:k + per]): byte |= v << (8 - depth * (j + 1))
        out.append(byte)
    return bytes(out)
rows = [pack(idx[y * W:(y + 1) * W], 2) for y in range(H)]
exp = b"".join(bytes(pal[i * 3:i * 3 + 3]) for i in idx)
fixtures.append(("palette2", png(W, H, 2, 3, rows, 1, chunk(b"PLTE", bytes(pal))), 3, exp))
# 1-bit gray
bits = [v & 1 for v in rnd(W * H)]
rows = [pack(bits[y * W:(y + 1) * W], 1) for y in range(H)]
fixtures.append(("gray1", png(W, H, 1, 0, rows, 1), 1, bytes(b * 255 for b in bits)))

for name, data, ch, exp in fixtures:
    print(f'        ("{name}", {ch}, "{base64.b64encode(data).decode()}",\n         "{exp.hex()}"),')
*/
