import Foundation

/// A line plot as SVG: one or more named series against the step, with axes and the range of
/// values written on them.
public enum LinePlot {
    public static func svg(_ series: [(name: String, values: [Double])], title: String, width: Int = 560, height: Int = 300) -> String {
        let finite = series.flatMap(\.values).filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), let n = series.map(\.values.count).max(), n > 0 else {
            return #"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="4" y="24">no values</text></svg>"#
        }
        let (left, right, top, bottom) = (56.0, 12.0, 28.0, 28.0)
        let w = Double(width) - left - right, h = Double(height) - top - bottom
        let span = hi > lo ? hi - lo : 1
        func x(_ i: Int) -> Double { left + w * Double(i) / Double(max(n - 1, 1)) }
        func y(_ v: Double) -> Double { top + h * (1 - (v - lo) / span) }
        let colours = ["#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363"]
        var s = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(width)" height="\#(height)" font-family="sans-serif" font-size="11">"#
        s += #"<rect width="100%" height="100%" fill="white"/><text x="\#(left)" y="16" font-size="13">\#(NotebookHTML.escape(title))</text>"#
        s += ##"<path d="M\##(left),\##(top) V\##(top + h) H\##(left + w)" fill="none" stroke="#999"/>"##
        s += #"<text x="\#(left - 4)" y="\#(top + 4)" text-anchor="end">\#(label(hi))</text>"#
        s += #"<text x="\#(left - 4)" y="\#(top + h)" text-anchor="end">\#(label(lo))</text>"#
        s += #"<text x="\#(left)" y="\#(top + h + 16)">0</text><text x="\#(left + w)" y="\#(top + h + 16)" text-anchor="end">\#(n - 1)</text>"#
        for (k, series) in series.enumerated() {
            let colour = colours[k % colours.count]
            let points = series.values.enumerated().filter { $0.element.isFinite }
                .map { String(format: "%.1f,%.1f", x($0.offset), y($0.element)) }.joined(separator: " ")
            s += #"<polyline points="\#(points)" fill="none" stroke="\#(colour)" stroke-width="1.5"/>"#
            s += #"<text x="\#(left + w - 4)" y="\#(top + 14 * Double(k + 1))" text-anchor="end" fill="\#(colour)">\#(NotebookHTML.escape(series.name))</text>"#
        }
        return s + "</svg>\n"
    }

    static func label(_ v: Double) -> String { abs(v) >= 100 || abs(v) < 0.01 ? String(format: "%.3g", v) : String(format: "%.3f", v) }
}
