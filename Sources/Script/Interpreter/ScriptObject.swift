import TensorGraph

/// A library piece that lives in the language as a value: a mask, a schedule, a model, a
/// dataset. The interpreter knows nothing about them beyond this protocol, so later parts of
/// tfs add new kinds of values without touching the evaluator.
///
/// Only `type` and `description` are required; every hook has a default meaning
/// "not supported", which the interpreter turns into a proper type error.
public protocol ScriptObject: AnyObject {
    /// The type of this kind of object: its name (`type(x)`), help, fields and methods — the
    /// one table `object.name`, completion, `help` and the reference read.
    static var type: ValueType { get }
    /// The text `print` and the REPL show (Python's repr).
    var description: String { get }
    /// `object.name = value`; false if the object has no such settable attribute.
    func setMember(_ name: String, _ value: Value) throws -> Bool
    /// `object op other` (or `other op object` when `reversed`); nil if unsupported, so the
    /// other operand gets its chance. Masks use `|` `&`, schedules `>>`, losses `+` `*`.
    func binary(_ op: BinaryOperator, _ other: Value, reversed: Bool) throws -> Value?
    /// `-x`, `~x`; nil if unsupported.
    func unary(_ op: UnaryOperator) throws -> Value?
    /// `object(args)`, for callable objects (a model applied to a batch); nil if not callable.
    func call(_ arguments: CallArguments) throws -> Value?
    /// `object[keys]`; nil if the object is not subscriptable.
    func index(_ keys: [Value]) throws -> Value?
    /// How `show(x)` (and a cell ending in this value) displays it: an image, an SVG, a table.
    /// Nil falls back to the text of `description`.
    func output() throws -> Output?
    /// Truthiness (true unless the object says otherwise).
    var isTruthy: Bool { get }
}

public extension ScriptObject {
    /// The name `type(x)` returns: "mask", "schedule", "model".
    var typeName: String { Self.type.name }
    func setMember(_ name: String, _ value: Value) throws -> Bool { false }
    func binary(_ op: BinaryOperator, _ other: Value, reversed: Bool) throws -> Value? { nil }
    func unary(_ op: UnaryOperator) throws -> Value? { nil }
    func call(_ arguments: CallArguments) throws -> Value? { nil }
    func index(_ keys: [Value]) throws -> Value? { nil }
    func output() throws -> Output? { nil }
    var isTruthy: Bool { true }
}
