import Foundation
import TensorGraph

/// A mask as plain JSON, the form checkpoints store, so that any reader can evaluate it without
/// a tfs parser. Each mask is an object with exactly one key, its kind:
///
///     {"causal": {}}  {"bidirectional": {}}  {"nothing": {}}  {"same_image": {}}  {"same_document": {}}
///     {"prefix": {"n": 4}}  {"window": {"n": 3}}  {"document": {"ids": [0, 0, 1]}}
///     {"modality": {"query": "image", "key": "text"}}
///     {"and": [A, B]}  {"or": [A, B]}  {"not": A}
///     {"script": {"name": "f"}}   (a script function: only a session that defines f reads it back)
///
/// tfs writes `and`/`or` with two parts (so reading gives back the same tree) and reads two or
/// more (folded from the left). docs/architecture.md gives the evaluation rule of each kind.
extension Mask {
    /// The compact JSON text of this mask (keys sorted, so equal masks give equal text).
    public var json: String {
        let data = try! JSONSerialization.data(withJSONObject: jsonObject, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// The mask as JSON values (dictionaries, arrays, strings and integers).
    public var jsonObject: [String: Any] {
        switch self {
        case .full: return ["bidirectional": [String: Any]()]
        case .none: return ["nothing": [String: Any]()]
        case .causal: return ["causal": [String: Any]()]
        case .sameImage: return ["same_image": [String: Any]()]
        case .sameDocument: return ["same_document": [String: Any]()]
        case .prefix(let n): return ["prefix": ["n": n]]
        case .window(let n): return ["window": ["n": n]]
        case .documents(let ids): return ["document": ["ids": ids]]
        case .modality(let q, let k): return ["modality": ["query": q.rawValue, "key": k.rawValue]]
        case .and(let a, let b): return ["and": [a.jsonObject, b.jsonObject]]
        case .or(let a, let b): return ["or": [a.jsonObject, b.jsonObject]]
        case .not(let a): return ["not": a.jsonObject]
        case .custom(let p): return ["script": ["name": p.name]]
        }
    }

    /// The mask this JSON text encodes. The text is untrusted: anything else, or a mask taller
    /// than `maxDepth`, is a `TensorGraphError` naming the offending part.
    public init(json text: String, predicates: (String) throws -> MaskPredicate = Mask.noPredicates) throws {
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) } catch {
            throw TensorGraphError("mask JSON is not JSON: \(error.localizedDescription)")
        }
        self = try Mask(jsonObject: value, depth: 1, predicates: predicates)
    }

    /// Reads a checkpoint's "mask" entry: JSON (written since masks became data) or, in older
    /// checkpoints, the mask's text. `predicates` finds the script functions it names.
    public init(saved text: String, predicates: (String) throws -> MaskPredicate = Mask.noPredicates) throws {
        if text.drop(while: \.isWhitespace).first == "{" { try self.init(json: text, predicates: predicates) } else { try self.init(parsing: text) }
    }

    /// Where no script functions are defined (a plain reader): a script mask is refused by name.
    public static func noPredicates(_ name: String) throws -> MaskPredicate {
        throw TensorGraphError("the mask uses the script function '\(name)', which only a session that defines it can evaluate")
    }

    private init(jsonObject value: Any, depth: Int, predicates: (String) throws -> MaskPredicate) throws {
        guard depth <= Mask.maxDepth else { throw TensorGraphError("mask JSON nested too deeply (limit \(Mask.maxDepth))") }
        guard let object = value as? [String: Any], object.count == 1, let (kind, body) = object.first else {
            throw TensorGraphError("mask JSON: each mask must be an object with one key (its kind), got \(Self.shown(value))")
        }
        func fields(_ names: Set<String>) throws -> [String: Any] {
            guard let f = body as? [String: Any], Set(f.keys) == names else {
                let listed = names.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                throw TensorGraphError("mask JSON: \"\(kind)\" takes an object with \(names.isEmpty ? "no fields" : "exactly " + listed), got \(Self.shown(body))")
            }
            return f
        }
        func parts() throws -> [Mask] {
            guard let list = body as? [Any], list.count >= 2 else {
                throw TensorGraphError("mask JSON: \"\(kind)\" takes a list of at least two masks, got \(Self.shown(body))")
            }
            return try list.map { try Mask(jsonObject: $0, depth: depth + 1, predicates: predicates) }
        }
        func size(_ f: [String: Any]) throws -> Int {
            guard let n = f["n"] as? Int, (1...Mask.maxSize).contains(n) else {
                throw TensorGraphError("mask JSON: \"\(kind)\"'s n must be an integer from 1 to \(Mask.maxSize), got \(Self.shown(f["n"] ?? "nothing"))")
            }
            return n
        }
        func modality(_ f: [String: Any], _ key: String) throws -> Modality {
            guard let s = f[key] as? String, let m = Modality(rawValue: s) else {
                throw TensorGraphError("mask JSON: \"modality\"'s \(key) must be \"text\" or \"image\", got \(Self.shown(f[key] ?? "nothing"))")
            }
            return m
        }
        switch kind {
        case "bidirectional": _ = try fields([]); self = .full
        case "nothing": _ = try fields([]); self = .none
        case "causal": _ = try fields([]); self = .causal
        case "same_image": _ = try fields([]); self = .sameImage
        case "same_document": _ = try fields([]); self = .sameDocument
        case "prefix": self = .prefix(try size(try fields(["n"])))
        case "window": self = .window(try size(try fields(["n"])))
        case "document":
            guard let ids = try fields(["ids"])["ids"] as? [Int] else {
                throw TensorGraphError("mask JSON: \"document\"'s ids must be a list of integers")
            }
            self = .documents(ids)
        case "modality":
            let f = try fields(["query", "key"])
            self = .modality(query: try modality(f, "query"), key: try modality(f, "key"))
        case "and", "or":
            let list = try parts(), n = list.count
            // Folded from the left, part i ends up under n − max(i, 1) combinators: check first.
            let folded = list.enumerated().map { $1.height + n - Swift.max($0, 1) }.max()!
            guard folded <= Mask.maxDepth else { throw TensorGraphError("mask JSON nested too deeply (limit \(Mask.maxDepth))") }
            self = list.dropFirst().reduce(list[0]) { kind == "and" ? .and($0, $1) : .or($0, $1) }
        case "not": self = .not(try Mask(jsonObject: body, depth: depth + 1, predicates: predicates))
        case "script":
            guard let name = try fields(["name"])["name"] as? String, !name.isEmpty else {
                throw TensorGraphError("mask JSON: \"script\"'s name must be a function's name")
            }
            self = .custom(try predicates(name))
        default:
            throw TensorGraphError("mask JSON: unknown kind \"\(kind)\" (kinds: bidirectional, nothing, causal, same_image, same_document, prefix, window, document, modality, and, or, not, script)")
        }
    }

    /// A JSON value as an error shows it: short.
    private static func shown(_ value: Any) -> String {
        let text: String
        if JSONSerialization.isValidJSONObject([value]), let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]) {
            text = String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
        } else {
            text = "\(value)"
        }
        return text.count > 60 ? String(text.prefix(60)) + "…" : text
    }
}
