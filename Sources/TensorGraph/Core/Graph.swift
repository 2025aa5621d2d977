import Foundation
import Synchronization

/// Builds nodes: runs the op's shape rule, attaches the current source span, and shares
/// identical nodes (same op, same inputs), which makes common subexpressions one node.
/// Thread-safe: graphs may be built from several tasks at once.
public enum Graph {
    private struct Key: Hashable {
        let op: AnyHashable
        let inputs: [ObjectIdentifier]
    }
    private final class Weak { weak var node: Node?; init(_ n: Node) { node = n } }

    /// The table of live nodes by (op, inputs), and the last node id given out.
    private struct Table: ~Copyable {
        var shared: [Key: Weak] = [:]
        var pruneAt = 4096
        var lastID = 0

        mutating func remember(_ node: Node, _ key: Key) {
            shared[key] = Weak(node)
            if shared.count > pruneAt {
                shared = shared.filter { $0.value.node != nil }
                pruneAt = max(4096, shared.count * 2)
            }
        }
    }
    private static let table = Mutex(Table())

    public static func make(_ op: any Operation, _ inputs: [Node], name: String? = nil) throws -> Node {
        let shape: [Int]
        do { shape = try op.shape(inputs.map(\.shape)) } catch var error as TensorGraphError {
            error.span = error.span ?? BuildContext.span ?? inputs.lazy.compactMap(\.span).first
            throw error
        }
        // Leaves hold memory their maker already sized (storages, fed inputs, checked fills).
        if !inputs.isEmpty { do { try MemoryLimit.check(shape: shape, "a tensor of shape \(Shape.describe(shape))") } catch var error as TensorGraphError {
            error.span = BuildContext.span ?? inputs.lazy.compactMap(\.span).first
            throw error
        } }
        let key = Key(op: AnyHashable(op), inputs: inputs.map(ObjectIdentifier.init))
        let span = BuildContext.span
        return table.withLock { t in
            if name == nil, let existing = t.shared[key]?.node { return existing }
            t.lastID += 1
            let node = Node(op: op, inputs: inputs, shape: shape, name: name, span: span, id: t.lastID)
            if name == nil { t.remember(node, key) }
            return node
        }
    }

    /// A leaf node (its shape rule returns its fixed shape and cannot fail).
    static func leaf(_ op: any LeafOperation) -> Node {
        guard let node = try? make(op, []) else { preconditionFailure("a leaf's shape rule failed") }
        return node
    }

    /// For gradient rules, whose shape rules should not fail given already-checked inputs: if
    /// one does, it is an internal error, thrown (autodiff adds where the node was made).
    static func build(_ op: any Operation, _ inputs: [Node]) throws -> Node {
        do { return try make(op, inputs) } catch {
            throw TensorGraphError("internal shape error in a gradient rule (\(op.label)): \(error)")
        }
    }
}
