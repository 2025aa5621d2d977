import Foundation
import Testing
@testable import Visual

/// The plot's axes: ticks at round values, a log scale when losses span decades.
@Suite struct LinePlotTests {
    @Test(arguments: [
        (0.0, 10.0, [0.0, 2, 4, 6, 8, 10]),
        (0.123, 0.987, [0.2, 0.4, 0.6, 0.8]),
        (1000.0, 1499.0, [1000.0, 1100, 1200, 1300, 1400]),
    ])
    func linearTicksAreRound(_ lo: Double, _ hi: Double, _ expected: [Double]) {
        let ticks = Axis.linear(lo, hi, tight: true).ticks
        #expect(ticks.count == expected.count && zip(ticks, expected).allSatisfy { abs($0 - $1) < 1e-9 }, "\(ticks)")
    }

    @Test func logTicksAreDecadesOrOneTwoFive() {
        #expect(Axis.logarithmic(1e-4, 10).ticks == [1e-4, 1e-3, 1e-2, 0.1, 1, 10].map { $0 })
        let few = Axis.logarithmic(0.02, 6).ticks
        #expect(few.count == 8 && few.allSatisfy { [1.0, 2, 5].contains(($0 / pow(10, log10($0).rounded(.down))).rounded()) }, "\(few)")
    }

    @Test func tickLabelsHaveNoTrailingNoise() {
        #expect(Axis.format(0.30000000000000004) == "0.3")
        #expect(Axis.format(1200) == "1200" && Axis.format(2e5) == "2e5" && Axis.format(1e-4) == "0.0001")
    }

    /// Losses falling over two decades get a log axis by themselves; log=false keeps it linear.
    @Test func logScaleIsChosenForLossesSpanningDecades() {
        let loss = [("loss", (0..<100).map { 10 * exp(-Double($0) / 20) })]
        let auto = LinePlot.svg(loss, title: "t")
        #expect(auto.contains(">0.1</text>") && auto.contains(">1</text>") && auto.contains(">10</text>"))
        let linear = LinePlot.svg(loss, title: "t", log: false)
        #expect(!linear.contains(">0.1</text>") && linear.contains(">10</text>"))
        #expect(!LinePlot.svg([("x", [3, 2, 1])], title: "t").contains(">0.1</text>"))
    }

    /// A series with gaps (held-out losses) is drawn as markers, one per value.
    @Test func seriesMeasuredAtSomeStepsGetMarkers() {
        let svg = LinePlot.svg([("train", [4, 3, 2, 1.5, 1.2]), ("held-out", [4.5, .nan, 2.4, .nan, 1.4])], title: "t")
        #expect(svg.components(separatedBy: "<circle").count - 1 == 3 + 1)   // three points and the legend's sample
    }
}
