import Foundation
import Testing
@testable import Script

/// F22: a piped REPL runs one cell per line, so the cost of a cell must not grow with the
/// number of globals (copying and sorting every global's name per cell made 10,000 lines
/// take 36 s). Measured as a ratio on this machine, never against a wall-clock figure.
@Suite(.serialized) struct SessionScalingTests {
    /// Seconds for `cells` one-line cells in a session that already holds `globals` globals.
    static func secondsPerBatch(globals: Int, cells: Int) -> Double {
        let s = Session()
        for i in 0..<globals { s.interpreter.setGlobal("v\(i)", .int(i)) }
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for i in 0..<cells { _ = s.run(source: "w\(i) = \(i)", file: "<stdin>", line: i + 1) }
        }
        return Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
    }

    /// The same 400 cells after 20,000 globals cost about what they cost after 200 (a cost
    /// growing with the globals made it ~100×; the slack of 4× and the best of three runs
    /// absorb a busy machine).
    @Test func aCellCostsTheSameWhateverTheNumberOfGlobals() {
        _ = Self.secondsPerBatch(globals: 200, cells: 50)   // warm up
        let few = (0..<3).map { _ in Self.secondsPerBatch(globals: 200, cells: 400) }.min()!
        let many = (0..<3).map { _ in Self.secondsPerBatch(globals: 20_000, cells: 400) }.min()!
        #expect(many < 4 * few, "400 cells: \(few) s after 200 globals, \(many) s after 20,000")
    }

    /// The checker still sees earlier globals and signatures, and hides a builtin's signature
    /// behind a global of the same name that is not a function.
    @Test func theCheckerStillSeesEarlierCells() {
        let s = Session()
        _ = runScript("def f(a, b):\n    return a + b\nrange = 3", in: s)
        #expect(evalScript("f(1)", in: s) == "ERROR 65: 1:1: 'f' is missing required argument 'b'")
        #expect(evalScript("range + 1", in: s) == "4")
        #expect(evalScript("undefined_name_x", in: s).hasPrefix("ERROR 65: 1:1: undefined name 'undefined_name_x'"))
        #expect(evalScript("zeros([2], 1, 2, 3)", in: s).hasPrefix("ERROR 65: "))
    }
}
