import CZlib
import Foundation

/// An 8-bit RGB raster and its PNG encoding (zlib from the system; no other dependency).
public struct RGBImage: Sendable {
    public let width: Int, height: Int
    public var pixels: [UInt8]   // RGB, row-major

    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        self.width = width; self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { pixels[3 * i] = fill.0; pixels[3 * i + 1] = fill.1; pixels[3 * i + 2] = fill.2 }
    }

    public mutating func fill(x: Int, y: Int, w: Int, h: Int, _ c: (UInt8, UInt8, UInt8)) {
        for yy in max(0, y)..<min(height, y + h) {
            for xx in max(0, x)..<min(width, x + w) {
                let i = 3 * (yy * width + xx)
                pixels[i] = c.0; pixels[i + 1] = c.1; pixels[i + 2] = c.2
            }
        }
    }

    /// PNG bytes of the RGB pixels.
    public var png: Data { PNGEncoder.encode(width: width, height: height, channels: 3, samples: pixels) }

    static func deflate(_ bytes: [UInt8]) -> Data {
        var size = compressBound(uLong(bytes.count))
        var buffer = [UInt8](repeating: 0, count: Int(size))
        let status = compress2(&buffer, &size, bytes, uLong(bytes.count), 6)
        precondition(status == Z_OK, "zlib compress2 failed: \(status)")
        return Data(buffer[0..<Int(size)])
    }
}

/// 8-bit PNG files: gray (one sample a pixel) or RGB (three).
public enum PNGEncoder {
    /// PNG bytes: signature, IHDR, one zlib-compressed IDAT (filter 0 per row), IEND.
    /// `samples` is row-major, `channels` (1 or 3) per pixel.
    public static func encode(width: Int, height: Int, channels: Int, samples: [UInt8]) -> Data {
        precondition(channels == 1 || channels == 3, "a PNG here is gray (1 channel) or RGB (3)")
        precondition(samples.count == width * height * channels, "\(samples.count) samples for \(width)×\(height)×\(channels)")
        let row = width * channels
        var raw = [UInt8](); raw.reserveCapacity((row + 1) * height)
        for y in 0..<height { raw.append(0); raw += samples[(y * row)..<((y + 1) * row)] }
        var out = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = Data()
        header.appendBigEndian(UInt32(width)); header.appendBigEndian(UInt32(height))
        // 8 bits, gray (0) or RGB (2), deflate, no filter method, no interlace
        header += Data([8, channels == 1 ? 0 : 2, 0, 0, 0])
        out.appendChunk("IHDR", header)
        out.appendChunk("IDAT", RGBImage.deflate(raw))
        out.appendChunk("IEND", Data())
        return out
    }
}

extension Data {
    mutating func appendBigEndian(_ v: UInt32) { append(contentsOf: [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)]) }

    mutating func appendChunk(_ type: String, _ body: Data) {
        appendBigEndian(UInt32(body.count))
        let typed = Data(type.utf8) + body
        append(typed)
        let crc = typed.withUnsafeBytes { crc32(0, $0.bindMemory(to: UInt8.self).baseAddress, uInt(typed.count)) }
        appendBigEndian(UInt32(crc))
    }
}
