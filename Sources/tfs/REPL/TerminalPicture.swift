#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CChafa
import Foundation
import Visual

/// A picture drawn for the terminal by libchafa: the escape sequences of the kitty graphics
/// protocol, iTerm2 inline images or sixel, or Unicode block art in true colour.
enum TerminalPicture {
    /// The text that draws the bundle's picture (its PNG, else its SVG rasterized) in `mode`;
    /// nil for `.off`, a bundle without a picture, or one that does not decode.
    static func render(_ bundle: MimeBundle, mode: PictureMode) -> String? {
        guard mode != .off else { return nil }
        if let png = bundle.png, let image = try? PNGDecoder.decode(png), image.width > 0, image.height > 0 {
            return render(rgba: rgbaPixels(image), width: image.width, height: image.height, mode: mode)
        }
        if let svg = bundle.svg, let raster = SVGRaster.rgba(svg) {
            return render(rgba: raster.pixels, width: raster.width, height: raster.height, mode: mode)
        }
        return nil
    }

    /// The text that draws RGBA pixels in `mode`.
    static func render(rgba: [UInt8], width imageWidth: Int, height imageHeight: Int, mode: PictureMode) -> String? {
        let image = (width: imageWidth, height: imageHeight)
        let size = terminalSize()
        let pixelMode: ChafaPixelMode
        switch mode {
        case .kitty: pixelMode = CHAFA_PIXEL_MODE_KITTY
        case .iterm2: pixelMode = CHAFA_PIXEL_MODE_ITERM2
        case .sixel: pixelMode = CHAFA_PIXEL_MODE_SIXELS
        default: pixelMode = CHAFA_PIXEL_MODE_SYMBOLS
        }
        // Small pictures are enlarged: at least 256 pixels wide (as cells), within the window.
        var width: Int32, height: Int32
        if mode == .blocks {
            width = Int32(min(size.columns - 1, 64)); height = Int32(min(size.rows - 2, 32))
        } else {
            let shown = max(256, image.width)
            width = Int32(min(size.columns - 1, (shown + size.cellWidth - 1) / size.cellWidth))
            height = Int32(max(1, size.rows - 2))
        }
        chafa_calc_canvas_geometry(Int32(image.width), Int32(image.height), &width, &height,
                                   Float(size.cellWidth) / Float(size.cellHeight), 1, 0)
        guard let config = chafa_canvas_config_new() else { return nil }
        defer { chafa_canvas_config_unref(config) }
        chafa_canvas_config_set_geometry(config, max(1, width), max(1, height))
        chafa_canvas_config_set_cell_geometry(config, Int32(size.cellWidth), Int32(size.cellHeight))
        chafa_canvas_config_set_canvas_mode(config, CHAFA_CANVAS_MODE_TRUECOLOR)
        chafa_canvas_config_set_pixel_mode(config, pixelMode)
        if mode == .blocks, let symbols = chafa_symbol_map_new() {
            chafa_symbol_map_add_by_tags(symbols, ChafaSymbolTags(CHAFA_SYMBOL_TAG_BLOCK.rawValue | CHAFA_SYMBOL_TAG_SPACE.rawValue))
            chafa_canvas_config_set_symbol_map(config, symbols)
            chafa_symbol_map_unref(symbols)
        }
        guard let canvas = chafa_canvas_new(config) else { return nil }
        defer { chafa_canvas_unref(canvas) }
        rgba.withUnsafeBufferPointer {
            chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGBA8_UNASSOCIATED, $0.baseAddress,
                                         Int32(image.width), Int32(image.height), Int32(image.width * 4))
        }
        // The fallback terminal description has every protocol's sequences; `mode` picks one.
        guard let info = chafa_term_db_get_fallback_info(chafa_term_db_get_default()) else { return nil }
        defer { chafa_term_info_unref(info) }
        guard let printed = chafa_canvas_print(canvas, info) else { return nil }
        defer { g_string_free(printed, 1) }
        let text = String(cString: printed.pointee.str)
        return text.hasSuffix("\n") ? text : text + "\n"
    }

    /// 8-bit RGBA, whatever the PNG's channels.
    static func rgbaPixels(_ image: PNGImage) -> [UInt8] {
        var out = [UInt8](repeating: 255, count: image.width * image.height * 4)
        let c = image.channels
        for i in 0..<(image.width * image.height) {
            let s = image.samples, base = i * c
            switch c {
            case 1, 2:
                out[i * 4] = s[base]; out[i * 4 + 1] = s[base]; out[i * 4 + 2] = s[base]
                if c == 2 { out[i * 4 + 3] = s[base + 1] }
            default:
                out[i * 4] = s[base]; out[i * 4 + 1] = s[base + 1]; out[i * 4 + 2] = s[base + 2]
                if c == 4 { out[i * 4 + 3] = s[base + 3] }
            }
        }
        return out
    }

    /// The window in cells, and a cell's size in pixels (10×20 when the terminal does not say).
    static func terminalSize() -> (columns: Int, rows: Int, cellWidth: Int, cellHeight: Int) {
        var w = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0, w.ws_row > 0 else { return (80, 24, 10, 20) }
        let cw = w.ws_xpixel > 0 ? Int(w.ws_xpixel) / Int(w.ws_col) : 10
        let ch = w.ws_ypixel > 0 ? Int(w.ws_ypixel) / Int(w.ws_row) : 20
        return (Int(w.ws_col), Int(w.ws_row), max(cw, 1), max(ch, 1))
    }
}
