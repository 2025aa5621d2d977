import Foundation
import TensorGraph

/// f-string formatting: `{x}`, `{loss:.3f}`, `{n:>5}`, `{frac:.1%}`, `{big:,}` — the common
/// part of Python's format mini-language: [[fill]align][sign][0][width][,][.precision][type].
extension Interpreter {
    func format(_ v: Value, spec: String?) throws -> String {
        guard let spec, !spec.isEmpty else { return try str(v) }
        let f = try FormatSpec(spec)
        var value = v
        // A one-value tensor formats like the number it holds: f"{loss:.4f}".
        if case .tensor(let t) = v, t.count == 1, f.type != "s" { value = .float(Double(try t.realize().values[0])) }
        let body: String
        switch f.type {
        case nil, "s":
            if f.type == nil, value.number != nil, f.precision != nil || f.grouping {
                body = try formatNumber(value, f)
            } else {
                if f.type == "s", case .string = value {} else if f.type == "s" {
                    throw RuntimeError("format code 's' needs a string, got '\(value.typeName)'")
                }
                var s = try str(value)
                if let p = f.precision, f.type == "s" || value.number == nil { s = String(s.prefix(p)) }
                body = s
            }
        default:
            body = try formatNumber(value, f)
        }
        return f.pad(body, numeric: value.number != nil)
    }

    private func formatNumber(_ v: Value, _ f: FormatSpec) throws -> String {
        guard let x = v.number else {
            throw RuntimeError("format code '\(f.type.map(String.init) ?? "")' needs a number, got '\(v.typeName)'")
        }
        var s: String
        switch f.type {
        case "d":
            guard let i = v.integer else { throw RuntimeError("format code 'd' needs an int, got '\(v.typeName)'") }
            s = String(i.magnitude)
        case "f", "F": s = String(format: "%.\(f.precision ?? 6)f", abs(x))
        case "e", "E": s = String(format: "%.\(f.precision ?? 6)\(f.type!)", abs(x))
        case "g", "G": s = String(format: "%.\(f.precision ?? 6)\(f.type!)", abs(x))
        case "%": s = String(format: "%.\(f.precision ?? 6)f", abs(x) * 100) + "%"
        case nil:
            if let i = v.integer { s = String(i.magnitude) }
            else if let p = f.precision { s = String(format: "%.\(p)g", abs(x)) }
            else { s = formatFloat(abs(x)) }
        default:
            throw RuntimeError("unknown format code '\(f.type!)'")
        }
        if f.grouping { s = groupThousands(s) }
        let negative = x < 0 || (x == 0 && x.sign == .minus && v.integer == nil)
        let sign = negative ? "-" : (f.sign == "+" ? "+" : (f.sign == " " ? " " : ""))
        return sign + s
    }

    private func groupThousands(_ s: String) -> String {
        let digits = s.prefix { $0.isNumber }
        let rest = s.dropFirst(digits.count)
        var grouped = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { grouped.append(",") }
            grouped.append(c)
        }
        return grouped + rest
    }
}

private struct FormatSpec {
    var fill: Character = " "
    var align: Character?
    var sign: Character?
    var zero = false
    var width = 0
    var grouping = false
    var precision: Int?
    var type: Character?

    init(_ spec: String) throws {
        var chars = Array(spec)[...]
        let aligns: Set<Character> = ["<", ">", "^", "="]
        if chars.count >= 2, aligns.contains(chars[chars.startIndex + 1]) {
            fill = chars.removeFirst(); align = chars.removeFirst()
        } else if let c = chars.first, aligns.contains(c) {
            align = chars.removeFirst()
        }
        if let c = chars.first, "+- ".contains(c) { sign = chars.removeFirst() }
        if chars.first == "0" { zero = true; chars.removeFirst() }
        width = Int(String(chars.prefix { $0.isNumber })) ?? 0
        chars = chars.drop { $0.isNumber }
        if chars.first == "," { grouping = true; chars.removeFirst() }
        if chars.first == "." {
            chars.removeFirst()
            guard let p = Int(String(chars.prefix { $0.isNumber })), p <= 100 else {
                throw RuntimeError("format specifier '\(spec)' has a bad precision")
            }
            precision = p
            chars = chars.drop { $0.isNumber }
        }
        if let c = chars.first, "dfFeEgGs%".contains(c) { type = chars.removeFirst() }
        guard chars.isEmpty, width <= 1000 else { throw RuntimeError("invalid format specifier '\(spec)'") }
    }

    /// Pads to `width`: numbers right-aligned (zero-filled with `0`), text left-aligned.
    func pad(_ s: String, numeric: Bool) -> String {
        let missing = width - s.count
        guard missing > 0 else { return s }
        if zero && align == nil && numeric {
            let signed = s.first.map { "+- ".contains($0) } ?? false
            let digits = signed ? String(s.dropFirst()) : s
            return (signed ? String(s.first!) : "") + String(repeating: "0", count: missing) + digits
        }
        let fillText = { (n: Int) in String(repeating: fill, count: n) }
        switch align ?? (numeric ? ">" : "<") {
        case "<": return s + fillText(missing)
        case "^": return fillText(missing / 2) + s + fillText(missing - missing / 2)
        default: return fillText(missing) + s
        }
    }
}
