import Foundation
import Testing
@testable import Script
@testable import ScriptLibrary
import TensorGraph
import Transfusion

/// The parser's one nesting budget (`Parser.maxDepth`): its own recursion and the height of
/// every tree it builds stay within it, so the checker, the interpreter, the printer and the
/// tree's release (all recursive) are safe on any input. Chains parsed by loops (`a + b + …`,
/// `x.f().g()…`, `x[0][0]…`) build trees as tall as they are long and count too.
@Suite struct NestingLimitTests {
    static let limit = Parser.maxDepth
    static let message = "expression nested too deeply (limit \(Parser.maxDepth))"

    /// `x = ` then `count` repetitions of `piece` after `first`: a tree of height count + 1.
    static func chain(_ first: String, _ piece: String, _ count: Int) -> String {
        "x = " + first + String(repeating: piece, count: count)
    }

    /// Every loop-built chain: its first operand and that operand's height, the text of one
    /// link and the height each link adds (a method call is a member and a call node).
    static let links: [(first: String, height: Int, piece: String, perLink: Int)] = [
        ("1", 1, "+1", 1), ("1", 1, "-1", 1), ("1", 1, "*1", 1), ("1", 1, "|1", 1), ("1", 1, "&1", 1),
        ("1", 1, "<<1", 1), ("False", 1, " or False", 1), ("True", 1, " and True", 1),
        ("'a'", 1, ".upper()", 2), ("[1]", 2, "[0]", 1), ("'a'", 1, ".upper", 1), ("f", 1, "()", 1),
    ]

    static func diagnostics(_ source: String) -> [String] {
        let names: Set<String> = ["f"]
        return Frontend.analyze(source, file: "t.tfs", defined: names).diagnostics.map { "\($0.span.line):\($0.span.column): \($0.message)" }
    }

    /// The longest chain within the limit parses; one more link is refused at the chain.
    @Test(arguments: links.indices)
    func aChainAtTheLimitParsesAndOneMoreLinkIsRefused(_ i: Int) {
        let (first, height, piece, perLink) = Self.links[i]
        let most = (Self.limit - height) / perLink
        #expect(Self.diagnostics(Self.chain(first, piece, most)) == [])
        #expect(Self.diagnostics(Self.chain(first, piece, most + 1)) == ["1:5: \(Self.message)"])
    }

    /// The reproducers' sizes (F1, F3: 25,000-term chains), far past the limit: one error.
    @Test(arguments: links.indices)
    func aChainOf25000IsOneErrorNotACrash(_ i: Int) {
        let (first, _, piece, _) = Self.links[i]
        #expect(Self.diagnostics(Self.chain(first, piece, 25_000)) == ["1:5: \(Self.message)"])
    }

    /// F2: comprehensions nested in the iterable or the condition (not through `expression()`).
    @Test func comprehensionsNestedInTheIterableOrConditionCount() {
        let iterable = "x = " + String(repeating: "[i for i in ", count: 1500) + "[1]" + String(repeating: "]", count: 1500)
        let condition = "x = " + String(repeating: "[1 for i in [1] if ", count: 1500) + "1" + String(repeating: "]", count: 1500)
        for source in [iterable, condition] {
            let found = Self.diagnostics(source)
            #expect(found.count == 1 && found[0].hasSuffix(Self.message), "\(found)")
        }
    }

    /// Brackets inside f-strings start their own parser, which starts at the enclosing depth.
    @Test func fstringExpressionsShareTheBudget() {
        let deep = "x = " + String(repeating: "(", count: Self.limit - 2) + "f'{" + String(repeating: "(", count: 10)
            + "1" + String(repeating: ")", count: 10) + "}'" + String(repeating: ")", count: Self.limit - 2)
        #expect(Self.diagnostics(deep).contains { $0.hasSuffix(Self.message) }, "\(Self.diagnostics(deep))")
    }

    /// Blocks count against the same budget (here the 101st `if`'s condition is what is refused).
    @Test func blocksNestedPastTheLimitAreRefused() {
        let source = (0...Self.limit).map { String(repeating: " ", count: $0) + "if x:\n" }.joined()
            + String(repeating: " ", count: Self.limit + 1) + "pass\n"
        #expect(Self.diagnostics(source).contains { $0.hasSuffix("nested too deeply (limit \(Self.limit))") })
    }

    /// What parses also runs: the interpreter, `repr` and the checker recurse over a tree at
    /// the limit, inside a function recursing to the call-depth limit (the worst stack case).
    @Test func treesAtTheLimitRunInsideDeepRecursion() {
        let sum = String(repeating: "+n", count: Self.limit - 3)   // f(n - 1) is 3 tall
        let source = "def f(n):\n    if n <= 0:\n        return 0\n    return f(n - 1)\(sum)\nf(198)"
        // f(k) = f(k−1) + (limit−3)·k, so f(198) = (limit−3)·198·199/2.
        #expect(evalScript(source) == "\((Self.limit - 3) * 198 * 199 / 2)")
        let nested = String(repeating: "[", count: Self.limit - 1) + "1" + String(repeating: "]", count: Self.limit - 1)
        #expect(evalScript(nested) == nested)
    }

    /// F13 mask_chain: a checkpoint whose mask text is a 30,000-term chain, or not mask
    /// algebra at all, is refused when loaded; Transfusion reads the text with the same limit.
    @Test func checkpointsNamingADeepOrForeignMaskAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tfs-mask-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let saved = dir.appendingPathComponent("saved.safetensors").path, crafted = dir.appendingPathComponent("crafted.safetensors").path
        #expect(printedText("m = transfusion(dim=16, layers=1, heads=2)\nr = train(m, shapes(size=16), steps=1, batch=1, checkpoint='\(saved)')") == "")
        let file = try Safetensors.read(path: saved)
        let deep = Array(repeating: "causal", count: 30_000).joined(separator: " | ")
        let cases = [
            (deep, "names a mask that does not read back: mask 'causal | causal"),
            ("save('\(dir.path)/written', {})", "names a mask that does not read back: mask 'save("),
            ("causal | window(3) & ~same_image", nil),
        ]
        for (mask, expected) in cases {
            var metadata = file.metadata
            metadata["mask"] = mask
            try Safetensors.write(entries: file.entries, metadata: metadata, to: crafted)
            let r = evalScript("load_model('\(crafted)').mask_expression")
            if let expected {
                #expect(r.hasPrefix("ERROR 70: 1:12: load_model: \(expected)"), "\(r.prefix(300))")
                #expect(r.contains(mask == deep ? "mask nested too deeply (limit \(Mask.maxDepth))" : "'save' is not a mask"), "\(r.prefix(300))")
            } else {
                #expect(r == "(causal | window(3) & ~same_image) & same_document", "\(r)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/written"))
    }
}
