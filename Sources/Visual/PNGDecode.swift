import CZlib
import Foundation
import TensorGraph

/// A decoded PNG: 8-bit samples, `channels` per pixel — 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA
/// (palette images come out as RGB, or RGBA when their palette has transparency).
public struct PNGImage: Equatable, Sendable {
    public let width: Int, height: Int, channels: Int
    public let samples: [UInt8]

    /// RGB values in [0, 1], row-major, channels last. Alpha is dropped and gray is repeated
    /// into the three channels, as PIL's `convert("RGB")` does, so a folder of mixed PNGs
    /// reads the same here as in a Python pipeline.
    public var rgb: [Float] {
        var out = [Float](repeating: 0, count: width * height * 3)
        let colour = channels >= 3
        samples.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<(width * height) {
                    let base = i * channels
                    for c in 0..<3 { o[i * 3 + c] = Float(s[base + (colour ? c : 0)]) / 255 }
                }
            }
        }
        return out
    }
}

/// Why a PNG could not be read; the message says what was wrong and where.
public struct PNGError: Error, LocalizedError, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

/// PNG decoding: every colour type at 8 bits (and 1–4 or 16 bits where the format allows
/// them), non-interlaced, all five row filters, any number of IDAT chunks, every CRC checked,
/// zlib through the system library. Damaged files throw `PNGError`; nothing traps.
public enum PNGDecoder {
    /// Larger images are refused before anything is allocated (a corrupt header must not
    /// ask for gigabytes).
    public static let maxPixels = 1 << 26

    /// `checkingCRC: false` is for fuzzing only: mutated inputs then reach the decoding itself
    /// instead of failing their chunk's CRC.
    public static func decode(_ data: Data, checkingCRC: Bool = true) throws -> PNGImage {
        let chunks = try PNGChunks.read([UInt8](data), checkingCRC: checkingCRC)
        let header = try PNGHeader(chunks)
        let palette = try header.colourType == 3 ? PNGPalette(chunks) : nil
        let idat = chunks.filter { $0.type == "IDAT" }.flatMap(\.body)
        guard !idat.isEmpty else { throw PNGError("the file has no image data (no IDAT chunk)") }
        var raw = try inflate(idat, expected: header.height * (1 + header.rowBytes))
        try unfilter(&raw, header)
        return try PNGSamples.expand(raw, header, palette)
    }

    public static func decode(contentsOf url: URL) throws -> PNGImage {
        try decode(try Data(contentsOf: url))
    }

    /// The zlib stream of the IDAT chunks, which must inflate to exactly `expected` bytes.
    static func inflate(_ compressed: [UInt8], expected: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: expected)
        var size = uLongf(expected)
        let status = uncompress(&out, &size, compressed, uLong(compressed.count))
        switch status {
        case Z_OK where Int(size) == expected: return out
        case Z_OK: throw PNGError("the image data holds \(size) bytes; the header's size needs \(expected) (truncated image)")
        case Z_BUF_ERROR: throw PNGError("the image data is longer than the header's size (\(expected) bytes)")
        case Z_MEM_ERROR: throw PNGError("out of memory while inflating the image data")
        default: throw PNGError("the image data is not a valid zlib stream (corrupt or truncated)")
        }
    }

    /// Undoes the row filters in place; `raw` is rows of one filter-type byte then `rowBytes`.
    static func unfilter(_ raw: inout [UInt8], _ header: PNGHeader) throws {
        let stride = header.rowBytes + 1, bpp = header.filterStep
        let zeros = [UInt8](repeating: 0, count: header.rowBytes)  // the row above the first
        try zeros.withUnsafeBufferPointer { top in
            try raw.withUnsafeMutableBufferPointer { buffer in
                let p = buffer.baseAddress!
                for y in 0..<header.height {
                    let row = p + y * stride + 1
                    let prior = y == 0 ? top.baseAddress! : UnsafePointer(row - stride)
                    guard let filter = PNGFilter(rawValue: row[-1]) else {
                        throw PNGError("row \(y) has filter type \(row[-1]); PNG defines 0 to 4 (corrupt file)")
                    }
                    filter.undo(row, prior: prior, count: header.rowBytes, bpp: bpp)
                }
            }
        }
    }
}

/// The five row filters of PNG: each byte is stored as a difference from a prediction made
/// from the byte to its left (a), above (b) and above-left (c), zero outside the image.
enum PNGFilter: UInt8 {
    case none = 0, sub, up, average, paeth

    func undo(_ x: UnsafeMutablePointer<UInt8>, prior: UnsafePointer<UInt8>, count: Int, bpp: Int) {
        guard self != .none else { return }
        for i in 0..<count {
            let a = i >= bpp ? Int(x[i - bpp]) : 0, b = Int(prior[i]), c = i >= bpp ? Int(prior[i - bpp]) : 0
            x[i] = x[i] &+ UInt8(truncatingIfNeeded: prediction(a, b, c))
        }
    }

    func prediction(_ a: Int, _ b: Int, _ c: Int) -> Int {
        switch self {
        case .none: return 0
        case .sub: return a
        case .up: return b
        case .average: return (a + b) >> 1
        case .paeth:
            let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
            return pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
        }
    }
}

/// One chunk of a PNG file: its four-letter type and its data (CRC already checked).
struct PNGChunk {
    let type: String
    let body: ArraySlice<UInt8>
}

enum PNGChunks {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The chunks a decoder must understand; any other critical chunk (upper-case first
    /// letter) means the image cannot be read correctly, so it is refused.
    static let critical: Set<String> = ["IHDR", "PLTE", "IDAT", "IEND"]

    /// The chunks up to IEND, each checked against its CRC.
    static func read(_ bytes: [UInt8], checkingCRC: Bool = true) throws -> [PNGChunk] {
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else {
            throw PNGError("not a PNG file (it does not start with the PNG signature)")
        }
        var chunks: [PNGChunk] = [], offset = 8
        while true {
            guard offset + 12 <= bytes.count else {
                throw PNGError("the file ends at byte \(bytes.count) before its IEND chunk (truncated)")
            }
            let length = u32(bytes, offset)
            guard length <= 0x7FFF_FFFF, offset + 12 + length <= bytes.count else {
                throw PNGError("the chunk at byte \(offset) claims \(length) bytes, past the end of the file (truncated)")
            }
            let typeBytes = bytes[(offset + 4)..<(offset + 8)]
            guard typeBytes.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) }) else {
                throw PNGError("the chunk at byte \(offset) has no valid type (corrupt file)")
            }
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard !checkingCRC || checksum(bytes, from: offset + 4, count: length + 4) == u32(bytes, offset + 8 + length) else {
                throw PNGError("chunk \(type) at byte \(offset) fails its CRC check (corrupt file)")
            }
            if type == "IEND" { return chunks }
            if type.first!.isUppercase && !critical.contains(type) {
                throw PNGError("chunk \(type) is critical but unknown to this decoder")
            }
            chunks.append(PNGChunk(type: type, body: bytes[(offset + 8)..<(offset + 8 + length)]))
            offset += 12 + length
        }
    }

    static func checksum(_ bytes: [UInt8], from start: Int, count: Int) -> Int {
        bytes.withUnsafeBufferPointer { Int(crc32(0, $0.baseAddress! + start, uInt(count))) }
    }

    /// The big-endian 32-bit number at byte i.
    static func u32(_ b: [UInt8], _ i: Int) -> Int {
        Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
    }
}

/// IHDR: the image's size and how its samples are stored.
struct PNGHeader {
    let width: Int, height: Int, bitDepth: Int, colourType: Int

    /// Bit depths the format allows per colour type (0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA).
    static let depths: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
    static let samplesPerPixel = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4]

    init(_ chunks: [PNGChunk]) throws {
        guard let ihdr = chunks.first, ihdr.type == "IHDR" else { throw PNGError("the file does not start with an IHDR chunk") }
        guard ihdr.body.count == 13 else { throw PNGError("the IHDR chunk has \(ihdr.body.count) bytes instead of 13") }
        let b = Array(ihdr.body)
        width = PNGChunks.u32(b, 0); height = PNGChunks.u32(b, 4); bitDepth = Int(b[8]); colourType = Int(b[9])
        guard width > 0, height > 0 else { throw PNGError("the image is \(width)×\(height): both sides must be positive") }
        // Overflow-checked: two 32-bit sides multiply past Int.max (0xC0000000²).
        guard let pixels = MemoryLimit.count([width, height]), pixels <= PNGDecoder.maxPixels else {
            throw PNGError("the image is \(width)×\(height), more than the \(PNGDecoder.maxPixels) pixels this decoder accepts")
        }
        guard let allowed = Self.depths[colourType] else { throw PNGError("colour type \(colourType) is not a PNG colour type") }
        guard allowed.contains(bitDepth) else {
            throw PNGError("bit depth \(bitDepth) is not allowed for colour type \(colourType) (allowed: \(allowed.map(String.init).joined(separator: ", ")))")
        }
        guard b[10] == 0, b[11] == 0 else { throw PNGError("unknown compression (\(b[10])) or filter method (\(b[11])); PNG defines only 0") }
        guard b[12] != 1 else {
            throw PNGError("Adam7-interlaced PNGs are not supported; save the image without interlacing")
        }
        guard b[12] == 0 else { throw PNGError("unknown interlace method \(b[12])") }
    }

    var bitsPerPixel: Int { Self.samplesPerPixel[colourType]! * bitDepth }
    var rowBytes: Int { (width * bitsPerPixel + 7) / 8 }
    /// How far back the "left" byte of a filter is: one pixel, or one byte below 8 bits a pixel.
    var filterStep: Int { max(1, bitsPerPixel / 8) }
}

/// PLTE and, when present, the palette's alpha from tRNS.
struct PNGPalette {
    let rgb: [UInt8]
    let alpha: [UInt8]?
    var count: Int { rgb.count / 3 }

    init(_ chunks: [PNGChunk]) throws {
        guard let plte = chunks.first(where: { $0.type == "PLTE" }) else { throw PNGError("a palette image has no PLTE chunk") }
        guard plte.body.count % 3 == 0, (1...256).contains(plte.body.count / 3) else {
            throw PNGError("the PLTE chunk has \(plte.body.count) bytes; it must hold 1 to 256 RGB entries")
        }
        rgb = Array(plte.body)
        alpha = chunks.first(where: { $0.type == "tRNS" }).map { trns in
            Array(trns.body.prefix(plte.body.count / 3)) + Array(repeating: 255, count: max(0, plte.body.count / 3 - trns.body.count))
        }
    }
}

/// Rows of unfiltered bytes to 8-bit samples: 16-bit samples keep their high byte, gray below
/// 8 bits is scaled to 0–255, palette indices become their colours.
enum PNGSamples {
    static func expand(_ raw: [UInt8], _ h: PNGHeader, _ palette: PNGPalette?) throws -> PNGImage {
        let perPixel = PNGHeader.samplesPerPixel[h.colourType]!
        let channels = palette.map { $0.alpha == nil ? 3 : 4 } ?? perPixel
        var out = [UInt8](repeating: 0, count: h.width * h.height * channels)
        let scale = h.colourType == 0 && h.bitDepth < 8 ? 255 / ((1 << h.bitDepth) - 1) : 1
        try raw.withUnsafeBufferPointer { r in
            try out.withUnsafeMutableBufferPointer { o in
                for y in 0..<h.height {
                    let row = r.baseAddress! + y * (h.rowBytes + 1) + 1
                    for i in 0..<(h.width * perPixel) {
                        let v = sample(row, i, depth: h.bitDepth)
                        if let palette {
                            try paint(o.baseAddress! + (y * h.width + i) * channels, index: v, palette, x: i, y: y)
                        } else {
                            o[y * h.width * perPixel + i] = UInt8(v * scale)
                        }
                    }
                }
            }
        }
        return PNGImage(width: h.width, height: h.height, channels: channels, samples: out)
    }

    /// Sample i of a row: packed high bits first below 8 bits; the high byte of a 16-bit sample.
    @inline(__always) static func sample(_ row: UnsafePointer<UInt8>, _ i: Int, depth: Int) -> Int {
        switch depth {
        case 8: return Int(row[i])
        case 16: return Int(row[2 * i])
        default:
            let perByte = 8 / depth, shift = 8 - depth * (i % perByte + 1)
            return Int(row[i / perByte] >> UInt8(shift)) & ((1 << depth) - 1)
        }
    }

    static func paint(_ p: UnsafeMutablePointer<UInt8>, index: Int, _ palette: PNGPalette, x: Int, y: Int) throws {
        guard index < palette.count else {
            throw PNGError("pixel (\(x), \(y)) uses palette entry \(index) but the palette has \(palette.count) entries")
        }
        for c in 0..<3 { p[c] = palette.rgb[index * 3 + c] }
        if let alpha = palette.alpha { p[3] = alpha[index] }
    }
}
