import TensorGraph

/// An attention mask as data: a predicate over (query, key) positions of a layout, built from
/// primitives and combined with | & ~ (FlexAttention's idea, but inspectable). It prints
/// symbolically, simplifies trivial cases, and evaluates to a dense matrix or a tile table.
public indirect enum Mask: Hashable, Sendable, CustomStringConvertible {
    case full                     // every key
    case none                     // no key
    case causal                   // key ≤ query
    case sameImage                // both are patches of the same image (bidirectional inside it)
    case prefix(Int)              // key < n: a bidirectional prefix (with causal: prefix-LM)
    case window(Int)              // |query − key| < n (with causal: a sliding window)
    case sameDocument             // query and key in the same document of the layout
    case documents([Int])         // the same id in this per-position list
    case modality(query: Modality, key: Modality)  // e.g. image queries on text keys
    case custom(MaskPredicate)    // a script function, evaluated once per layout
    case and(Mask, Mask)
    case or(Mask, Mask)
    case not(Mask)

    public enum Modality: String, Hashable, Sendable { case text, image }

    /// The paper's mask: causal over the sequence, bidirectional inside each image.
    public static let transfusion: Mask = .causal | .sameImage

    public static func | (a: Mask, b: Mask) -> Mask { Mask.or(a, b).simplified }
    public static func & (a: Mask, b: Mask) -> Mask { Mask.and(a, b).simplified }
    public static prefix func ~ (a: Mask) -> Mask { Mask.not(a).simplified }

    /// Removes what cannot matter: x | full = full, x & none = none, ~~x = x, x | x = x …
    public var simplified: Mask {
        switch self {
        case .or(let a, let b):
            let (a, b) = (a.simplified, b.simplified)
            if a == .full || b == .full { return .full }
            if a == .none { return b }
            if b == .none || a == b { return a }
            return .or(a, b)
        case .and(let a, let b):
            let (a, b) = (a.simplified, b.simplified)
            if a == .none || b == .none { return .none }
            if a == .full { return b }
            if b == .full || a == b { return a }
            return .and(a, b)
        case .not(let a):
            switch a.simplified {
            case .full: return .none
            case .none: return .full
            case .not(let inner): return inner
            case let s: return .not(s)
            }
        default: return self
        }
    }

    /// Whether `query` may attend to `key` in `layout`, with each script predicate's matrix of
    /// `layout` already at hand (`allowed(queries:keys:in:)` evaluates them once per layout).
    func allows(_ q: Int, _ k: Int, in layout: SequenceLayout, _ custom: [ObjectIdentifier: [Bool]]) -> Bool {
        switch self {
        case .full: return true
        case .none: return false
        case .causal: return k <= q
        case .sameImage:
            let a = layout[q], b = layout[k]
            return a.kind == .patch && b.kind == .patch && a.image == b.image
        case .prefix(let n): return k < n
        case .window(let n): return abs(q - k) < n
        case .sameDocument: return layout[q].document == layout[k].document
        case .documents(let ids): return q < ids.count && k < ids.count && ids[q] == ids[k]
        case .modality(let mq, let mk): return Self.modality(layout[q].kind) == mq && Self.modality(layout[k].kind) == mk
        case .custom(let p): return custom[ObjectIdentifier(p)]![q * layout.count + k]
        case .and(let a, let b): return a.allows(q, k, in: layout, custom) && b.allows(q, k, in: layout, custom)
        case .or(let a, let b): return a.allows(q, k, in: layout, custom) || b.allows(q, k, in: layout, custom)
        case .not(let a): return !a.allows(q, k, in: layout, custom)
        }
    }

    static func modality(_ kind: TokenKind) -> Modality { kind == .patch ? .image : .text }

    // MARK: printing

    public var description: String { render(parent: 0) }

    /// Precedence as in the language: ~ binds tighter than &, which binds tighter than |.
    private func render(parent: Int) -> String {
        func wrap(_ s: String, _ mine: Int) -> String { mine < parent ? "(\(s))" : s }
        switch self {
        case .full: return "bidirectional"
        case .none: return "nothing"
        case .causal: return "causal"
        case .sameImage: return "same_image"
        case .prefix(let n): return "prefix(\(n))"
        case .window(let n): return "window(\(n))"
        case .sameDocument: return "same_document"
        case .documents(let ids): return "document(\(ids.count > 8 ? "\(ids.prefix(8))…" : "\(ids)"))"
        case .modality(let q, let k): return "\(q.rawValue)_to_\(k.rawValue)"
        case .custom(let p): return p.name
        case .or(let a, let b): return wrap("\(a.render(parent: 1)) | \(b.render(parent: 1))", 1)
        case .and(let a, let b): return wrap("\(a.render(parent: 2)) & \(b.render(parent: 2))", 2)
        case .not(let a): return "~" + a.render(parent: 3)
        }
    }
}
