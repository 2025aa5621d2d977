import TensorGraph

// The syntax tree of a tfs script.
//
// Two node families, `Expr` (produces a value) and `Stmt` (does something). Each is a struct
// holding a `kind` (an enum with one case per construct) and the `span` of source text it
// came from, so every runtime error can point at the expression that caused it.
//
// Invariants the parser guarantees (so the interpreter need not re-check them):
// - assignment, augmented-assignment and `for` targets are only `.name`, `.member`, `.index`,
//   or (not for augmented assignment) `.tuple`/`.list` of targets;
// - `.slice` appears only as an element of an `.index` subscript list;
// - in a call, keyword arguments follow positional ones and no keyword repeats;
// - in `ParameterList`, parameters without defaults come before those with defaults
//   (keyword-only ones excepted), and no name repeats.

/// An expression: what it is and where it is.
public struct Expr: Sendable, Equatable {
    public indirect enum Kind: Sendable, Equatable {
        // Literals.
        case int(Int)
        case float(Double)
        case string(String)
        case bool(Bool)
        case none
        /// `f"loss {x:.3f}"`: literal text and formatted expressions, in order.
        case fstring([FStringPart])
        /// `...` — in subscripts means "all remaining dimensions".
        case ellipsis
        /// A variable reference.
        case name(String)

        // Collections.
        case list([Expr])
        /// `(a, b)`, `a, b` (statement level) and `(a,)`.
        case tuple([Expr])
        case dict([DictEntry])
        /// `[element for target in iterable if condition]` (one `for` clause).
        case listComprehension(element: Expr, target: Expr, iterable: Expr, condition: Expr?)

        // Operators.
        /// `-x`, `+x`, `~x`, `not x`.
        case unary(UnaryOperator, Expr)
        /// Arithmetic, matrix product, bitwise/mask algebra, shifts and comparisons.
        case binary(BinaryOperator, Expr, Expr)
        /// `and` / `or`: short-circuiting, so kept apart from `binary`.
        case logical(LogicalOperator, Expr, Expr)
        /// `then if condition else otherwise`.
        case conditional(condition: Expr, then: Expr, otherwise: Expr)
        /// `lambda params: body`.
        case lambda(ParameterList, body: Expr)

        // Postfix forms.
        case call(callee: Expr, arguments: [CallArgument])
        /// `object.name`; `nameSpan` covers just the name (for "no attribute" errors).
        case member(Expr, name: String, nameSpan: SourceSpan)
        /// `object[i]`, `object[1:3]`, `object[:, 0]`: one entry per dimension.
        case index(Expr, subscripts: [Expr])
        /// `lower:upper:step` inside a subscript; any part may be omitted.
        case slice(lower: Expr?, upper: Expr?, step: Expr?)
    }

    public var kind: Kind { didSet { height = Expr.height(of: kind) } }
    public var span: SourceSpan
    /// Nodes on the longest path from this one to a leaf (a leaf is 1). The parser refuses
    /// trees taller than `Parser.maxDepth`, so every pass that recurses over them is safe.
    public private(set) var height: Int

    public init(_ kind: Kind, _ span: SourceSpan) {
        self.kind = kind; self.span = span; self.height = Expr.height(of: kind)
    }

    /// One more than the tallest child (the children's heights are already stored).
    static func height(of kind: Kind) -> Int {
        func tallest(_ es: [Expr]) -> Int { es.reduce(0) { max($0, $1.height) } }
        let below: Int
        switch kind {
        case .int, .float, .string, .bool, .none, .ellipsis, .name: below = 0
        case .fstring(let parts):
            below = tallest(parts.compactMap { if case .value(let e, _) = $0 { return e } else { return nil } })
        case .list(let items), .tuple(let items): below = tallest(items)
        case .dict(let entries): below = tallest(entries.flatMap { [$0.key, $0.value] })
        case .listComprehension(let element, let target, let iterable, let condition):
            below = tallest([element, target, iterable] + (condition.map { [$0] } ?? []))
        case .unary(_, let e), .member(let e, _, _): below = e.height
        case .binary(_, let a, let b), .logical(_, let a, let b): below = max(a.height, b.height)
        case .conditional(let c, let t, let o): below = tallest([c, t, o])
        case .lambda(let parameters, let body):
            below = tallest([body] + parameters.params.compactMap(\.defaultValue))
        case .call(let callee, let arguments): below = tallest([callee] + arguments.map(\.value))
        case .index(let object, let subscripts): below = tallest([object] + subscripts)
        case .slice(let lower, let upper, let step): below = tallest([lower, upper, step].compactMap { $0 })
        }
        return below + 1
    }
}

/// A statement: what it is and where it is (its span covers its first line).
public struct Stmt: Sendable, Equatable {
    public indirect enum Kind: Sendable, Equatable {
        /// An expression evaluated for its effect or, at a cell's end, for display.
        case expression(Expr)
        /// `target = value`.
        case assign(target: Expr, value: Expr)
        /// `target op= value`, e.g. `x += 1` has `op == .add`.
        case augmentedAssign(target: Expr, op: BinaryOperator, value: Expr)
        case def(FunctionDecl)
        case `return`(Expr?)
        /// `if`/`elif` branches in order, then the optional `else` block.
        case `if`(branches: [ConditionalBlock], orElse: [Stmt]?)
        case `for`(target: Expr, iterable: Expr, body: [Stmt])
        case `while`(condition: Expr, body: [Stmt])
        case `break`
        case `continue`
        case pass
    }

    public var kind: Kind
    public var span: SourceSpan

    public init(_ kind: Kind, _ span: SourceSpan) { self.kind = kind; self.span = span }
}

// MARK: - Parts of nodes

public enum UnaryOperator: String, Sendable {
    case negate = "-", plus = "+", invert = "~", not = "not"
}

public enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//"
    case modulo = "%", power = "**", matmul = "@"
    /// Mask algebra (`causal | same_image`) and integer bitwise operations.
    case bitOr = "|", bitAnd = "&"
    /// `>>` chains schedules: `warmup(100) >> cosine(3e-4)`.
    case shiftLeft = "<<", shiftRight = ">>"
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">"
    case greaterEqual = ">=", `in` = "in", notIn = "not in", `is` = "is", isNot = "is not"

    public var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .in, .notIn, .is, .isNot:
            return true
        default: return false
        }
    }
}

public enum LogicalOperator: String, Sendable {
    case and, or
}

/// A `key: value` entry of a dict literal.
public struct DictEntry: Sendable, Equatable {
    public var key: Expr
    public var value: Expr
    public init(key: Expr, value: Expr) { self.key = key; self.value = value }
}

/// One argument of a call: positional (`label == nil`) or keyword (`dim=128`).
public struct CallArgument: Sendable, Equatable {
    public var label: String?
    /// The span of the label alone, for "unknown keyword argument" errors.
    public var labelSpan: SourceSpan?
    public var value: Expr
    public init(label: String? = nil, labelSpan: SourceSpan? = nil, value: Expr) {
        self.label = label; self.labelSpan = labelSpan; self.value = value
    }
}

/// One piece of an f-string.
public enum FStringPart: Sendable, Equatable {
    case text(String)
    /// `{value}` or `{value:spec}`; `spec` is the raw text after the colon (e.g. ".3f").
    case value(Expr, format: String?)
}

/// One declared parameter of a `def` or `lambda`.
public struct ParameterDecl: Sendable, Equatable {
    public var name: String
    public var span: SourceSpan
    /// The default value's expression, evaluated once when the `def` runs (as in Python).
    public var defaultValue: Expr?
    /// Declared after `*` or `*args`: can only be passed by keyword.
    public var keywordOnly: Bool
    public init(name: String, span: SourceSpan, defaultValue: Expr? = nil, keywordOnly: Bool = false) {
        self.name = name; self.span = span; self.defaultValue = defaultValue; self.keywordOnly = keywordOnly
    }
}

/// The parameter list of a `def` or `lambda`: `(a, b=2, *args, c=3, **kwargs)`.
public struct ParameterList: Sendable, Equatable {
    public var params: [ParameterDecl]
    /// The name of `*args`, if declared.
    public var varargs: String?
    /// The name of `**kwargs`, if declared.
    public var kwargs: String?
    public init(params: [ParameterDecl] = [], varargs: String? = nil, kwargs: String? = nil) {
        self.params = params; self.varargs = varargs; self.kwargs = kwargs
    }

    /// Every name the parameters bind inside the body.
    public var boundNames: [String] { params.map(\.name) + [varargs, kwargs].compactMap { $0 } }

    /// The call signature these parameters accept (for arity checking).
    public var signature: Signature {
        Signature(params: params.map { Signature.Param($0.name, hasDefault: $0.defaultValue != nil,
                                                       keywordOnly: $0.keywordOnly) },
                  variadic: varargs != nil, kwargs: kwargs != nil)
    }
}

/// `def name(parameters): body`.
public struct FunctionDecl: Sendable, Equatable {
    public var name: String
    public var nameSpan: SourceSpan
    public var parameters: ParameterList
    public var body: [Stmt]
    public init(name: String, nameSpan: SourceSpan, parameters: ParameterList, body: [Stmt]) {
        self.name = name; self.nameSpan = nameSpan; self.parameters = parameters; self.body = body
    }
}

/// An `if` or `elif` condition and the block it guards.
public struct ConditionalBlock: Sendable, Equatable {
    public var condition: Expr
    public var body: [Stmt]
    public init(condition: Expr, body: [Stmt]) { self.condition = condition; self.body = body }
}
