import Foundation
import TensorGraph

/// A realized tensor as text, NumPy/PyTorch style: nested brackets, one row per line,
/// numbers aligned in columns with a shared format. Tensors of more than 1000 values show
/// only the first and last three entries of each long axis around "...".
func formatTensor(_ data: TensorData) -> String {
    // An empty tensor shows its shape only, as PyTorch does: its axes may be long even though
    // it holds nothing (zeros([0]).reshape([2**32, 0])), so none is walked.
    if data.count == 0 && data.rank > 0 { return data.rank == 1 ? "tensor([])" : "tensor([], shape=\(Shape.describe(data.shape)))" }
    let summarize = data.count > 1000
    let shown = summarize ? shownValues(data) : data.values
    let format = numberFormat(shown)
    let width = shown.map { format($0).count }.max() ?? 0
    let strides = Shape.strides(data.shape)
    let prefix = "tensor("

    func cell(_ v: Float) -> String {
        let s = format(v)
        return String(repeating: " ", count: width - s.count) + s
    }
    func positions(_ n: Int) -> [Int?] {
        summarize && n > 6 ? [0, 1, 2, nil, n - 3, n - 2, n - 1] : (0..<n).map { $0 }
    }
    func block(_ offset: Int, _ dim: Int) -> String {
        if dim == data.rank { return cell(data.values[offset]) }
        let parts = positions(data.shape[dim]).map { i in
            i.map { block(offset + $0 * strides[dim], dim + 1) } ?? "..."
        }
        if dim == data.rank - 1 { return "[" + parts.joined(separator: ", ") + "]" }
        let gap = String(repeating: "\n", count: data.rank - dim - 1)
        let indent = String(repeating: " ", count: prefix.count + dim + 1)
        return "[" + parts.joined(separator: "," + gap + indent) + "]"
    }

    var text = prefix + block(0, 0)
    if data.rank >= 2 || summarize { text += ", shape=\(Shape.describe(data.shape))" }
    return text + ")"
}

/// The values a summarized print shows (to choose a format that fits them).
private func shownValues(_ data: TensorData) -> [Float] {
    var out: [Float] = []
    let strides = Shape.strides(data.shape)
    func walk(_ offset: Int, _ dim: Int) {
        if dim == data.rank { out.append(data.values[offset]); return }
        let n = data.shape[dim]
        let picks = n > 6 ? [0, 1, 2, n - 3, n - 2, n - 1] : Array(0..<n)
        for i in picks { walk(offset + i * strides[dim], dim + 1) }
    }
    walk(0, 0)
    return out
}

/// NumPy's choice: whole numbers print as `3.`, moderate values with 4 decimals, very large
/// or very small ones in scientific notation.
private func numberFormat(_ values: [Float]) -> (Float) -> String {
    let finite = values.filter(\.isFinite)
    func special(_ v: Float) -> String? { v.isNaN ? "nan" : (v.isInfinite ? (v < 0 ? "-inf" : "inf") : nil) }
    if finite.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e8 }) {
        return { special($0) ?? String(format: "%.0f.", $0) }
    }
    let large = finite.map(abs).max() ?? 0
    let small = finite.map(abs).filter { $0 > 0 }.min() ?? 1
    if large >= 1e6 || small < 1e-4 {
        return { special($0) ?? String(format: "%.4e", $0) }
    }
    return { special($0) ?? String(format: "%.4f", $0) }
}
