import Foundation
import Testing
@testable import Script
@testable import ScriptLibrary

/// F22: a piped REPL runs one cell per line, so the cost of a cell must not grow with the
/// number of globals (copying and sorting every global's name per cell made 10,000 lines
/// take 36 s). Counted, not timed: running and checking cells never lists the globals.
@Suite struct SessionScalingTests {
    @Test func cellsNeverListTheGlobals() {
        let s = Session(registry: .tfs)
        for i in 0..<20_000 { s.interpreter.setGlobal("v\(i)", .int(i)) }
        let before = s.interpreter.globalListings
        for i in 0..<200 {
            let r = s.run(source: i % 2 == 0 ? "w\(i) = v\(i) + 1" : "def f\(i)(a):\n    return a + w\(i - 1)", file: "<stdin>", line: i + 1)
            #expect(r.failure == nil)
        }
        #expect(s.interpreter.globalListings == before)
        // An undefined name lists them once, for its "did you mean" hint.
        let typo = s.run(source: "v1999x + 1", file: "<stdin>", line: 201)
        #expect(typo.failure == .static_)
        #expect(s.interpreter.globalListings == before + 1)
    }

    /// The checker still sees earlier globals and signatures, and hides a builtin's signature
    /// behind a global of the same name that is not a function.
    @Test func theCheckerStillSeesEarlierCells() {
        let s = Session(registry: .tfs)
        _ = runScript("def f(a, b):\n    return a + b\nrange = 3", in: s)
        #expect(evalScript("f(1)", in: s) == "ERROR 65: 1:1: 'f' is missing required argument 'b'")
        #expect(evalScript("range + 1", in: s) == "4")
        #expect(evalScript("undefined_name_x", in: s).hasPrefix("ERROR 65: 1:1: undefined name 'undefined_name_x'"))
        #expect(evalScript("softmax(ones([2]), 1, 2, 3)", in: s).hasPrefix("ERROR 65: "))
    }
}
