import Foundation
import TensorGraph

/// A value of an image folder's metadata line beyond its image and text (`"label": 7`,
/// `"font": "DejaVu Serif"`): a string, an integer, a number or a truth value; a list or
/// object is kept as its JSON text.
public enum MetadataValue: Equatable, Sendable {
    case string(String), int(Int), double(Double), bool(Bool)

    /// The value JSONSerialization read.
    public init(json: Any) {
        if let s = json as? String { self = .string(s); return }
        if let n = json as? NSNumber {
            switch String(cString: n.objCType) {
            case "c", "B": self = .bool(n.boolValue)
            case "d", "f": self = .double(n.doubleValue)
            default: self = .int(n.intValue)
            }
            return
        }
        let text = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .fragmentsAllowed])).map { String(decoding: $0, as: UTF8.self) }
        self = .string(text ?? "\(json)")
    }

    /// The value for JSONSerialization to write.
    public var json: Any {
        switch self { case .string(let s): s; case .int(let i): i; case .double(let d): d; case .bool(let b): b }
    }
}

/// A named metadata value.
public struct MetadataField: Equatable, Sendable {
    public var name: String
    public var value: MetadataValue
    public init(_ name: String, _ value: MetadataValue) { self.name = name; self.value = value }
}

/// A dataset item with the metadata it came with (none for a drawn or procedural item).
public struct Example: Equatable, Sendable {
    public var item: DatasetItem
    public var fields: [MetadataField]
    public init(_ item: DatasetItem, fields: [MetadataField] = []) { self.item = item; self.fields = fields }
}

/// A dataset that holds its items in order (an image folder), so they can be counted, read
/// one by one and taken in part — besides being drawn at random for training.
public protocol IndexedDataset: Dataset {
    var length: Int { get }
    /// Item `i` (0 ≤ i < length) with its metadata.
    func example(_ i: Int) -> Example
    /// The items at `indices` (in range, in the order given) as a dataset of their own.
    func subset(_ indices: [Int]) throws -> any IndexedDataset
}
