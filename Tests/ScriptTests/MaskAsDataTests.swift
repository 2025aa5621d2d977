import Foundation
import Testing
import TensorGraph
import Transfusion
@testable import Script
@testable import ScriptLibrary

/// The masks scripts use are data: every mask the examples write, and every primitive and
/// combinator, reads back from its text without the language, round-trips through a checkpoint,
/// and its plain JSON — decoded here with JSONSerialization and evaluated by a naive evaluator
/// written from docs/architecture.md — gives tfs's dense matrix on several layouts.
@Suite struct MaskAsDataTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The mask names and calls of the language: what a mask expression is made of.
    static let maskNames: Set<String> = ["causal", "bidirectional", "nothing", "same_image", "same_document",
                                         "text_to_text", "text_to_image", "image_to_text", "image_to_image"]

    /// Whether `e` is mask algebra alone: mask names, | & ~, and prefix/window/document of literals.
    static func isMaskAlgebra(_ e: Expr) -> Bool {
        switch e.kind {
        case .name(let n): return maskNames.contains(n)
        case .binary(let op, let a, let b): return (op == .bitOr || op == .bitAnd) && isMaskAlgebra(a) && isMaskAlgebra(b)
        case .unary(.invert, let a): return isMaskAlgebra(a)
        case .call(let callee, let arguments):
            guard case .name(let f) = callee.kind, ["prefix", "window", "document"].contains(f) else { return false }
            return arguments.allSatisfy {
                switch $0.value.kind {
                case .int: return true
                case .list(let items): return items.allSatisfy { if case .int = $0.kind { true } else { false } }
                default: return false
                }
            }
        default: return false
        }
    }

    /// The largest mask-algebra expressions inside `e` (the masks a script writes).
    static func masks(in e: Expr) -> [Expr] {
        if isMaskAlgebra(e) { return [e] }
        switch e.kind {
        case .call(let callee, let arguments): return masks(in: callee) + arguments.flatMap { masks(in: $0.value) }
        case .member(let object, _, _): return masks(in: object)
        case .binary(_, let a, let b), .logical(_, let a, let b): return masks(in: a) + masks(in: b)
        case .unary(_, let a): return masks(in: a)
        case .list(let items), .tuple(let items): return items.flatMap(masks)
        case .index(let object, let subscripts): return masks(in: object) + subscripts.flatMap(masks)
        default: return []
        }
    }

    static func masks(in statements: [Stmt]) -> [Expr] {
        statements.flatMap { s -> [Expr] in
            switch s.kind {
            case .expression(let e): return masks(in: e)
            case .assign(_, let value), .augmentedAssign(_, _, let value): return masks(in: value)
            case .if(let branches, let orElse): return branches.flatMap { masks(in: $0.condition) + masks(in: $0.body) } + masks(in: orElse ?? [])
            case .for(_, let iterable, let body): return masks(in: iterable) + masks(in: body)
            case .while(let condition, let body): return masks(in: condition) + masks(in: body)
            case .def(let f): return masks(in: f.body)
            default: return []
            }
        }
    }

    /// Every mask expression of examples/*.tfs and examples/experiments/*.tfs: those in the code,
    /// and the values of a `--grid "mask=…"` in a comment (how the mask experiment is swept).
    static func exampleMasks() throws -> [(file: String, text: String)] {
        var found: [(String, String)] = []
        for folder in ["examples", "examples/experiments"] {
            let dir = root.appendingPathComponent(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where name.hasSuffix(".tfs") {
                let source = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
                let lines = source.components(separatedBy: "\n")
                let sink = DiagnosticSink()
                for e in masks(in: Parser.parse(source, file: name, sink: sink)) {
                    found.append(("\(folder)/\(name)", text(of: e.span, in: lines)))
                }
                #expect(sink.diagnostics.isEmpty, "\(name): \(sink.diagnostics.map(\.message))")
                for grid in source.components(separatedBy: "--grid \"mask=").dropFirst() {
                    let values = grid.prefix { $0 != "\"" }
                    found += values.split(separator: ",").map { ("\(folder)/\(name)", $0.trimmingCharacters(in: .whitespaces)) }
                }
            }
        }
        return found
    }

    /// The source text of a one-line span, with the parentheses its operands' spans leave out
    /// (`(a | b) & c` spans from `a`): widened until they balance.
    static func text(of span: SourceSpan, in lines: [String]) -> String {
        let line = Array(lines[span.line - 1])
        var start = span.column - 1, end = start + span.length
        func count(_ c: Character) -> Int { line[start..<end].filter { $0 == c }.count }
        while count(")") > count("("), start > 0, line[start - 1] == "(" { start -= 1 }
        while count("(") > count(")"), end < line.count, line[end] == ")" { end += 1 }
        return String(line[start..<end])
    }

    /// One mask of every kind and combinator, and masks that nest them.
    static let everyKind: [Mask] = [
        .causal, .full, .none, .sameImage, .sameDocument, .prefix(3), .window(2), .documents([0, 0, 1, 1, 1, 2]),
        .documents([0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]),
        .modality(query: .text, key: .text), .modality(query: .text, key: .image),
        .modality(query: .image, key: .text), .modality(query: .image, key: .image),
        .causal | .sameImage, .causal & .window(3), ~Mask.sameImage, (.causal | .sameImage) & .sameDocument,
        (.causal | .prefix(4)) & ~(.modality(query: .image, key: .text) & ~.sameImage),
        ~(Mask.causal | .window(2)) | (.sameDocument & .modality(query: .text, key: .image)),
        .or(.causal, .full), .and(.none, .not(.not(.causal))),   // unsimplified trees keep their shape in JSON
    ]

    /// Layouts with text, images back to back, documents and padding.
    static func layouts() throws -> [SequenceLayout] {
        try ["text:5 image:2x2 text:3", "text:3 image:4 / text:2 image:3 pad:2", "image:9 text:4 image:4",
             "text:7", "image:3 / image:2x2 text:1 / text:6 image:2"].map(SequenceLayout.init(parsing:))
    }

    // MARK: - a reader that knows only the documented JSON

    /// A layout as a reader outside tfs holds it: per position its kind, image and document.
    struct PlainLayout {
        var kind: [String] = [], image: [Int?] = [], document: [Int] = []
        init(_ l: SequenceLayout) {
            for i in 0..<l.count { kind.append(l[i].kind.rawValue); image.append(l[i].image); document.append(l[i].document) }
        }
    }

    /// The evaluation rule of each kind as docs/architecture.md states it, over decoded JSON.
    static func naiveAllows(_ mask: Any, _ q: Int, _ k: Int, _ l: PlainLayout) -> Bool {
        let object = mask as! [String: Any]
        let (kind, body) = object.first!
        let fields = body as? [String: Any] ?? [:]
        func side(_ i: Int) -> String { l.kind[i] == "patch" ? "image" : "text" }
        switch kind {
        case "causal": return k <= q
        case "bidirectional": return true
        case "nothing": return false
        case "same_image": return l.kind[q] == "patch" && l.kind[k] == "patch" && l.image[q] == l.image[k]
        case "same_document": return l.document[q] == l.document[k]
        case "prefix": return k < fields["n"] as! Int
        case "window": return abs(q - k) < fields["n"] as! Int
        case "document":
            let ids = fields["ids"] as! [Int]
            return q < ids.count && k < ids.count && ids[q] == ids[k]
        case "modality": return side(q) == fields["query"] as! String && side(k) == fields["key"] as! String
        case "and": return (body as! [Any]).allSatisfy { naiveAllows($0, q, k, l) }
        case "or": return (body as! [Any]).contains { naiveAllows($0, q, k, l) }
        case "not": return !naiveAllows(body, q, k, l)
        default: Issue.record("unknown kind \(kind)"); return false
        }
    }

    /// The mask's JSON decoded as plain JSON and evaluated naively equals tfs's dense matrix.
    static func expectPlainJSONReading(_ mask: Mask, _ layouts: [SequenceLayout]) throws {
        let plain = try JSONSerialization.jsonObject(with: Data(mask.json.utf8))
        for layout in layouts {
            let dense = MaskMatrix(mask, layout), l = PlainLayout(layout)
            var differ = 0
            for q in 0..<layout.count { for k in 0..<layout.count where dense[q, k] != naiveAllows(plain, q, k, l) { differ += 1 } }
            #expect(differ == 0, "\(mask) on \(layout): \(differ) entries differ")
        }
    }

    // MARK: - tests

    @Test func theExamplesMasksAreFound() throws {
        let found = try Self.exampleMasks()
        let texts = Set(found.map(\.text))
        // What the examples write today (a new example's masks join the checks below by themselves).
        for expected in ["causal", "causal | same_image", "causal | prefix(6)", "(causal | same_image) & same_document"] {
            #expect(texts.contains(expected), "\(expected) not found in \(texts.sorted())")
        }
        #expect(Set(found.map(\.file)).isSuperset(of: ["examples/masks.tfs", "examples/shapes.tfs", "examples/experiments/mask.tfs"]))
    }

    /// The mask the language makes of this text, in a fresh session.
    static func languageMask(_ text: String) throws -> Mask? {
        guard let e = Parser.parseExpression(text, sink: DiagnosticSink()),
              case .object(let o) = try Session(registry: .tfs).interpreter.evaluate(e), let value = o as? MaskValue else { return nil }
        return value.mask
    }

    @Test func everyExampleMaskReadsBackWithoutTheLanguageAndAsPlainJSON() throws {
        let layouts = try Self.layouts()
        for (file, text) in try Self.exampleMasks() {
            guard let mask = try Self.languageMask(text) else { Issue.record("\(file): '\(text)' is not a mask"); continue }
            #expect(try Mask(parsing: text) == mask, "\(file): \(text)")
            #expect(try Mask(parsing: mask.description) == mask, "\(file): \(text)")
            #expect(try Mask(json: mask.json) == mask, "\(file): \(text)")
            // As training uses it: within each packed example.
            try Self.expectPlainJSONReading(mask, layouts)
            try Self.expectPlainJSONReading(mask & .sameDocument, layouts)
        }
    }

    @Test func everyKindRoundTripsThroughJSONAndText() throws {
        let layouts = try Self.layouts()
        for mask in Self.everyKind {
            #expect(try Mask(json: mask.json) == mask, "\(mask.json)")
            let plain = try JSONSerialization.jsonObject(with: Data(mask.json.utf8))
            #expect(JSONSerialization.isValidJSONObject(plain))
            try Self.expectPlainJSONReading(mask, layouts)
            // The text reads back as the language reads it (simplified), where it prints in full.
            if case .documents(let ids) = mask, ids.count > 8 { continue }
            #expect(try Mask(parsing: mask.description) == mask.simplified, "\(mask)")
        }
        #expect(Mask.transfusion.json == #"{"or":[{"causal":{}},{"same_image":{}}]}"#)
        #expect(Mask.prefix(4).json == #"{"prefix":{"n":4}}"#)
        #expect(Mask.modality(query: .image, key: .text).json == #"{"modality":{"key":"text","query":"image"}}"#)
        // Readers may write and/or with more than two parts: folded from the left.
        #expect(try Mask(json: #"{"or": [{"causal": {}}, {"same_image": {}}, {"window": {"n": 2}}]}"#) == .or(.or(.causal, .sameImage), .window(2)))
    }

    /// The language's meaning and the Transfusion reader agree on every kind's text.
    @Test func theTextReaderMeansWhatTheLanguageMeans() throws {
        let texts = Self.everyKind.map(\.description).filter { !$0.contains("…") } + [
            "causal | causal", "~~causal", "causal & bidirectional", "nothing | same_image", "( causal|prefix( 2 ) )&~same_image",
            "document([])", "document([3, -1, 3])", "causal | window(2) & same_image", "~causal & causal | nothing",
        ]
        for text in texts {
            guard let mask = try Self.languageMask(text) else { Issue.record("'\(text)' is not a mask"); continue }
            #expect(try Mask(parsing: text) == mask, "\(text)")
        }
    }

    @Test func everyMaskRoundTripsThroughACheckpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tfs-mask-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let examples = try Self.exampleMasks().map { try Mask(parsing: $0.text) }
        var options = Trainer.Options()
        options.batch = 1; options.length = 64; options.steps = 1
        for (i, mask) in (examples + Self.everyKind).enumerated() {
            let path = dir.appendingPathComponent("m\(i).safetensors").path
            let model = TransfusionModel(ModelConfig(dim: 16, layers: 1, heads: 2, patchSize: 48, timeFeatures: 16), mask: mask)
            try Trainer(model: model, data: Shapes(side: 16), options: options).save(path)
            #expect(try Safetensors.read(path: path).metadata["mask"] == mask.json)
            #expect(try TransfusionModel.savedMask(path) == mask, "\(mask)")
        }
        // The language reads it back too (load_model), as a model whose training mask adds same_document.
        let path = dir.appendingPathComponent("m1.safetensors").path
        #expect(evalScript("load_model('\(path)').mask_expression") == (examples[1] & .sameDocument).description)
    }
}
