import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TensorGraph
@testable import Visual

/// Small graphs to draw.
enum Graphs {
    static func param(_ shape: [Int], _ name: String, seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        let n = shape.reduce(1, *)
        return .parameter(TensorData(shape: shape, values: rng.normal(n).map { $0 * 0.1 }), name: name)
    }

    /// A two-layer MLP: relu(x W1 + b1) W2 + b2, mean-squared against a target.
    static func mlp() throws -> (x: Tensor, params: [Tensor], loss: Tensor) {
        let x = Tensor.input("x", [4, 3])
        let target = Tensor.input("target", [4, 2])
        let w1 = param([3, 5], "mlp.fc1.weight", seed: 1), b1 = param([5], "mlp.fc1.bias", seed: 2)
        let w2 = param([5, 2], "mlp.fc2.weight", seed: 3), b2 = param([2], "mlp.fc2.bias", seed: 4)
        let h = try (x.matmul(w1) + b1).relu()
        let y = try h.matmul(w2) + b2
        let loss = try ((y - target).square()).mean()
        return (x, [w1, b1, w2, b2], loss)
    }

    /// One causal attention head: softmax(q kᵀ·scale + mask) v, then a squared-output loss.
    static func attention() throws -> (params: [Tensor], loss: Tensor) {
        let (t, d) = (4, 8)
        let x = Tensor.input("x", [t, d])
        let wq = param([d, d], "block0.attn.wq", seed: 1)
        let wk = param([d, d], "block0.attn.wk", seed: 2)
        let wv = param([d, d], "block0.attn.wv", seed: 3)
        let wo = param([d, d], "block0.attn.wo", seed: 4)
        var mask = [Float](repeating: 0, count: t * t)
        for i in 0..<t { for j in 0..<t where j > i { mask[i * t + j] = -1e9 } }
        let m = Tensor.constant(TensorData(shape: [t, t], values: mask))
        let q = try x.matmul(wq), k = try x.matmul(wk), v = try x.matmul(wv)
        let scores = try q.matmul(k, transB: true) * (1 / Float(d).squareRoot()) + m
        let out = try scores.softmax().matmul(v).matmul(wo)
        let loss = try (out * out).mean()
        return ([wq, wk, wv, wo], loss)
    }
}

@Suite struct GraphDOTTests {
    @Test func mlpHasNodesColoursAndClusters() throws {
        let (_, params, loss) = try Graphs.mlp()
        let dot = GraphDOT.graph([loss])
        #expect(dot.hasPrefix("digraph \"graph\" {"))
        #expect(dot.hasSuffix("}\n"))
        // Every op and leaf appears with its label and shape.
        #expect(dot.contains("label=\"matmul\\n[4, 5]\""))
        #expect(dot.contains("label=\"relu\\n[4, 5]\""))
        #expect(dot.contains("label=\"param\\n[3, 5]\\n'mlp.fc1.weight'\""))
        #expect(dot.contains("label=\"input\\n[4, 3]\\n'x'\""))
        for p in params { #expect(dot.contains("'\(p.node.name!)'")) }
        // Colours by kind.
        let paramLine = try #require(dot.split(separator: "\n").first { $0.contains("'mlp.fc1.weight'") })
        #expect(paramLine.contains("fillcolor=\"\(GraphDOT.Palette.parameter.fill)\""))
        let inputLine = try #require(dot.split(separator: "\n").first { $0.contains("'target'") })
        #expect(inputLine.contains("fillcolor=\"\(GraphDOT.Palette.input.fill)\""))
        // mean = sum · (1/n): the output is a scalar product.
        let outputLine = try #require(dot.split(separator: "\n").first { $0.contains("label=\"×\\n[]\"") })
        #expect(outputLine.contains("fillcolor=\"\(GraphDOT.Palette.output.fill)\""))
        #expect(outputLine.contains("penwidth=2"))
        let reluLine = try #require(dot.split(separator: "\n").first { $0.contains("label=\"relu") })
        #expect(reluLine.contains("fillcolor=\"\(GraphDOT.Palette.op.fill)\""))
        // Nested clusters from the dotted names.
        #expect(dot.contains("subgraph \"cluster_mlp\" {"))
        #expect(dot.contains("subgraph \"cluster_mlp_fc1\" {"))
        #expect(dot.contains("subgraph \"cluster_mlp_fc2\" {"))
        #expect(dot.contains("label=\"fc1\";"))
        // fc1 is inside mlp: its opening line comes after mlp's and is indented deeper.
        let mlp = try #require(dot.range(of: "subgraph \"cluster_mlp\" {"))
        let fc1 = try #require(dot.range(of: "subgraph \"cluster_mlp_fc1\" {"))
        #expect(mlp.lowerBound < fc1.lowerBound)
        #expect(dot.contains("\n    subgraph \"cluster_mlp_fc1\" {"))
        // The legend lists each kind with its colour.
        #expect(dot.contains("subgraph \"cluster_legend\" {"))
        for kind in [GraphDOT.Kind.parameter, .input, .constant, .op, .output] {
            #expect(dot.contains("\"legend_\(kind.rawValue)\" [fillcolor=\"\(GraphDOT.Palette.style(kind).fill)\""))
        }
        #expect(!dot.contains("legend_gradient"))
        // Inputs of non-commutative ops are numbered, those of + and × are not.
        #expect(dot.contains("xlabel=\"1\""))
        let numbered = dot.split(separator: "\n").filter { $0.contains("xlabel") }.count
        #expect(numbered == 2 * 3)   // two matmuls and the subtraction
        // Beside the edge, not as a head label (which Graphviz puts on the arrowhead).
        #expect(!dot.contains("headlabel"))
    }

    @Test func outputIsDeterministic() throws {
        let a = GraphDOT.graph([try Graphs.mlp().loss])
        let b = GraphDOT.graph([try Graphs.mlp().loss])   // new nodes, new ids
        #expect(a == b)
        let p1 = GraphDOT.plan(try Plan([try Graphs.attention().loss.node]))
        let p2 = GraphDOT.plan(try Plan([try Graphs.attention().loss.node]))
        #expect(p1 == p2)
    }

    @Test func callerClusteringAndPropagation() throws {
        let (_, _, loss) = try Graphs.mlp()
        let custom = GraphDOT.graph([loss], cluster: { $0.isLeaf ? nil : ["compute", $0.op.label] })
        #expect(custom.contains("subgraph \"cluster_compute\" {"))
        #expect(custom.contains("subgraph \"cluster_compute_matmul\" {"))
        #expect(!custom.contains("cluster_mlp"))

        // Propagation puts x @ W1 (+ b1, relu) into mlp › fc1.
        let propagated = GraphDOT.graph([loss], cluster: GraphDOT.propagated([loss.node]))
        let start = try #require(propagated.range(of: "subgraph \"cluster_mlp_fc1\" {"))
        let end = try #require(propagated.range(of: "subgraph \"cluster_mlp_fc2\" {"))
        let fc1 = propagated[start.upperBound..<end.lowerBound]
        #expect(fc1.contains("label=\"matmul\\n[4, 5]\""))
        #expect(fc1.contains("label=\"relu\\n[4, 5]\""))
    }

    @Test func backwardGraphMarksGradientOps() throws {
        let (params, loss) = try Graphs.attention()
        let grads = try loss.gradients(wrt: params)
        let dot = GraphDOT.backward(loss: loss, gradients: grads, wrt: params)
        #expect(dot.contains("fillcolor=\"\(GraphDOT.Palette.gradient.fill)\""))
        for p in params { #expect(dot.contains("\\n∂ \(p.node.name!)\"")) }
        #expect(dot.contains("\"legend_gradient\""))
        #expect(dot.contains("subgraph \"cluster_block0_attn\" {"))
        let softmaxLine = try #require(dot.split(separator: "\n").first { $0.contains("label=\"softmax") })
        #expect(softmaxLine.contains("fillcolor=\"\(GraphDOT.Palette.op.fill)\""))
    }

    @Test func labelsAreEscaped() throws {
        #expect(GraphDOT.quote("a\"b\\c\nd") == "\"a\\\"b\\\\c\\nd\"")
        #expect(GraphDOT.quote("x\ny", leftAligned: true) == "\"x\\ly\\l\"")
        #expect(GraphDOT.quote("tab\there\u{1}") == "\"tab here\"")
        // A hostile name still yields DOT that Graphviz parses.
        let p = Graphs.param([2, 2], "evil\"name\\\n}{.x", seed: 9)
        let dot = GraphDOT.graph([try p.sum()])
        let svg = try GraphvizRenderer.svg(dot)
        #expect(svg.contains("evil&quot;name\\"))
    }

    @Test func planViewListsFusedSteps() throws {
        let (_, _, loss) = try Graphs.mlp()
        let plan = try Plan([loss.node])
        let dot = GraphDOT.plan(plan)
        #expect(dot.hasPrefix("digraph \"plan\" {"))
        #expect(dot.contains("peak \(GraphDOT.formatBytes(plan.peakBytes))"))
        #expect(dot.contains("\(plan.steps.count) kernels"))
        for i in plan.steps.indices { #expect(dot.contains("s\(i) [")) }
        let fused = plan.steps.filter { $0.members.count > 1 }
        #expect(!fused.isEmpty)
        if let f = fused.first {
            #expect(dot.contains("fused ×\(f.members.count)"))
            for m in f.members { #expect(dot.contains("\\l  \(m.op.label)")) }
        }
        #expect(dot.contains(GraphDOT.formatBytes(4 * 4 * 5)))   // the [4, 5] hidden layer
        #expect(dot.contains("\"legend_fused\""))
        _ = try GraphvizRenderer.svg(dot)   // it renders
    }

    @Test func bytesAreReadable() {
        #expect(GraphDOT.formatBytes(12) == "12 B")
        #expect(GraphDOT.formatBytes(1536) == "1.5 KiB")
        #expect(GraphDOT.formatBytes(3 * 1024 * 1024) == "3.0 MiB")
    }
}

@Suite struct GraphvizRendererTests {
    @Test func attentionBackwardAsSVG() throws {
        let (params, loss) = try Graphs.attention()
        let grads = try loss.gradients(wrt: params)
        let dot = GraphDOT.backward(loss: loss.node, gradients: grads.map(\.node))
        let svg = try GraphvizRenderer.svg(dot)
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains("<svg"))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.contains(">matmul</text>"))
        #expect(svg.contains(">matmul·ᵀ</text>"))
        #expect(svg.contains(">softmax</text>"))
        for name in ["block0.attn.wq", "block0.attn.wk", "block0.attn.wv", "block0.attn.wo"] {
            #expect(svg.contains(">&#39;\(name)&#39;</text>") || svg.contains(">'\(name)'</text>"))
        }
        #expect(svg.contains("<title>cluster_block0_attn</title>"))
        #expect(svg.contains(GraphDOT.Palette.gradient.fill))
        // The XML parses.
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse())
    }

    @Test func pngHasSignature() throws {
        let (_, _, loss) = try Graphs.mlp()
        let png = try GraphvizRenderer.png(GraphDOT.graph([loss]))
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(png.count > 1000)
    }

    @Test func bothContextKindsRender() throws {
        let dot = "digraph { a -> b }"
        for kind in [GraphvizRenderer.ContextKind.standard, .plugins] {
            let svg = try GraphvizRenderer.render(dot, format: .svg, layout: "dot", context: kind)
            #expect(String(decoding: svg, as: UTF8.self).contains("<svg"))
            let png = try GraphvizRenderer.render(dot, format: .png, layout: "dot", context: kind)
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
    }

    @Test func malformedDOTThrowsAndLaterRendersWork() throws {
        for bad in ["digraph { a -> }", "not dot at all {{{", "digraph { a [label=\"x] }", ""] {
            #expect(throws: GraphvizError.self) { try GraphvizRenderer.svg(bad) }
        }
        do {
            _ = try GraphvizRenderer.svg("digraph { a -> ; }")
            Issue.record("expected an error")
        } catch let error as GraphvizError {
            #expect(error.message.hasPrefix("invalid DOT"))
            // Graphviz's line counter is global and survives earlier failed parses: check the rest.
            #expect(error.message.contains("syntax error in line") && error.message.hasSuffix("near ';'"))
        }
        // The parser recovers: a good graph right after a bad one renders.
        #expect(try GraphvizRenderer.svg("digraph { a -> b }").contains("<svg"))
    }

    @Test func unknownLayoutThrows() {
        #expect(throws: GraphvizError.self) {
            try GraphvizRenderer.render("digraph { a -> b }", format: .svg, layout: "no-such-engine")
        }
    }

    @Test func writesByExtension() throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("tfs-visual-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let dot = GraphDOT.graph([try Graphs.mlp().loss])
        try GraphvizRenderer.write(dot, to: dir.appendingPathComponent("g.svg").path)
        try GraphvizRenderer.write(dot, to: dir.appendingPathComponent("sub/g.png").path)
        try GraphvizRenderer.write(dot, to: dir.appendingPathComponent("g.dot").path)
        let svg = try String(contentsOf: dir.appendingPathComponent("g.svg"), encoding: .utf8)
        #expect(svg.contains("<svg"))
        let png = try Data(contentsOf: dir.appendingPathComponent("sub/g.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(try String(contentsOf: dir.appendingPathComponent("g.dot"), encoding: .utf8) == dot)
        #expect(throws: GraphvizError.self) {
            try GraphvizRenderer.write(dot, to: dir.appendingPathComponent("g.jpeg2000").path)
        }
    }

    @Test func pdfRenders() throws {
        let pdf = try GraphvizRenderer.render("digraph { a -> b }", format: .pdf)
        #expect(pdf.starts(with: Array("%PDF".utf8)))
    }
}

/// Every kind of drawing renders to DOT, SVG and PNG files. `TFS_VISUAL_DUMP=dir swift test
/// --filter VisualTests` keeps them there for a look by eye; otherwise they go to a temporary
/// folder, checked, and removed.
@Suite struct Dump {
    @Test func everyDrawingRendersToFiles() throws {
        let keep = ProcessInfo.processInfo.environment["TFS_VISUAL_DUMP"]
        let dir = keep ?? FileManager.default.temporaryDirectory.appendingPathComponent("tfs-drawings-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let (_, _, mlpLoss) = try Graphs.mlp()
        let (params, loss) = try Graphs.attention()
        let grads = try loss.gradients(wrt: params)
        let drawings = [
            ("mlp", GraphDOT.graph([mlpLoss])),
            ("mlp-propagated", GraphDOT.graph([mlpLoss], cluster: GraphDOT.propagated([mlpLoss.node]))),
            ("mlp-plan", GraphDOT.plan(try Plan([mlpLoss.node]))),
            ("attention-backward", GraphDOT.backward(loss: loss, gradients: grads, wrt: params,
                                                     cluster: GraphDOT.propagated([loss.node]))),
            ("attention-backward-plan", GraphDOT.plan(try Plan([loss.node] + grads.map(\.node)),
                                                      forward: Set(topologicalOrder([loss.node])))),
        ]
        for (name, dot) in drawings {
            for ext in ["dot", "svg", "png"] {
                let path = "\(dir)/\(name).\(ext)"
                try GraphvizRenderer.write(dot, to: path)
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                switch ext {
                case "dot": #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("digraph"), "\(path)")
                case "svg": #expect(String(decoding: bytes, as: UTF8.self).contains("<svg"), "\(path)")
                default: #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(path)")
                }
            }
        }
    }
}
