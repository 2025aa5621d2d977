import Foundation
import TensorGraph

/// A font face glyphs are drawn in: a fontconfig family with a weight and a slant, named by
/// fontconfig's family and style ("DejaVu Sans Condensed Bold Oblique").
struct GlyphFace: Equatable {
    let family: String
    let bold: Bool, slanted: Bool

    /// The faces of the DejaVu (fonts-dejavu-core, fonts-dejavu-extra) and Liberation
    /// (fonts-liberation2) families: 33 faces, sans, serif, mono, condensed and light.
    static let all: [GlyphFace] = {
        let fourStyles = ["DejaVu Sans", "DejaVu Sans Condensed", "DejaVu Serif", "DejaVu Serif Condensed", "DejaVu Sans Mono",
                          "Liberation Sans", "Liberation Serif", "Liberation Mono"]
        return fourStyles.flatMap { family in
            [(false, false), (true, false), (false, true), (true, true)].map { GlyphFace(family: family, bold: $0.0, slanted: $0.1) }
        } + [GlyphFace(family: "DejaVu Sans Light", bold: false, slanted: false)]
    }()

    var name: String {
        let slant = family.contains("Serif") || family.hasPrefix("Liberation") ? "Italic" : "Oblique"
        let style = [bold ? "Bold" : nil, slanted ? slant : nil].compactMap { $0 }.joined(separator: " ")
        return style.isEmpty ? family : "\(family) \(style)"
    }

    /// SVG text attributes that select this face through Pango and fontconfig.
    var svgAttributes: String {
        "font-family=\"\(family)\" font-weight=\"\(bold ? "bold" : "normal")\" font-style=\"\(slanted ? "italic" : "normal")\""
    }

    /// The faces whose family starts with one of `families` (comma-separated, e.g. "DejaVu,
    /// Liberation Serif"; "all" for every face), checked against the families fontconfig
    /// knows: a missing family would otherwise be drawn silently in a fallback font.
    static func select(_ families: String, installed: Set<String>, option: String) throws -> [GlyphFace] {
        let wanted = families.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let faces = families == "all" ? all : all.filter { face in wanted.contains { face.family.hasPrefix($0) } }
        guard !faces.isEmpty else {
            throw TensorGraphError("\(option) '\(families)' matches no face; families: \(Array(Set(all.map(\.family))).sorted().joined(separator: ", "))")
        }
        let missing = Set(faces.map(\.family)).subtracting(installed).sorted()
        guard missing.isEmpty else {
            throw TensorGraphError("fontconfig knows no font \(missing.joined(separator: ", ")) (install fonts-dejavu-core fonts-dejavu-extra fonts-liberation2; `fc-list : family` lists what is there)")
        }
        return faces
    }

    /// Every family name fontconfig lists (`fc-list : family`; a font listing several names
    /// gives each).
    static func installedFamilies() throws -> Set<String> {
        let process = Process(), pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["fc-list", ":", "family"]
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw TensorGraphError("cannot run fc-list (fontconfig) to find the fonts: \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TensorGraphError("fc-list : family failed with status \(process.terminationStatus)") }
        return Set(String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } })
    }
}
