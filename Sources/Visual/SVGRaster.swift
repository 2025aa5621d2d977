import CRsvg
import Foundation

/// An SVG drawing as pixels through librsvg and cairo (text through Pango and fontconfig): a
/// graph, a mask picture or a plot as 8-bit RGBA on white — the terminal's pictures and the PNG
/// files of pictures drawn as SVG — or a drawing's coverage (its alpha) at a chosen size, for
/// rendered data such as glyphs.
public enum SVGRaster {
    /// At most this many pixels on the longer side; small drawings keep their own size.
    public static let maxSide = 1024.0

    /// The drawing as a PNG, `scale` pixels per SVG unit (at most 4096 pixels a side).
    public static func png(_ svg: String, scale: Double = 1) throws -> Data {
        guard let r = rgba(svg, scale: scale, maxSide: 4096) else { throw SVGRasterError() }
        var image = RGBImage(width: r.width, height: r.height)
        for i in 0..<(r.width * r.height) {
            image.pixels[3 * i] = r.pixels[4 * i]; image.pixels[3 * i + 1] = r.pixels[4 * i + 1]; image.pixels[3 * i + 2] = r.pixels[4 * i + 2]
        }
        return image.png
    }

    /// The pixels on white and their size, `scale` pixels per SVG unit but at most `maxSide` on
    /// the longer side; nil if librsvg cannot read the text.
    public static func rgba(_ svg: String, scale wanted: Double = 1, maxSide: Double = maxSide) -> (pixels: [UInt8], width: Int, height: Int)? {
        render(svg, onWhite: true) { w, h in
            let scale = min(wanted, maxSide / max(w, h))
            return (max(1, Int((w * scale).rounded())), max(1, Int((h * scale).rounded())))
        }.map { words, width, height in
            // ARGB32 is one native-endian 32-bit word per pixel; opaque here (painted on white).
            var out = [UInt8](repeating: 255, count: width * height * 4)
            for (k, p) in words.enumerated() {
                out[4 * k] = UInt8((p >> 16) & 0xFF); out[4 * k + 1] = UInt8((p >> 8) & 0xFF); out[4 * k + 2] = UInt8(p & 0xFF)
            }
            return (out, width, height)
        }
    }

    /// How much of each pixel the drawing covers, in [0, 1] (its alpha on a transparent
    /// canvas), row-major, with its viewport scaled to width × height; nil if librsvg cannot
    /// read or draw it.
    public static func coverage(_ svg: String, width: Int, height: Int) -> [Float]? {
        render(svg, onWhite: false) { _, _ in (width, height) }.map { words, _, _ in
            words.map { Float($0 >> 24) / 255 }
        }
    }

    /// The drawing as cairo ARGB32 words (premultiplied alpha), at the size `size` picks from
    /// the drawing's intrinsic size (512 × 512 when it has none).
    private static func render(_ svg: String, onWhite: Bool, size: (Double, Double) -> (Int, Int))
        -> (words: [UInt32], width: Int, height: Int)? {
        let bytes = Array(svg.utf8)
        var error: UnsafeMutablePointer<GError>?
        guard let handle = rsvg_handle_new_from_data(bytes, gsize(bytes.count), &error) else {
            if let error { g_error_free(error) }
            return nil
        }
        defer { g_object_unref(UnsafeMutableRawPointer(handle)) }
        var w = 0.0, h = 0.0
        if rsvg_handle_get_intrinsic_size_in_pixels(handle, &w, &h) == 0 || w <= 0 || h <= 0 { w = 512; h = 512 }
        let (width, height) = size(w, h)
        guard width > 0, height > 0,
              let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)) else { return nil }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { return nil }
        if onWhite {
            cairo_set_source_rgb(cr, 1, 1, 1)
            cairo_paint(cr)
        }
        var viewport = RsvgRectangle(x: 0, y: 0, width: Double(width), height: Double(height))
        let drawn = rsvg_handle_render_document(handle, cr, &viewport, &error)
        cairo_destroy(cr)
        if let error { g_error_free(error) }
        guard drawn != 0 else { return nil }
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else { return nil }
        let stride = Int(cairo_image_surface_get_stride(surface))
        var words = [UInt32](repeating: 0, count: width * height)
        for y in 0..<height {
            let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<width { words[y * width + x] = row[x] }
        }
        return (words, width, height)
    }
}

/// librsvg could not read or draw an SVG text.
public struct SVGRasterError: Error, CustomStringConvertible {
    public var description: String { "librsvg could not draw the SVG" }
}
