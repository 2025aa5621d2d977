import CRsvg
import Foundation

/// An SVG drawing (a graph, a mask picture, a plot) as 8-bit RGBA pixels on white, through
/// librsvg and cairo: the terminal's pictures and the PNG files of pictures drawn as SVG.
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

    /// The pixels and size, `scale` pixels per SVG unit but at most `maxSide` on the longer
    /// side; nil if librsvg cannot read the text.
    public static func rgba(_ svg: String, scale wanted: Double = 1, maxSide: Double = maxSide) -> (pixels: [UInt8], width: Int, height: Int)? {
        let bytes = Array(svg.utf8)
        var error: UnsafeMutablePointer<GError>?
        guard let handle = rsvg_handle_new_from_data(bytes, gsize(bytes.count), &error) else {
            if let error { g_error_free(error) }
            return nil
        }
        defer { g_object_unref(UnsafeMutableRawPointer(handle)) }
        var w = 0.0, h = 0.0
        if rsvg_handle_get_intrinsic_size_in_pixels(handle, &w, &h) == 0 || w <= 0 || h <= 0 { w = 512; h = 512 }
        let scale = min(wanted, maxSide / max(w, h))
        let width = max(1, Int((w * scale).rounded())), height = max(1, Int((h * scale).rounded()))
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)) else { return nil }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { return nil }
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        var viewport = RsvgRectangle(x: 0, y: 0, width: Double(width), height: Double(height))
        let drawn = rsvg_handle_render_document(handle, cr, &viewport, &error)
        cairo_destroy(cr)
        if let error { g_error_free(error) }
        guard drawn != 0 else { return nil }
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else { return nil }
        let stride = Int(cairo_image_surface_get_stride(surface))
        // ARGB32 is one native-endian 32-bit word per pixel; opaque here (painted on white).
        var out = [UInt8](repeating: 255, count: width * height * 4)
        for y in 0..<height {
            let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<width {
                let p = row[x], i = (y * width + x) * 4
                out[i] = UInt8((p >> 16) & 0xFF); out[i + 1] = UInt8((p >> 8) & 0xFF); out[i + 2] = UInt8(p & 0xFF)
            }
        }
        return (out, width, height)
    }
}

/// librsvg could not read or draw an SVG text.
public struct SVGRasterError: Error, CustomStringConvertible {
    public var description: String { "librsvg could not draw the SVG" }
}
