import Testing
@testable import Script
@testable import ScriptLibrary

/// Random and mutated scripts must never crash or hang the frontend: each run ends with a
/// tree, diagnostics, or both, and every diagnostic renders.
@Suite struct FuzzTests {
    static let corpus = [
        """
        # %% model
        model = transfusion(
            dim=128, layers=4, heads=4,
            image=patches(2, encoder="linear"),
            mask=causal | same_image,
            loss=lm + 5 * diffusion,
        )
        run = train(model, data, steps=1500, lr=warmup(100) >> cosine(3e-4), seed=1)
        plot(run.loss)
        """,
        """
        def step(x, w=None, *, lr=1e-3, **rest):
            if x is None or not w:
                return [i ** 2 for i in range(3) if i % 2 == 0]
            elif x in {"a": 1}:
                pass
            else:
                while x > 0:
                    x -= 1; continue
            for i, (a, b) in enumerate(zip(x, w)):
                y = a[1:3, ::2][..., -1] @ b.T
                print(f"{i}: {y:.3f} {{ok}}", 'it\\'s', \"\"\"multi
        line\"\"\")
            return lambda t, k=2: t * k if t else -k
        """,
        "x = randn([2, 8]); w = param(randn([8, 4]) * 0.1)\ny = softmax(x @ w)\ng = grad(sum(y * y), [w])\nprint(g[0])\n",
    ]

    static let fragments = ["(", ")", "[", "]", "{", "}", ":", ",", "\n", "    ", "\t", "\"", "'", "'''",
                            "f\"{", "}", "# %%", "lambda", "def", "**", "\\", "=", "if", "else", "1e",
                            ".", "...", "not", "in", "@", ";", "\r\n", "é", "\u{0}", "x", "0", "return"]

    @Test func randomBytesNeverCrash() {
        var rng = FuzzRandom(seed: 1)
        for _ in 0..<1000 {
            let count = Int(rng.next() % 80)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            run(String(decoding: bytes, as: UTF8.self))
            let ascii = (0..<count).map { _ in Character(Unicode.Scalar(UInt8(32 + rng.next() % 95))) }
            run(String(ascii))
        }
    }

    @Test func mutatedScriptsNeverCrash() {
        var rng = FuzzRandom(seed: 2)
        for round in 0..<2000 {
            var pieces = Self.pieces(Self.corpus[round % Self.corpus.count])
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(pieces.count))
                switch rng.next() % 4 {
                case 0: pieces.remove(at: i)
                case 1: pieces.insert(Self.fragments[Int(rng.next() % UInt64(Self.fragments.count))], at: i)
                case 2: pieces.swapAt(i, Int(rng.next() % UInt64(pieces.count)))
                default: pieces.insert(pieces[Int(rng.next() % UInt64(pieces.count))], at: i)
                }
                if pieces.isEmpty { pieces = ["x"] }
            }
            run(pieces.joined())
        }
    }

    /// Pathologically deep inputs, by index (so a failure's description stays short).
    static let deep: [String] = [
        String(repeating: "(", count: 5000),
        String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000),
        "x = " + String(repeating: "-", count: 5000) + "1",
        "x = " + String(repeating: "not ", count: 3000) + "y",
        "x = " + String(repeating: "2 ** ", count: 3000) + "2",
        "x = " + String(repeating: "a if b else ", count: 2000) + "c",
        "x = " + String(repeating: "lambda: ", count: 2000) + "0",
        (0..<300).map { String(repeating: " ", count: $0) + "if x:\n" }.joined() + String(repeating: " ", count: 300) + "pass",
        String(repeating: "f(", count: 1000) + String(repeating: ")", count: 1000),
        "f\"" + String(repeating: "{", count: 501) + "\"",
    ]

    @Test(arguments: 0..<10)
    func deepNestingIsAnErrorNotACrash(index: Int) {
        let result = Frontend.analyze(Self.deep[index])
        #expect(!result.diagnostics.isEmpty)
    }

    /// Splits a script into token texts and the gaps between them, so mutations act on tokens.
    static func pieces(_ source: String) -> [String] {
        var pieces: [String] = [], current = ""
        for c in source {
            let boundary = c.isWhitespace || "()[]{},:;.=+-*/@<>!\"'#".contains(c)
            if boundary { if !current.isEmpty { pieces.append(current); current = "" }; pieces.append(String(c)) }
            else { current.append(c) }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    private func run(_ source: String) {
        let result = Frontend.analyze(source, file: "fuzz.tfs", defined: ["x", "data"], signatures: frontendTestBuiltins)
        let lines = sourceLines(source)
        // A plain check with Issue.record: #expect in a hot loop costs more than the parse.
        for d in result.diagnostics {
            if d.span.line < 1 || d.span.line > lines.count + 1 { Issue.record("bad span \(d) for \(source.debugDescription)") }
            _ = d.render(lines: lines)
        }
        _ = Cells.split(source)
    }
}

/// A small seeded generator, so a failing fuzz case reproduces.
struct FuzzRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
