import Foundation
import Testing
@testable import Script
@testable import ScriptLibrary
import TensorGraph

/// The session services the CLI and REPL use: cells of a file, completion, help, variables.
@Suite struct SessionTests {
    static let script = """
    # %% setup
    x = 2

    # %% [markdown]
    # Some text.

    # %% double
    y = x * 2
    print(y)
    # %% broken
    z = y + 'a'
    # %% after
    print('never')
    """

    @Test func runsCellsInOrderWithWholeFileLines() throws {
        let runs = try Session(registry: .tfs).runCells(source: Self.script, file: "s.tfs")
        #expect(runs.map(\.title) == ["setup", "cell 2", "double", "broken"])
        #expect(runs[2].result.outputs == [.text("4")])
        #expect(runs[3].result.failure == .runtime)
        #expect(errorText(runs[3].result).hasPrefix("s.tfs:11:5: error: unsupported operand types for +: 'int' and 'str'\n    z = y + 'a'"))
        let all = try Session(registry: .tfs).runCells(source: Self.script, file: "s.tfs", stopOnError: false)
        #expect(all.count == 5)
        #expect(all[4].result.outputs == [.text("never")])
    }

    @Test func runsCellsThroughASelectedOne() throws {
        #expect(try Session(registry: .tfs).runCells(source: Self.script, file: "s.tfs", through: "double").count == 3)
        #expect(try Session(registry: .tfs).runCells(source: Self.script, file: "s.tfs", through: "1").count == 1)
        #expect(throws: RuntimeError.self) { try Session(registry: .tfs).runCells(source: Self.script, file: "s.tfs", through: "nope") }
    }

    @Test func completesNamesMembersAndKeywords() {
        let s = Session(registry: .tfs)
        _ = s.run(source: "weights = ones([2])\nconfig = {'a': 1}\ndef fit(model, steps=10):\n    pass")
        #expect(s.completions(for: "wei") == ["weights"])
        #expect(s.completions(for: "soft").contains("softmax"))
        #expect(s.completions(for: "print(weights.su") == ["weights.sum"])
        #expect(s.completions(for: "weights.sh") == ["weights.shape"])
        #expect(s.completions(for: "config.ke") == ["config.keys"])
        #expect(s.completions(for: "softmax(weights, ax") == ["axis="])
        #expect(s.completions(for: "fit(m, st").first == "steps=")
        #expect(s.completions(for: "weights.shape.ap") == ["weights.shape.append"])
        #expect(s.completions(for: "nothing.x") == [])
        #expect(s.completions(for: "whi") == ["while"])
    }

    @Test func helpAndGlobalsSummary() {
        let s = Session(registry: .tfs)
        _ = s.run(source: "w = param(ones([2, 3]))\nn = 5\ndef f(a, b=2, *rest, c=3):\n    pass")
        #expect(s.help("softmax") == Registry.tfs.functions["softmax"]!.helpText)
        #expect(s.help("tensor.sum")!.hasPrefix("tensor.sum(axis=None, keepdims=False)"))
        #expect(s.help("pi")!.hasPrefix("pi = 3.14159"))
        #expect(s.help("f")!.hasPrefix("f(a, b=2, *rest, c=3)"))
        #expect(s.help("nonexistent") == nil)
        #expect(s.globalsSummary().map(\.name) == ["f", "n", "w"])
        #expect(s.globalsSummary().last == .init(name: "w", type: "tensor", summary: "[2, 3] param"))
        #expect(printedText("help(softmax)") == Registry.tfs.functions["softmax"]!.helpText)
    }

    @Test func resetForgetsEverything() {
        let s = Session(registry: .tfs)
        _ = s.run(source: "x = 1\nrecord('m', 1)")
        s.reset()
        #expect(s.globalsSummary().isEmpty && s.metrics.isEmpty)
        #expect(s.run(source: "x").failure == .static_)
    }

    @Test func showUsesAnObjectsOwnOutput() {
        final class Picture: ScriptObject {
            static let type = ValueType("picture", help: "A test picture.", fields: [
                Members<Picture>("picture").field("size", "Its size.") { _ in .int(3) },
            ])
            var description: String { "<picture>" }
            func output() throws -> Output? { .svg("<svg/>", caption: "pic") }
            func binary(_ op: BinaryOperator, _ other: Value, reversed: Bool) throws -> Value? {
                op == .bitOr ? .string("combined \(reversed)") : nil
            }
        }
        let s = Session(registry: .tfs)
        s.interpreter.setGlobal("pic", .object(Picture()))
        #expect(s.run(source: "show(pic)").outputs == [.svg("<svg/>", caption: "pic")])
        #expect(s.run(source: "pic").outputs == [.svg("<svg/>", caption: "pic")])
        #expect(evalScript("[pic | 1, 1 | pic, pic.size, type(pic)]", in: s) == "['combined false', 'combined true', 3, 'picture']")
        #expect(evalScript("pic & 1", in: s) == "ERROR 70: 1:1: unsupported operand types for &: 'picture' and 'int'")
    }
}

/// Builtins document themselves: help text, generated docs and runnable examples agree.
@Suite struct BuiltinDocsTests {
    static let registry = Registry.tfs
    /// Every function and every method of every type.
    static var everything: [Builtin] { registry.allFunctions + registry.allMethods }

    @Test func helpTextMatchesTheGeneratedDocs() {
        let docs = Self.registry.docsMarkdown()
        for b in Self.everything {
            #expect(docs.contains(Registry.markdown(b)), "\(b.qualifiedName)")
            #expect(Self.registry.helpText(b.qualifiedName) == b.helpText)
            #expect(b.helpText.contains(b.help) && b.helpText.hasPrefix(b.usage))
            #expect(!b.help.isEmpty && !b.example.isEmpty)
        }
        for type in Self.registry.allTypes {
            #expect(docs.contains(Registry.markdown(type)), "\(type.name)")
            #expect(!type.help.isEmpty)
            for f in type.fields {
                #expect(!f.help.isEmpty && Self.registry.helpText(f.qualifiedName) == f.helpText, "\(f.qualifiedName)")
            }
        }
        #expect(Self.registry.allFunctions.count >= 70)
        #expect(Self.registry.allMethods.count >= 70)
    }

    /// Every type a script can meet is documented: each library object's class is in a family.
    @Test func everyTypeIsRegisteredOnce() {
        let names = Self.registry.allTypes.map(\.name)
        #expect(Set(names).count == names.count)
        for name in ["tensor", "str", "list", "tuple", "dict", "mask", "layout", "mask_matrix", "model", "run", "images",
                     "dataset", "shapes", "examples", "tokenizer", "vae", "classifier", "codebook", "sweep"] {
            #expect(Self.registry.types[name] != nil, "\(name)")
        }
    }

    /// Attribute lookup, completion and help read the same table: every name completion offers
    /// after a dot is found by lookup, and nothing else is.
    @Test func completionOffersExactlyWhatLookupFinds() throws {
        let s = Session(registry: Self.registry)
        _ = s.run(source: "m = transfusion(dim=32, layers=1, heads=2)\nv = m.mask_expression\nd = shapes(size=8)\nx = ones([2])")
        for (name, type) in [("m", "model"), ("v", "mask"), ("d", "shapes"), ("x", "tensor")] {
            let offered = s.completions(for: "\(name).").map { String($0.dropFirst(name.count + 1)) }
            #expect(offered == Self.registry.types[type]!.memberNames, "\(name)")
            for member in offered { #expect(s.run(source: "\(name).\(member)").failure == nil, "\(name).\(member)") }
            #expect(s.run(source: "\(name).nonexistent").failure != nil)
        }
    }

    /// Examples run in parallel, and several write and read the same /tmp/tfs-… paths (as a
    /// reader would type them): each runs with those paths moved into a folder of its own.
    @Test(arguments: everything.map(\.qualifiedName))
    func exampleRuns(_ name: String) throws {
        let b = Self.registry.functions[name] ?? Self.registry.member(name).method!
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tfs-example-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = b.example.replacingOccurrences(of: "\"/tmp/tfs-", with: "\"\(dir.path)/tfs-")
        let r = Session(registry: Self.registry).run(source: source, file: "example.tfs")
        #expect(r.failure == nil, "\(name): \(errorText(r))")
    }

    @Test func signaturesReachTheChecker() {
        for b in Self.registry.allFunctions { #expect(b.signature == Signature(b.spec)) }
    }

    /// docs/language.md, once written, must carry the generated reference verbatim.
    @Test func languageDocCarriesTheGeneratedReference() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = root.appendingPathComponent("docs/language.md")
        var text = try String(contentsOf: doc, encoding: .utf8)
        // TFS_REGENERATE_DOCS=1 rewrites the generated part (everything from its heading on).
        if ProcessInfo.processInfo.environment["TFS_REGENERATE_DOCS"] == "1",
           let start = text.range(of: "## Builtin reference") {
            text = String(text[..<start.lowerBound]) + Self.registry.docsMarkdown()
            try text.write(to: doc, atomically: true, encoding: .utf8)
        }
        #expect(text.contains(Self.registry.docsMarkdown()), "regenerate: TFS_REGENERATE_DOCS=1 scripts/test --filter languageDoc")
    }
}

extension BuiltinDocsTests {
    /// A constant and a function of the same name would shadow one another.
    @Test func builtinAndConstantNamesAreDistinct() {
        let overlap = Set(Self.registry.allFunctions.map(\.name)).intersection(Self.registry.constants.keys)
        #expect(overlap.isEmpty, "\(overlap.sorted())")
    }
}
