import Foundation
import Script
import TensorGraph

/// The few places where the front ends need more of `Session` than running a cell; kept in
/// one file so the front ends follow the session's API in one place.
enum SessionBridge {
    /// One JSON object per recorded metric, in recording order.
    static func metricJSONLines(_ session: Session) -> [String] {
        session.metrics.map(\.json)
    }

    /// The `:vars` listing: name, type and a summary that computes nothing, in columns.
    static func globals(_ session: Session) -> String {
        let rows = session.globalsSummary()
        guard !rows.isEmpty else { return "" }
        let nameWidth = rows.map(\.name.count).max() ?? 0
        let typeWidth = rows.map(\.type.count).max() ?? 0
        return rows.map { row in
            row.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                + row.type.padding(toLength: typeWidth, withPad: " ", startingAt: 0) + "  " + row.summary
        }.joined(separator: "\n")
    }

    /// The lazy tensor `expression` evaluates to, built without realizing it (for `:graph`);
    /// nil when it does not parse, fails, or is not a tensor (the caller then lets the session
    /// run it and report why).
    static func tensor(_ session: Session, expression: String) -> Tensor? {
        let sink = DiagnosticSink()
        guard let expr = Parser.parseExpression(expression, file: "<graph>", sink: sink), !sink.hasErrors else {
            return nil
        }
        session.interpreter.interruptFlag.clear()
        let interpreter = session.interpreter
        let value = Evaluation.run({ try? interpreter.evaluate(expr) }, onInterrupt: { session.interrupt() })
        if case .tensor(let t)? = value { return t }
        return nil
    }

    /// The tensor the last input evaluated to, if it was one (for `:time`'s graph facts).
    static func lastTensor(_ session: Session) -> Tensor? {
        if case .tensor(let t)? = session.lastValue { return t }
        return nil
    }
}
