import Foundation
import TensorGraph

/// Math on numbers. `sqrt`, `exp`, `log` and `tanh` also apply elementwise to tensors.
enum MathBuiltins {
    static let constants: [BuiltinConstant] = [
        BuiltinConstant("pi", .float(Double.pi), help: "π = 3.141592653589793"),
        BuiltinConstant("e", .float(M_E), help: "Euler's number, 2.718281828459045"),
        BuiltinConstant("inf", .float(.infinity), help: "Positive infinity (masked scores use -inf)."),
        BuiltinConstant("nan", .float(.nan), help: "Not a number."),
    ]

    static let all: [Builtin] = [
        generic("sqrt", "The square root of a number, or elementwise of a tensor.", "sqrt(2)",
                number: { x in guard x >= 0 else { throw RuntimeError("math domain error: sqrt of a negative number") }; return x.squareRoot() },
                tensor: { try $0.sqrt() }),
        generic("exp", "e raised to x, for a number or elementwise for a tensor.", "exp(1.0)",
                number: { Foundation.exp($0) }, tensor: { try $0.exp() }),
        generic("log", "The natural logarithm of a number, or elementwise of a tensor.", "log(e)",
                number: { x in guard x > 0 else { throw RuntimeError("math domain error: log of a non-positive number") }; return Foundation.log(x) },
                tensor: { try $0.log() }),
        generic("tanh", "The hyperbolic tangent of a number, or elementwise of a tensor.", "tanh(0.5)",
                number: { Foundation.tanh($0) }, tensor: { try $0.tanh() }),
        generic("sin", "The sine of x (radians), for a number or elementwise for a tensor.", "sin(pi / 2)",
                number: { Foundation.sin($0) }, tensor: { try $0.unary(.sin) }),
        generic("cos", "The cosine of x (radians), for a number or elementwise for a tensor.", "cos(0)",
                number: { Foundation.cos($0) }, tensor: { try $0.unary(.cos) }),
        Builtin("floor", "x", help: "The largest int not above x.", example: "floor(2.7)") { a in
            try roundedInt(a, .down)
        },
        Builtin("ceil", "x", help: "The smallest int not below x.", example: "ceil(2.1)") { a in
            try roundedInt(a, .up)
        },
    ]

    /// A function of numbers that is also a tensor op.
    private static func generic(_ name: String, _ help: String, _ example: String,
                                number: @escaping (Double) throws -> Double,
                                tensor: @escaping (Tensor) throws -> Tensor) -> Builtin {
        Builtin(name, "x", help: help, example: example) { a in
            if let x = a["x"].number { return .float(try number(x)) }
            return .tensor(try tensor(try a.tensor("x")))
        }
    }

    private static func numeric(_ name: String, _ help: String, _ example: String,
                                _ f: @escaping (Double) -> Double) -> Builtin {
        Builtin(name, "x", help: help, example: example) { a in .float(f(try a.double("x"))) }
    }

    private static func roundedInt(_ a: Arguments, _ rule: FloatingPointRoundingRule) throws -> Value {
        if case .int = a["x"] { return a["x"] }
        let r = try a.double("x").rounded(rule)
        guard r.isFinite, Swift.abs(r) < 9.2e18 else { throw a.error("x", "cannot convert \(formatFloat(r)) to an int") }
        return .int(Int(r))
    }
}
