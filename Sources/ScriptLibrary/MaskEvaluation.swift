import Script
import Foundation
import TensorGraph
import Transfusion
import Visual

/// A mask expression from outside a script (`tfs mask LAYOUT --mask "causal | same_image"`),
/// evaluated by the language itself so the command accepts exactly what scripts accept.
public enum MaskExpression {
    /// The mask evaluated for the layout, or the rendered error.
    public static func evaluate(_ expression: String, layout spec: String) -> Result<MaskMatrix, RenderedError> {
        let layout: SequenceLayout
        do { layout = try SequenceLayout(parsing: spec) } catch {
            return .failure(RenderedError(text: "tfs mask: \(error)"))
        }
        let session = Session(registry: .tfs)
        // The expression runs as written, so an error shows the user's own text under its caret.
        let result = session.run(source: expression, file: "--mask", line: 1)
        if result.failure != nil {
            let text = result.outputs.compactMap { if case .error(let e) = $0 { e } else { nil } }.joined(separator: "\n")
            return .failure(RenderedError(text: text))
        }
        guard case .object(let o)? = session.lastValue, let mask = o as? MaskValue else {
            return .failure(RenderedError(text: "tfs mask: '\(expression)' is not a mask (try causal | same_image)"))
        }
        return .success(MaskMatrix(mask.mask, layout))
    }

    public struct RenderedError: Error, CustomStringConvertible {
        public let text: String
        public var description: String { text }
    }

    /// Writes the matrix as .png, .svg or .safetensors (a U8 tensor named `mask`, 1 = may attend;
    /// metadata `mask`, the mask's JSON encoding, and `layout`, the layout's text).
    public static func write(_ m: MaskMatrix, to path: String) throws {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        switch ext {
        case "png": try MaskPicture(m).png().write(to: URL(fileURLWithPath: path), options: .atomic)
        case "svg": try MaskPicture(m).svg().write(toFile: path, atomically: true, encoding: .utf8)
        case "safetensors":
            let entry = try Safetensors.Entry(name: "mask", shape: [m.count, m.count], uint8: m.allowed.map { $0 ? 1 : 0 })
            try Safetensors.write(entries: [entry], metadata: ["mask": m.mask.json, "layout": m.layout.description], to: path)
        default:
            throw TensorGraphError("tfs mask: cannot write '.\(ext)' files; use .png, .svg or .safetensors")
        }
    }
}
