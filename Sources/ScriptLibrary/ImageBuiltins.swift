import Script
import TensorGraph
import Visual

/// Any tensor as a picture: `imshow` (an image as it is, or a heatmap of a matrix) and
/// `heatmap` (always a heatmap) — attention weights, a mask, noised latents, a weight matrix.
enum ImageBuiltins {
    static let all: [Builtin] = [
        Builtin("imshow", "x, title=None",
                help: "Shows a tensor as a picture and returns it: [H, W, 3] values in [0, 1] as an RGB image, [H, W] as a heatmap (dark blue lowest, yellow highest). Computes the tensor.",
                example: "imshow(arange(12).reshape(3, 4), title=\"ramp\")") { a in
            let data = try a.tensor("x").realize()
            if data.rank == 3 && data.shape[2] == 3 {
                let title = try a.optionalString("title") ?? "image \(Shape.describe(data.shape))"
                return try FigureValue.show(.png(Heatmap.rgb(data), caption: title), title: title, a)
            }
            return try heatmap(data, a)
        },
        Builtin("heatmap", "x, title=None",
                help: "Shows a matrix ([H, W], or any tensor with one row per leading index) as a heatmap with its value range in the caption, and returns it. Computes the tensor.",
                example: "heatmap(softmax(randn(4, 4)), title=\"weights\")") { a in
            try heatmap(try a.tensor("x").realize(), a)
        },
    ]

    private static func heatmap(_ data: TensorData, _ a: Arguments) throws -> Value {
        guard data.count > 0 else { throw a.error("x", "the tensor is empty") }
        // A vector is one row; higher ranks stack their leading axes into rows.
        let width = data.rank == 0 ? 1 : data.shape[data.rank - 1], height = data.count / width
        let low = data.values.filter(\.isFinite).min() ?? 0, high = data.values.filter(\.isFinite).max() ?? 0
        let range = "\(Shape.describe(data.shape)), from \(format(low)) to \(format(high))"
        let title = try a.optionalString("title").map { "\($0) · \(range)" } ?? range
        let png = Heatmap.png(data.values, width: width, height: height, low: low, high: high)
        return try FigureValue.show(.png(png, caption: title), title: title, a)
    }

    private static func format(_ v: Float) -> String { String(format: abs(v) >= 1e4 || (abs(v) < 1e-3 && v != 0) ? "%.3g" : "%.4g", v) }
}
