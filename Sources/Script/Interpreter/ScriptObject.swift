import TensorGraph

/// A library piece that lives in the language as a value: a mask, a schedule, a model, a
/// dataset. The interpreter knows nothing about them beyond this protocol, so later parts of
/// tfs add new kinds of values without touching the evaluator.
///
/// Only `typeName` and `description` are required; every hook has a default meaning
/// "not supported", which the interpreter turns into a proper type error.
public protocol ScriptObject: AnyObject {
    /// The name `type(x)` returns: "mask", "schedule", "model".
    var typeName: String { get }
    /// The text `print` and the REPL show (Python's repr).
    var description: String { get }
    /// `object.name`: a field, or a method as a `.builtin` bound to this object.
    /// Nil means "no such attribute".
    func member(_ name: String) throws -> Value?
    /// `object.name = value`; false if the object has no such settable attribute.
    func setMember(_ name: String, _ value: Value) throws -> Bool
    /// Attribute names for tab completion and `help`.
    var memberNames: [String] { get }
    /// `object op other` (or `other op object` when `reversed`); nil if unsupported, so the
    /// other operand gets its chance. Masks use `|` `&`, schedules `>>`, losses `+` `*`.
    func binary(_ op: BinaryOperator, _ other: Value, reversed: Bool) throws -> Value?
    /// `-x`, `~x`; nil if unsupported.
    func unary(_ op: UnaryOperator) throws -> Value?
    /// `object(args)`, for callable objects (a model applied to a batch); nil if not callable.
    func call(_ arguments: CallArguments) throws -> Value?
    /// How `show(x)` (and a cell ending in this value) displays it: an image, an SVG, a table.
    /// Nil falls back to the text of `description`.
    func output() throws -> Output?
    /// Truthiness (true unless the object says otherwise).
    var isTruthy: Bool { get }
}

public extension ScriptObject {
    func member(_ name: String) throws -> Value? { nil }
    func setMember(_ name: String, _ value: Value) throws -> Bool { false }
    var memberNames: [String] { [] }
    func binary(_ op: BinaryOperator, _ other: Value, reversed: Bool) throws -> Value? { nil }
    func unary(_ op: UnaryOperator) throws -> Value? { nil }
    func call(_ arguments: CallArguments) throws -> Value? { nil }
    func output() throws -> Output? { nil }
    var isTruthy: Bool { true }
}
