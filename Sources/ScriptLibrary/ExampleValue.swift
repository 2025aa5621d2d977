import Script
import TensorGraph
import Transfusion
import Visual

/// One item of a dataset, of examples or of drawn images: its text (the caption, or an edit's
/// instruction), its image and, from an image folder, its other metadata fields, which read as
/// attributes (`ex.label`, `ex.font`).
final class ExampleValue: DynamicMembers {
    let example: Example
    let side: Int?
    /// 1 for a gray image (saved as a gray PNG), else 3.
    let channels: Int
    init(_ example: Example, side: Int?, channels: Int = 3) { self.example = example; self.side = side; self.channels = channels }

    static let type: ValueType = {
        let m = Members<ExampleValue>("example")
        let folder = "glyph = images(\"/tmp/tfs-one\", size=16)[0]\n"
        let setup = "shapes(size=16).take(2).save(\"/tmp/tfs-one/\")\n"
        return ValueType("example", help: "One item of a dataset, of take(n)'s examples or of drawn images: its text, its image and its metadata fields (ex.label), each an attribute.", fields: [
            m.field("text", "The caption (an edit's instruction, a text's text).") { .string($0.example.item.text) },
            m.field("image", "The image as a [side, side, 3] tensor in [0, 1] (an edit's edited image; None for a text).") { e in
                tensor(e.example.item.pixels, side: e.side)
            },
            m.field("source", "An edit's source image as a [side, side, 3] tensor (None unless an edit).") { e in
                if case .edit(let source, _, _) = e.example.item { return tensor(source, side: e.side) }
                return .none
            },
            m.field("fields", "Its metadata fields beyond the image and text (an image folder's label, font, …), a dict.") { e in
                .dict(DictRef(e.example.fields.map { ($0.name, value($0.value)) }))
            },
        ], methods: [
            ImageSaving.method(m, example: setup + folder + "glyph.save(\"/tmp/tfs-one.png\")") { ([$0.example], $0.side, $0.channels) },
        ])
    }()

    func dynamicMember(_ name: String) -> Value? { example.fields.first { $0.name == name }.map { Self.value($0.value) } }
    var dynamicMemberNames: [String] { example.fields.map(\.name) }

    var description: String {
        let fields = example.fields.map { "\($0.name)=\(Self.text($0.value))" }
        return "example(\(example.item.text.debugDescription)\(fields.isEmpty ? "" : ", " + fields.joined(separator: ", ")))"
    }

    func output() throws -> Output? {
        guard let side, let pixels = example.item.pixels else { return .text(example.item.text) }
        if case .edit(let source, let instruction, let target) = example.item {
            return .png(ImageGrid.png([source, target], side: side), caption: instruction)
        }
        return .png(ImageGrid.png([pixels], side: side), caption: example.item.text)
    }

    static func tensor(_ pixels: [Float]?, side: Int?) -> Value {
        guard let pixels, let side else { return .none }
        return .tensor(.constant(TensorData(shape: [side, side, 3], values: pixels)))
    }

    static func value(_ v: MetadataValue) -> Value {
        switch v { case .string(let s): .string(s); case .int(let i): .int(i); case .double(let d): .float(d); case .bool(let b): .bool(b) }
    }

    private static func text(_ v: MetadataValue) -> String {
        switch v { case .string(let s): s.debugDescription; case .int(let i): "\(i)"; case .double(let d): "\(d)"; case .bool(let b): b ? "True" : "False" }
    }
}
