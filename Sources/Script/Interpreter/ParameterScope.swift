import TensorGraph

/// Where `param(...)` puts the weights it makes while a model calls one of its pieces (an
/// encoder, a decoder written in the script): the model's own parameters, named under the
/// piece (`encoder.w1`), made once from the model's seed and found again by name every time
/// the piece runs. Outside a piece `param` makes a free-standing parameter.
public protocol ParameterScope: AnyObject {
    /// The parameter `name` of this scope (nil: the next unnamed one, numbered in call order),
    /// made on first use as `initial` says unless it exists; an existing one must have `shape`.
    func parameter(name: String?, shape: [Int], initial: ParameterInit) throws -> Tensor
}

/// How a new parameter starts: given values, or drawn (from the random generator of whoever
/// makes it: the interpreter's, or a model's own seed), or one value everywhere.
public enum ParameterInit {
    case values(TensorData)
    case normal(std: Float)
    case fill(Float)
}

extension Interpreter {
    /// Runs `body` with `scope` receiving the parameters `param(...)` makes (a model calling
    /// one of its pieces), then restores the scope before it.
    public func withParameters<T>(_ scope: ParameterScope, _ body: () throws -> T) rethrows -> T {
        let outer = parameterScope
        parameterScope = scope
        defer { parameterScope = outer }
        return try body()
    }
}
