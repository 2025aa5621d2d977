/// A library object that holds items in order, as a list does: `len(x)`, `x[i]` (negative
/// counting from the end), `x[a:b:c]` and `for item in x` in order. Images drawn by a model,
/// examples, and datasets that hold their items (an image folder) are sequences.
public protocol ScriptSequence: ScriptObject {
    /// How many items; throws when this object has no order or end (a procedural dataset).
    func length() throws -> Int
    /// Item `i`, with 0 ≤ i < length().
    func item(_ i: Int) throws -> Value
    /// The items at `indices` (each in range, in the order given) as an object of like kind.
    func items(_ indices: [Int]) throws -> Value
}

/// An object whose attributes also come from its data (an example's metadata fields:
/// `ex.label`, `ex.font`), beside the fields and methods of its type.
public protocol DynamicMembers: ScriptObject {
    /// The attribute `name`, or nil when the data has none.
    func dynamicMember(_ name: String) -> Value?
    /// Every data attribute's name (for completion and "did you mean").
    var dynamicMemberNames: [String] { get }
}
