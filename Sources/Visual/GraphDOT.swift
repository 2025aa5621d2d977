import TensorGraph

/// Graphviz DOT text for lazy graphs and plans.
///
/// Every node is one box showing its op label, its shape, and its name if it has one. Boxes are
/// coloured by kind (see `GraphDOT.Palette`, which the legend subgraph repeats), and grouped into
/// nested clusters by the dotted prefix of their names (`block0.attn.wq` sits in cluster `block0`
/// › `attn`) or by a caller's `cluster` function.
///
/// The text is deterministic: nodes are numbered `n0, n1, …` in id order (ids increase from inputs
/// to users), so drawing the same graph twice — even rebuilt from scratch — gives the same text.
public enum GraphDOT {

    // MARK: colours

    /// A box's fill and border colours (any Graphviz colour string).
    public struct Style: Hashable, Sendable {
        public var fill: String
        public var border: String
        public var penwidth: Double
        public init(fill: String, border: String, penwidth: Double = 1) {
            self.fill = fill; self.border = border; self.penwidth = penwidth
        }
    }

    /// What a box is, which decides its colour.
    public enum Kind: String, CaseIterable, Sendable {
        case parameter, input, constant, op, gradient, output
        case fused   // a plan step computing several elementwise ops in one kernel

        /// The legend's wording.
        public var title: String {
            switch self {
            case .parameter: return "parameter"
            case .input: return "input"
            case .constant: return "constant"
            case .op: return "op"
            case .gradient: return "gradient op"
            case .output: return "output"
            case .fused: return "fused kernel"
            }
        }
    }

    /// The documented colours (ColorBrewer pastels with a darker border of the same hue).
    ///
    /// | kind        | fill      | border    |
    /// |-------------|-----------|-----------|
    /// | parameter   | `#c7e9c0` | `#31a354` (green)          |
    /// | input       | `#c6dbef` | `#3182bd` (blue)           |
    /// | constant    | `#e5e5e5` | `#8c8c8c` (grey)           |
    /// | op          | `#ffffff` | `#525252` (white)          |
    /// | gradient op | `#fdd0a2` | `#e6550d` (orange)         |
    /// | output      | `#fcbba1` | `#cb181d` (red, thick)     |
    /// | fused step  | `#dadaeb` | `#756bb1` (purple, plans)  |
    public enum Palette {
        public static let parameter = Style(fill: "#c7e9c0", border: "#31a354")
        public static let input = Style(fill: "#c6dbef", border: "#3182bd")
        public static let constant = Style(fill: "#e5e5e5", border: "#8c8c8c")
        public static let op = Style(fill: "#ffffff", border: "#525252")
        public static let gradient = Style(fill: "#fdd0a2", border: "#e6550d")
        public static let output = Style(fill: "#fcbba1", border: "#cb181d", penwidth: 2)
        public static let fused = Style(fill: "#dadaeb", border: "#756bb1")
        public static let clusterBorder = "#969696"

        public static func style(_ kind: Kind) -> Style {
            switch kind {
            case .parameter: return parameter
            case .input: return input
            case .constant: return constant
            case .op: return op
            case .gradient: return gradient
            case .output: return output
            case .fused: return fused
            }
        }
    }

    /// A function giving the cluster path of a node (outermost first), or nil for none.
    public typealias Clustering = (Node) -> [String]?

    // MARK: clustering

    /// The default clustering: the dotted prefix of the node's name (`block0.attn.wq` →
    /// `["block0", "attn"]`); nodes without a name or without a dot are not clustered.
    public static func namePrefix(_ node: Node) -> [String]? {
        guard let name = node.name else { return nil }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return nil }
        let path = Array(parts.dropLast())
        return path.contains(where: \.isEmpty) ? nil : path
    }

    /// A clustering that also places unnamed op nodes: such a node goes into the deepest cluster
    /// shared by all of its inputs (after `base` has placed the named ones), so
    /// `x @ block0.attn.wq` joins `block0` › `attn` while a sum of two blocks' values joins
    /// neither. Leaves without a cluster (data inputs, constants, scalars) do not vote.
    public static func propagated(_ outputs: [Node], base: @escaping Clustering = namePrefix) -> Clustering {
        var paths: [Node: [String]] = [:]
        for node in topologicalOrder(outputs) {
            if let p = base(node) { paths[node] = p; continue }
            guard !node.isLeaf else { continue }
            // Unclustered leaves (data inputs, constants, scalars) abstain; an unclustered op
            // votes for the top level.
            let voters = node.inputs.filter { !$0.isLeaf || paths[$0] != nil }
            guard !voters.isEmpty else { continue }
            var common: [String]? = nil
            for v in voters {
                guard let p = paths[v] else { common = nil; break }
                common = common.map { commonPrefix($0, p) } ?? p
            }
            if let common, !common.isEmpty { paths[node] = common }
        }
        return { paths[$0] }
    }

    private static func commonPrefix(_ a: [String], _ b: [String]) -> [String] {
        Array(zip(a, b).prefix { $0 == $1 }.map(\.0))
    }

    // MARK: graphs

    /// The DOT text of the graph computing `outputs`.
    ///
    /// - Parameters:
    ///   - forward: when drawing a backward graph, the nodes of the forward graph; op nodes not in
    ///     it are coloured as gradient ops. Nil colours every op alike.
    ///   - cluster: the cluster path of a node; defaults to `namePrefix`.
    ///   - title: a caption under the drawing.
    ///   - legend: whether to add the colour legend.
    ///   - rankdir: `TB` (top to bottom) or `LR`.
    ///   - notes: an extra last line for some boxes (`∂ wq` under a gradient output).
    ///   - names: names for nodes that have none (the script variables holding them).
    public static func graph(_ outputs: [Node], forward: Set<Node>? = nil,
                             cluster: Clustering? = nil, title: String? = nil,
                             legend: Bool = true, rankdir: String = "TB",
                             notes: [Node: String] = [:], names: [Node: String] = [:]) -> String {
        // Topological order, not ids: shared nodes (hash-consed constants) may be older than the graph.
        let nodes = topologicalOrder(outputs)
        var ids: [Node: String] = [:]
        for (i, n) in nodes.enumerated() { ids[n] = "n\(i)" }
        let outputSet = Set(outputs)
        let clusterOf = cluster ?? namePrefix

        func kind(_ n: Node) -> Kind {
            if outputSet.contains(n) { return .output }
            if n.isParameter { return .parameter }
            if n.isInput { return .input }
            if n.isLeaf { return .constant }
            if let forward, !forward.contains(n) { return .gradient }
            return .op
        }

        var w = DOTWriter(name: "graph", rankdir: rankdir, title: title)
        var tree = ClusterTree()
        var kindsUsed = Set<Kind>()
        for n in nodes {
            let k = kind(n)
            kindsUsed.insert(k)
            var attrs = styleAttributes(Palette.style(k))
            attrs.append(("label", quote(nodeLabel(n, name: names[n]) + (notes[n].map { "\n" + $0 } ?? ""))))
            attrs.append(("tooltip", quote(tooltip(n))))
            if k == .constant && n.count == 1 { attrs.append(("fontsize", "10")) }
            tree.add(path: clusterOf(n) ?? [], line: "\(ids[n]!) [\(format(attrs))];")
        }
        tree.write(into: &w, prefix: "cluster")
        for n in nodes {
            for (slot, input) in n.inputs.enumerated() {
                var attrs: [(String, String)] = []
                // The operand's slot as an external label, which Graphviz places beside the edge
                // clear of nodes, arrowheads and other labels (a head label sits on the arrowhead,
                // and two converging edges' head labels collide).
                if n.inputs.count > 1 && !isCommutative(n) {
                    attrs += [("xlabel", quote("\(slot)")), ("fontcolor", quote("#737373"))]
                }
                w.line("\(ids[input]!) -> \(ids[n]!)" + (attrs.isEmpty ? ";" : " [\(format(attrs))];"))
            }
        }
        if legend {
            var kinds: [Kind] = [.parameter, .input, .constant, .op, .output]
            if forward != nil { kinds.insert(.gradient, at: 4) }
            for k in Kind.allCases where kindsUsed.contains(k) && !kinds.contains(k) { kinds.append(k) }
            w.legend(kinds)
        }
        return w.finish()
    }

    /// The DOT text of the graph computing `outputs`.
    public static func graph(_ outputs: [Tensor], forward: Set<Node>? = nil,
                             cluster: Clustering? = nil, title: String? = nil,
                             legend: Bool = true, rankdir: String = "TB", names: [Node: String] = [:]) -> String {
        graph(outputs.map(\.node), forward: forward, cluster: cluster, title: title,
              legend: legend, rankdir: rankdir, names: names)
    }

    /// The backward graph of `loss`: the loss and its `gradients` as outputs, forward ops in the
    /// op colour and the ops autodiff added in the gradient colour. With `wrt` (the nodes the
    /// gradients were taken with respect to, in the same order), each gradient output is
    /// captioned `∂ name`.
    public static func backward(loss: Node, gradients: [Node], wrt: [Node]? = nil,
                                cluster: Clustering? = nil, title: String? = nil,
                                legend: Bool = true, rankdir: String = "TB") -> String {
        var notes: [Node: String] = [:]
        if let wrt {
            for (g, x) in zip(gradients, wrt) where notes[g] == nil {
                notes[g] = "∂ " + (x.name ?? "\(x.op.label)\(Shape.describe(x.shape))")
            }
        }
        return graph([loss] + gradients, forward: Set(topologicalOrder([loss])), cluster: cluster,
                     title: title, legend: legend, rankdir: rankdir, notes: notes)
    }

    /// The backward graph of `loss` with respect to `wrt`.
    public static func backward(loss: Tensor, gradients: [Tensor], wrt: [Tensor]? = nil,
                                cluster: Clustering? = nil, title: String? = nil,
                                legend: Bool = true, rankdir: String = "TB") -> String {
        backward(loss: loss.node, gradients: gradients.map(\.node), wrt: wrt?.map(\.node),
                 cluster: cluster, title: title, legend: legend, rankdir: rankdir)
    }

    // MARK: plans

    /// The DOT text of a plan: one box per scheduled kernel, in execution order (`#0`, `#1`, …);
    /// a fused step lists its member ops; each box shows the bytes of its output buffer; the
    /// caption gives the arena's peak bytes. Leaves (parameters, inputs, constants) are drawn
    /// when `leaves` is true; scalar fills (fused in as literals) are not drawn. Views (reshape)
    /// are not kernels: edges go through them to the step or leaf owning the buffer.
    /// With `forward` (the forward graph's nodes), single-op steps computing gradients take the
    /// gradient colour.
    /// `names` names nodes that have none (the script variables holding them).
    public static func plan(_ plan: Plan, forward: Set<Node>? = nil, cluster: Clustering? = nil,
                            title: String? = nil, leaves: Bool = true, legend: Bool = true,
                            rankdir: String = "TB", names: [Node: String] = [:]) -> String {
        let clusterOf = cluster ?? namePrefix
        var producer: [Node: String] = [:]      // any node → the box that holds its value
        var membersOf: [Node: [Node]] = [:]
        for (i, step) in plan.steps.enumerated() {
            membersOf[step.node] = step.members
            for m in step.members { producer[m] = "s\(i)" }
        }
        func owner(_ n: Node) -> Node { n.op.isView && !n.inputs.isEmpty ? owner(n.inputs[0]) : n }
        let outputSet = Set(plan.outputs.map(owner))

        var w = DOTWriter(name: "plan", rankdir: rankdir,
                          title: (title.map { $0 + "\n" } ?? "")
                            + "\(plan.steps.count) kernels, peak \(formatBytes(plan.peakBytes))")
        var tree = ClusterTree()
        var kindsUsed = Set<Kind>()

        if leaves {
            let leafNodes = plan.order.filter { $0.isLeaf && !($0.op is Fill) }
            for (i, n) in leafNodes.enumerated() {
                let k: Kind = n.isParameter ? .parameter : n.isInput ? .input : .constant
                kindsUsed.insert(k)
                producer[n] = "l\(i)"
                var attrs = styleAttributes(Palette.style(k))
                attrs.append(("label", quote(nodeLabel(n, name: names[n]))))
                attrs.append(("tooltip", quote(tooltip(n))))
                tree.add(path: clusterOf(n) ?? [], line: "l\(i) [\(format(attrs))];")
            }
        }
        for (i, step) in plan.steps.enumerated() {
            let members = step.members
            let k: Kind = outputSet.contains(step.node) ? .output : members.count > 1 ? .fused
                : forward.map { $0.contains(step.node) ? .op : .gradient } ?? .op
            kindsUsed.insert(k)
            var lines = ["#\(i)  " + (members.count > 1 ? "fused ×\(members.count)" : step.node.op.label)]
            if members.count > 1 { lines += members.map { "  " + $0.op.label } }
            lines.append(Shape.describe(step.node.shape) + "  " + formatBytes(step.bytes))
            if let name = step.node.name ?? names[step.node] { lines.append("'\(name)'") }
            var style = Palette.style(k)
            if k == .output && members.count > 1 { style.fill = Palette.fused.fill }
            var attrs = styleAttributes(style)
            attrs.append(("label", quote(lines.joined(separator: "\n"), leftAligned: true)))
            attrs.append(("tooltip", quote(tooltip(step.node))))
            tree.add(path: clusterOf(step.node) ?? [], line: "s\(i) [\(format(attrs))];")
        }
        tree.write(into: &w, prefix: "cluster")

        for (i, step) in plan.steps.enumerated() {
            let inside = Set(step.members)
            var seen = Set<String>()
            for m in step.members {
                for x in m.inputs where !inside.contains(x) {
                    guard let from = producer[owner(x)], from != "s\(i)", !seen.contains(from) else { continue }
                    seen.insert(from)
                    w.line("\(from) -> s\(i);")
                }
            }
        }
        if legend {
            var kinds: [Kind] = []
            if leaves { kinds += [.parameter, .input, .constant] }
            kinds += forward == nil ? [.op, .fused, .output] : [.op, .gradient, .fused, .output]
            for k in Kind.allCases where kindsUsed.contains(k) && !kinds.contains(k) { kinds.append(k) }
            w.legend(kinds)
        }
        return w.finish()
    }

    // MARK: text

    /// `label\nshape\n'name'` for a node box; `name` stands in for a node without a name.
    public static func nodeLabel(_ n: Node, name other: String? = nil) -> String {
        var lines = [n.op.label, Shape.describe(n.shape)]
        if let name = n.name ?? other, !(n.isInput && name == n.op.label) { lines.append("'\(name)'") }
        return lines.joined(separator: "\n")
    }

    static func tooltip(_ n: Node) -> String {
        var s = "\(n.op.label) \(Shape.describe(n.shape))"
        if let name = n.name { s += " '\(name)'" }
        if let span = n.span { s += " at \(span)" }
        return s
    }

    /// A DOT double-quoted string: `"` and `\` escaped, line breaks written as DOT line breaks
    /// (`\n` centred, `\l` left-aligned), other control characters dropped.
    public static func quote(_ s: String, leftAligned: Bool = false) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += leftAligned ? "\\l" : "\\n"
            case "\r": continue
            case "\t": out += " "
            default:
                if ch.value < 0x20 || ch.value == 0x7f { continue }
                out.unicodeScalars.append(ch)
            }
        }
        if leftAligned && !s.isEmpty { out += "\\l" }
        return out + "\""
    }

    /// `1.5 KiB`, `12 B`, `3.0 MiB`.
    public static func formatBytes(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var v = Double(bytes) / 1024, u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[u])"
    }

    static func styleAttributes(_ s: Style) -> [(String, String)] {
        var a = [("fillcolor", quote(s.fill)), ("color", quote(s.border))]
        if s.penwidth != 1 { a.append(("penwidth", formatNumber(s.penwidth))) }
        return a
    }

    static func format(_ attrs: [(String, String)]) -> String {
        attrs.map { "\($0.0)=\($0.1)" }.joined(separator: ", ")
    }

    static func formatNumber(_ x: Double) -> String {
        x == x.rounded() ? String(Int(x)) : String(x)
    }

    static func isCommutative(_ n: Node) -> Bool {
        guard let b = n.op as? Binary else { return n.op is Select ? false : n.inputs.count < 2 }
        return [.add, .mul, .maximum, .minimum, .equal, .notEqual].contains(b.kind)
    }
}

/// Nested clusters built from paths, written in sorted path order.
struct ClusterTree {
    var lines: [String] = []
    var children: [String: ClusterTree] = [:]

    mutating func add(path: [String], line: String) {
        guard let first = path.first else { lines.append(line); return }
        children[first, default: ClusterTree()].add(path: Array(path.dropFirst()), line: line)
    }

    func write(into w: inout DOTWriter, prefix: String) {
        for line in lines { w.line(line) }
        for key in children.keys.sorted() {
            let id = prefix + "_" + key
            w.open("subgraph \(GraphDOT.quote(id)) {")
            w.line("label=\(GraphDOT.quote(key)); style=\"rounded,dashed\"; color=\(GraphDOT.quote(GraphDOT.Palette.clusterBorder)); fontcolor=\(GraphDOT.quote(GraphDOT.Palette.clusterBorder));")
            children[key]!.write(into: &w, prefix: id)
            w.close()
        }
    }
}

/// Indented DOT output with the common header, legend and footer.
struct DOTWriter {
    private var text = ""
    private var depth = 0

    init(name: String, rankdir: String, title: String?) {
        open("digraph \(GraphDOT.quote(name)) {")
        line("graph [rankdir=\(GraphDOT.quote(rankdir)), fontname=\"Helvetica\", fontsize=11, newrank=true"
             + (title.map { ", label=\(GraphDOT.quote($0)), labelloc=\"b\"" } ?? "") + "];")
        line("node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11, margin=\"0.12,0.04\"];")
        line("edge [color=\"#636363\", arrowsize=0.7, fontname=\"Helvetica\", fontsize=8];")
    }

    mutating func line(_ s: String) { text += String(repeating: "  ", count: depth) + s + "\n" }
    mutating func open(_ s: String) { line(s); depth += 1 }
    mutating func close() { depth -= 1; line("}") }

    mutating func legend(_ kinds: [GraphDOT.Kind]) {
        open("subgraph \"cluster_legend\" {")
        line("label=\"legend\"; style=\"rounded\"; color=\"#bdbdbd\"; fontcolor=\"#636363\";")
        for k in kinds {
            let attrs = GraphDOT.styleAttributes(GraphDOT.Palette.style(k))
                + [("label", GraphDOT.quote(k.title)), ("fontsize", "9")]
            line("\(GraphDOT.quote("legend_" + k.rawValue)) [\(GraphDOT.format(attrs))];")
        }
        // Invisible edges stack the legend entries.
        if kinds.count > 1 {
            line(kinds.map { GraphDOT.quote("legend_" + $0.rawValue) }.joined(separator: " -> ") + " [style=invis];")
        }
        close()
    }

    mutating func finish() -> String { close(); return text }
}
