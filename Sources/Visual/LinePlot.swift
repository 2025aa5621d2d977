import Foundation

/// A line plot as SVG, drawn the way matplotlib draws one by default: a framed axes box with
/// outward tick marks at round values, tick labels, axis titles, a centred title and a framed
/// legend of line samples (for more than one series) in the corner where it hides the fewest points. Series are values
/// against the step (index `i` is step `firstStep + i`; NaN where a series has no value). A
/// series measured only at some steps (held-out losses) is drawn as markers joined by a dashed
/// line. The value axis is logarithmic when asked, or on its own when the positive values span
/// more than `autoLogDecades` decades (losses that fall from 10 to 0.1).
public enum LinePlot {
    public static let autoLogDecades = 1.5
    static let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]

    public static func svg(_ series: [(name: String, values: [Double])], title: String, xLabel: String = "step",
                           yLabel: String? = nil, firstStep: Int = 0, log: Bool? = nil,
                           width: Int = 560, height: Int = 340) -> String {
        let finite = series.flatMap(\.values).filter(\.isFinite)
        let n = series.map(\.values.count).max() ?? 0
        let fontSize = 11.0
        var c = SVGCanvas(fontFamily: "DejaVu Sans, sans-serif", fontSize: fontSize)
        guard let lo = finite.min(), let hi = finite.max(), n > 0 else {
            c.text(title, x: 6, y: 18, size: 13)
            c.text("no values", x: 6, y: 40)
            return c.svg()
        }
        let logScale = log ?? (lo > 0 && hi / lo > pow(10, autoLogDecades))
        if logScale && lo <= 0 { return errorPicture(title, "a log scale needs positive values (the smallest is \(label(lo)))") }
        let yAxis = logScale ? Axis.logarithmic(lo, hi) : Axis.linear(lo, hi)
        let xAxis = Axis.linear(Double(firstStep), Double(firstStep + max(n - 1, 1)), tight: true)
        let yLabels = yAxis.ticks.map { yAxis.label($0) }
        let yLabelWidth = yLabels.map { SVGCanvas.textWidth($0, size: fontSize) }.max() ?? 0
        let left = 8 + (yLabel == nil ? 0 : 1.2 * fontSize + 4) + yLabelWidth + 8, right = 16.0
        let top = 32.0, bottom = 24 + 1.2 * fontSize + 4
        let w = Double(width) - left - right, h = Double(height) - top - bottom
        func px(_ step: Double) -> Double { left + w * xAxis.fraction(step) }
        func py(_ v: Double) -> Double { top + h * (1 - yAxis.fraction(v)) }

        // The title, centred over the axes unless it is wider than they are.
        let titleWidth = SVGCanvas.textWidth(title, size: 13)
        if titleWidth <= w { c.text(title, x: left + w / 2, y: 20, size: 13, anchor: .middle) } else { c.text(title, x: 6, y: 20, size: 13) }
        // The axes box, ticks outward with their labels, the axis titles.
        c.rect(x: left, y: top, width: w, height: h, fill: "none", extra: ##"stroke="#000000" stroke-width="0.8""##)
        var ticks = ""
        for (t, text) in zip(yAxis.ticks, yLabels) {
            ticks += "M\(SVGCanvas.number(left)),\(SVGCanvas.number(py(t)))h-4"
            c.text(text, x: left - 7, y: py(t) + 0.35 * fontSize, anchor: .end)
        }
        for t in xAxis.ticks {
            ticks += "M\(SVGCanvas.number(px(t))),\(SVGCanvas.number(top + h))v4"
            c.text(xAxis.label(t), x: px(t), y: top + h + 7 + 0.8 * fontSize, anchor: .middle)
        }
        c.raw(##"<path d="\##(ticks)" stroke="#000000" stroke-width="0.8"/>"##, right: left + w, bottom: top + h + 4)
        c.text(xLabel, x: left + w / 2, y: top + h + 24 + fontSize, anchor: .middle)
        if let yLabel { c.verticalText(yLabel, x: 8 + 0.8 * fontSize, y: top + h / 2) }

        // The series, clipped to the axes box.
        c.raw(##"<clipPath id="axes"><rect x="\##(SVGCanvas.number(left))" y="\##(SVGCanvas.number(top))" width="\##(SVGCanvas.number(w))" height="\##(SVGCanvas.number(h))"/></clipPath>"##, right: 0, bottom: 0)
        var points: [(Double, Double)] = []
        for (k, s) in series.enumerated() {
            let colour = colours[k % colours.count]
            let xy = s.values.enumerated().filter { $0.element.isFinite }.map { (px(Double(firstStep + $0.offset)), py($0.element)) }
            points += xy
            let line = xy.map { "\(SVGCanvas.number($0.0)),\(SVGCanvas.number($0.1))" }.joined(separator: " ")
            if measuredAtSomeSteps(s.values) {
                c.raw(#"<polyline points="\#(line)" fill="none" stroke="\#(colour)" stroke-width="1" stroke-dasharray="4 3" clip-path="url(#axes)"/>"#, right: 0, bottom: 0)
                for (x, y) in xy { c.raw(#"<circle cx="\#(SVGCanvas.number(x))" cy="\#(SVGCanvas.number(y))" r="3.5" fill="\#(colour)" stroke="white" stroke-width="0.8"/>"#, right: 0, bottom: 0) }
            } else {
                c.raw(#"<polyline points="\#(line)" fill="none" stroke="\#(colour)" stroke-width="1.5" stroke-linejoin="round" clip-path="url(#axes)"/>"#, right: 0, bottom: 0)
            }
        }
        legend(series, into: &c, box: (left, top, w, h), avoiding: points)
        return c.svg(minWidth: Double(width), minHeight: Double(height))
    }

    /// Whether a series has gaps between its values: measured at some steps only.
    static func measuredAtSomeSteps(_ values: [Double]) -> Bool {
        guard let first = values.firstIndex(where: \.isFinite), let last = values.lastIndex(where: \.isFinite) else { return false }
        return values[first...last].contains { !$0.isFinite }
    }

    /// The framed legend in the corner of the axes covering the fewest points.
    private static func legend(_ series: [(name: String, values: [Double])], into c: inout SVGCanvas,
                               box: (x: Double, y: Double, w: Double, h: Double), avoiding points: [(Double, Double)]) {
        guard series.count > 1 else { return }  // one line needs no legend (the title names it)
        let size = c.fontSize, line = 1.45 * size, sample = 22.0
        let textWidth = series.map { SVGCanvas.textWidth($0.name, size: size) }.max() ?? 0
        let lw = 8 + sample + 6 + textWidth + 8, lh = Double(series.count) * line + 8
        let corners = [(box.x + box.w - lw - 8, box.y + 8), (box.x + box.w - lw - 8, box.y + box.h - lh - 8),
                       (box.x + 8, box.y + 8), (box.x + 8, box.y + box.h - lh - 8)]
        let (x, y) = corners.min { a, b in
            func covered(_ o: (Double, Double)) -> Int { points.filter { $0.0 >= o.0 && $0.0 <= o.0 + lw && $0.1 >= o.1 && $0.1 <= o.1 + lh }.count }
            return covered(a) < covered(b)
        }!
        c.rect(x: x, y: y, width: lw, height: lh, fill: "white", extra: ##"fill-opacity="0.85" stroke="#cccccc" rx="3""##)
        for (k, s) in series.enumerated() {
            let colour = colours[k % colours.count], baseline = y + 4 + Double(k) * line + 0.8 * size + 1
            let mid = baseline - 0.3 * size
            if measuredAtSomeSteps(s.values) {
                c.raw(#"<path d="M\#(SVGCanvas.number(x + 8)),\#(SVGCanvas.number(mid))h\#(sample)" stroke="\#(colour)" stroke-dasharray="4 3"/><circle cx="\#(SVGCanvas.number(x + 8 + sample / 2))" cy="\#(SVGCanvas.number(mid))" r="3.5" fill="\#(colour)"/>"#, right: 0, bottom: 0)
            } else {
                c.raw(#"<path d="M\#(SVGCanvas.number(x + 8)),\#(SVGCanvas.number(mid))h\#(sample)" stroke="\#(colour)" stroke-width="1.5"/>"#, right: 0, bottom: 0)
            }
            c.text(s.name, x: x + 8 + sample + 6, y: baseline)
        }
    }

    private static func errorPicture(_ title: String, _ message: String) -> String {
        var c = SVGCanvas(fontFamily: "DejaVu Sans, sans-serif", fontSize: 11)
        c.text(title, x: 6, y: 18, size: 13)
        c.text(message, x: 6, y: 40)
        return c.svg()
    }

    static func label(_ v: Double) -> String { Axis.format(v) }
}

/// A plot axis: its range, where a value falls on it (0…1) and its tick values at round numbers.
struct Axis {
    var low: Double, high: Double, log: Bool
    var ticks: [Double]

    func fraction(_ v: Double) -> Double {
        log ? (Foundation.log10(v) - Foundation.log10(low)) / (Foundation.log10(high) - Foundation.log10(low))
            : (v - low) / (high - low)
    }

    /// Ticks at 1, 2 or 5 times a power of ten, about five of them; the range widened by 5 %
    /// on each side (as matplotlib's margins) unless `tight`.
    static func linear(_ lo: Double, _ hi: Double, tight: Bool = false) -> Axis {
        var lo = lo, hi = hi
        if hi <= lo { let pad = lo == 0 ? 1 : abs(lo) * 0.1; lo -= pad; hi += pad }
        if !tight { let pad = (hi - lo) * 0.05; lo -= pad; hi += pad }
        let step = niceStep((hi - lo) / 5)
        let ticks = stride(from: (lo / step).rounded(.up), through: (hi / step).rounded(.down), by: 1).map { $0 * step }
        return Axis(low: lo, high: hi, log: false, ticks: ticks)
    }

    /// Ticks at powers of ten when that gives four or more; otherwise also at 2× and 5× (or,
    /// within less than a decade, at every multiple), thinned to 1-2-5 when that is too many.
    static func logarithmic(_ lo: Double, _ hi: Double) -> Axis {
        var l0 = Foundation.log10(lo), l1 = Foundation.log10(hi)
        if l1 - l0 < 1e-9 { l0 -= 0.5; l1 += 0.5 }
        let pad = (l1 - l0) * 0.05
        l0 -= pad; l1 += pad
        func ticks(_ multiples: [Double]) -> [Double] {
            var out: [Double] = []
            for e in Int(l0.rounded(.down))...Int(l1.rounded(.up)) {
                for m in multiples {
                    let t = m * pow(10, Double(e)), lt = Foundation.log10(t)
                    if lt >= l0 - 1e-9 && lt <= l1 + 1e-9 { out.append(t) }
                }
            }
            return out
        }
        var chosen = ticks([1])
        if chosen.count < 4 { chosen = ticks([1, 2, 5]) }
        if chosen.count < 3 { chosen = ticks(Array(1...9).map(Double.init)) }
        return Axis(low: pow(10, l0), high: pow(10, l1), log: true, ticks: chosen)
    }

    static func niceStep(_ rough: Double) -> Double {
        let magnitude = pow(10, Foundation.log10(rough).rounded(.down)), f = rough / magnitude
        return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * magnitude
    }

    func label(_ v: Double) -> String { Self.format(v) }

    /// A tick's text: integers plainly, small and large values compactly, no trailing zeros.
    static func format(_ v: Double) -> String {
        if v == 0 { return "0" }
        if v == v.rounded() && abs(v) < 1e5 { return String(Int(v)) }
        return String(format: "%.4g", v).replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e-0", with: "e-")
            .replacingOccurrences(of: "e+", with: "e")
    }
}
