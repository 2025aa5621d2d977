import Foundation

/// What running a cell (or a REPL line) shows: the unit that `tfs run` prints, the REPL
/// displays and notebook exports embed.
public enum Output: Equatable, Sendable {
    case text(String)                         // print(...) and values echoed at the REPL
    case table(headers: [String], rows: [[String]])
    case png(Data, caption: String?)          // images, image grids, plots
    case svg(String, caption: String?)        // graphs and masks
    case error(String)                        // a rendered diagnostic (file:line:col, caret)
}

/// The result of running one cell.
public struct CellResult: Sendable {
    public var outputs: [Output]
    /// The cell's last expression value, rendered (the REPL's `Out[n]`), if any.
    public var value: String?
    /// Set when the cell failed: 65 for an error found before running, 70 at run time.
    public var failure: Failure?
    public var seconds: Double

    public enum Failure: Int, Sendable { case static_ = 65, runtime = 70, interrupted = 130 }

    public init(outputs: [Output] = [], value: String? = nil, failure: Failure? = nil, seconds: Double = 0) {
        self.outputs = outputs; self.value = value; self.failure = failure; self.seconds = seconds
    }
}
