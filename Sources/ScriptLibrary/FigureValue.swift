import Script

/// What `plot`, `imshow` and `heatmap` return: the picture they showed as they were called,
/// kept (`p = plot(...)`) to show again (`show(p)`, or a cell ending in `p`).
final class FigureValue: ScriptObject {
    let picture: Output
    let title: String

    init(_ picture: Output, title: String) { self.picture = picture; self.title = title }

    static let type = ValueType("figure", help: "A picture made by plot, imshow or heatmap: shows itself.", fields: [
        Members<FigureValue>("figure").field("title", "Its title (its caption).") { .string($0.title) },
    ])

    var description: String { "figure '\(title)'" }
    func output() throws -> Output? { picture }

    /// Shows `picture` where the call is and returns it as a figure.
    static func show(_ picture: Output, title: String, _ a: Arguments) throws -> Value {
        a.interpreter.emit(picture)
        return .object(FigureValue(picture, title: title))
    }
}
