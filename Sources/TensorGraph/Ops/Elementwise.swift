import Foundation

/// Elementwise ops: one output value per (broadcast) input position. They never run alone:
/// the planner fuses chains of them into one pass over memory (see Plan/Fusion.swift), calling
/// `apply` on blocks of a few hundred values held in cache.
public protocol Elementwise: Operation {
    /// Computes `n` outputs from up to three input blocks (unused ones are ignored).
    func apply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>,
               _ out: UnsafeMutablePointer<Float>, _ n: Int)
}

extension Elementwise {
    public func run(_ k: Kernel) {
        fatalError("elementwise ops are executed by the fused kernel")
    }
}

// MARK: - Unary

public struct Unary: Elementwise {
    public enum Kind: String, Hashable, CaseIterable {
        case neg, exp, log, sqrt, rsqrt, tanh, sigmoid, silu, gelu, relu, abs, sign, square, sin, cos
        /// GELU's tanh approximation, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); `gelu` is the exact (erf) form.
        case geluTanh
        case geluGrad, siluGrad, step  // helpers of gradient rules: gelu'(x), silu'(x) and 1[x > 0]
    }
    public let kind: Kind
    public var label: String { kind.rawValue }
    public func shape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }

    public func apply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>,
                      _ o: UnsafeMutablePointer<Float>, _ n: Int) {
        switch kind {
        case .neg: for i in 0..<n { o[i] = -a[i] }
        case .exp: VectorMath.map(a, o, n) { VectorMath.exp($0) }
        case .log: for i in 0..<n { o[i] = Foundation.log(a[i]) }
        case .sqrt: for i in 0..<n { o[i] = a[i].squareRoot() }
        case .rsqrt: for i in 0..<n { o[i] = 1 / a[i].squareRoot() }
        case .tanh: for i in 0..<n { o[i] = Foundation.tanh(a[i]) }
        case .sigmoid: VectorMath.map(a, o, n) { 1 / (1 + VectorMath.exp(-$0)) }
        case .silu: VectorMath.map(a, o, n) { $0 / (1 + VectorMath.exp(-$0)) }
        case .siluGrad:   // σ(x)·(1 + x·(1 − σ(x))), one kernel that fuses with its consumer
            VectorMath.map(a, o, n) { x in let s = 1 / (1 + VectorMath.exp(-x)); return s * (1 + x * (1 - s)) }
        case .gelu: for i in 0..<n { o[i] = 0.5 * a[i] * (1 + erf(a[i] * 0.70710678)) }
        case .geluGrad:
            for i in 0..<n {
                let x = a[i]
                o[i] = 0.5 * (1 + erf(x * 0.70710678)) + x * Foundation.exp(-0.5 * x * x) * 0.39894228
            }
        case .relu: for i in 0..<n { o[i] = max(a[i], 0) }
        case .step: for i in 0..<n { o[i] = a[i] > 0 ? 1 : 0 }
        case .abs: for i in 0..<n { o[i] = Swift.abs(a[i]) }
        case .sign: for i in 0..<n { o[i] = a[i] > 0 ? 1 : (a[i] < 0 ? -1 : 0) }
        case .square: for i in 0..<n { o[i] = a[i] * a[i] }
        case .geluTanh:
            for i in 0..<n { let x = a[i]; o[i] = 0.5 * x * (1 + Foundation.tanh(0.7978845608 * (x + 0.044715 * x * x * x))) }
        case .sin: for i in 0..<n { o[i] = Foundation.sin(a[i]) }
        case .cos: for i in 0..<n { o[i] = Foundation.cos(a[i]) }
        }
    }

    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        let x = Tensor(node.inputs[0]), y = Tensor(node), g = Tensor(g)
        let dx: Tensor?
        switch kind {
        case .neg: dx = try -g
        case .exp: dx = try g * y
        case .log: dx = try g / x
        case .sqrt: dx = try g * 0.5 / y
        case .rsqrt: dx = try g * -0.5 * y * y * y
        case .tanh: dx = try g * (1 - y * y)
        case .sigmoid: dx = try g * y * (1 - y)
        case .silu: dx = try g * x.unary(.siluGrad)
        case .siluGrad: dx = try g * x.siluSecondDerivative()  // so silu stays twice differentiable
        case .gelu: dx = try g * x.unary(.geluGrad)
        case .relu: dx = try g * x.unary(.step)
        case .abs: dx = try g * x.unary(.sign)
        case .square: dx = try g * 2 * x
        case .geluTanh:   // composed, so it stays differentiable
            let th = try (0.7978845608 * (x + 0.044715 * x * x * x)).tanh()
            dx = try g * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * 0.7978845608 * (1 + 3 * 0.044715 * x * x))
        case .sin: dx = try g * x.unary(.cos)
        case .cos: dx = try -(g * x.unary(.sin))
        case .geluGrad, .step, .sign: dx = nil  // piecewise helpers: used only inside gradients
        }
        return [dx?.node]
    }
}

extension Tensor {
    /// silu''(x) = σ(1 − σ)(2 + x(1 − 2σ)), composed (the gradient of `siluGrad`).
    func siluSecondDerivative() throws -> Tensor {
        let s = try sigmoid(); return try s * (1 - s) * (2 + self * (1 - 2 * s))
    }
}

// MARK: - Binary (with broadcasting)

public struct Binary: Elementwise {
    public enum Kind: String, Hashable, CaseIterable {
        case add, sub, mul, div, pow, maximum, minimum
        case swiglu   // silu(a)·b: SwiGLU's gate in one pass (its silu never stored)
        case equal, notEqual, less, lessEqual, greater, greaterEqual  // 1 or 0, no gradient
    }
    public let kind: Kind
    public var label: String {
        switch kind {
        case .add: "+"; case .sub: "−"; case .mul: "×"; case .div: "÷"; case .pow: "pow"
        case .equal: "=="; case .notEqual: "!="; case .less: "<"; case .lessEqual: "<="
        case .greater: ">"; case .greaterEqual: ">="; default: kind.rawValue
        }
    }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard let out = Shape.broadcast(s[0], s[1]) else {
            throw shapeError(label, s, "shapes cannot be broadcast together")
        }
        return out
    }

    public func apply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>,
                      _ o: UnsafeMutablePointer<Float>, _ n: Int) {
        switch kind {
        case .add: for i in 0..<n { o[i] = a[i] + b[i] }
        case .sub: for i in 0..<n { o[i] = a[i] - b[i] }
        case .mul: for i in 0..<n { o[i] = a[i] * b[i] }
        case .div: for i in 0..<n { o[i] = a[i] / b[i] }
        case .pow: for i in 0..<n { o[i] = Foundation.pow(a[i], b[i]) }
        case .maximum: for i in 0..<n { o[i] = Swift.max(a[i], b[i]) }
        case .minimum: for i in 0..<n { o[i] = Swift.min(a[i], b[i]) }
        case .swiglu: VectorMath.map(a, b, o, n) { x, y in x / (1 + VectorMath.exp(-x)) * y }
        case .equal: for i in 0..<n { o[i] = a[i] == b[i] ? 1 : 0 }
        case .notEqual: for i in 0..<n { o[i] = a[i] != b[i] ? 1 : 0 }
        case .less: for i in 0..<n { o[i] = a[i] < b[i] ? 1 : 0 }
        case .lessEqual: for i in 0..<n { o[i] = a[i] <= b[i] ? 1 : 0 }
        case .greater: for i in 0..<n { o[i] = a[i] > b[i] ? 1 : 0 }
        case .greaterEqual: for i in 0..<n { o[i] = a[i] >= b[i] ? 1 : 0 }
        }
    }

    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        let a = Tensor(node.inputs[0]), b = Tensor(node.inputs[1]), g = Tensor(g)
        let (da, db): (Tensor?, Tensor?)
        switch kind {
        case .add: (da, db) = (g, g)
        case .sub: (da, db) = (g, try -g)
        case .mul: (da, db) = (try g * b, try g * a)
        case .div: (da, db) = (try g / b, try -g * a / (b * b))
        case .pow: let y = Tensor(node); (da, db) = (try g * b * a.pow(b - 1), try g * y * a.log())
        case .maximum: let m = try a.compare(.greaterEqual, b); (da, db) = (try g * m, try g * (1 - m))
        case .minimum: let m = try a.compare(.lessEqual, b); (da, db) = (try g * m, try g * (1 - m))
        case .swiglu where a.shape == b.shape && a.shape == g.shape:
            // Both gradients in one pass (Ops/SwiGLUBackward.swift), the halves read in place.
            let packed = try Tensor.make(SwiGLUBackward(), [a, b, g])
            (da, db) = (try packed.slice(axis: 0, 0, 1).reshape(a.shape), try packed.slice(axis: 0, 1, 2).reshape(a.shape))
        case .swiglu: (da, db) = (try g * b * a.unary(.siluGrad), try g * a.silu())
        default: (da, db) = (nil, nil)
        }
        // A broadcast input receives the sum of the gradients of all positions it fed.
        return [try da?.sum(to: a.shape).node, try db?.sum(to: b.shape).node]
    }
}

// MARK: - Where (select)

/// `where(cond, a, b)`: a where cond ≠ 0, else b (masked fill is `where(mask, x, -inf)`).
public struct Select: Elementwise {
    public var label: String { "where" }
    public func shape(_ s: [[Int]]) throws -> [Int] {
        guard let ab = Shape.broadcast(s[1], s[2]), let out = Shape.broadcast(s[0], ab) else {
            throw shapeError("where", s, "condition and values cannot be broadcast together")
        }
        return out
    }
    public func apply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>,
                      _ o: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { o[i] = a[i] != 0 ? b[i] : c[i] }
    }
    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        let cond = Tensor(node.inputs[0]), g = Tensor(g), zero = Tensor.scalar(0)
        return [nil,
                try Tensor.select(cond, g, zero).sum(to: node.inputs[1].shape).node,
                try Tensor.select(cond, zero, g).sum(to: node.inputs[2].shape).node]
    }
}
