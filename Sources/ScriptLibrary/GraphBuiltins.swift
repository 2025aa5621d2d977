import Script
import Transfusion
import TensorGraph
import Visual

/// Looking at the lazy graph: drawings (through Graphviz, as SVG outputs) and counts.
enum GraphBuiltins {
    static let all: [Builtin] = [
        Builtin("graph", "y, plan=False, title=None, length=8",
                help: "Draws the graph computing y (a tensor or a list of tensors) as an SVG output; plan=True draws the planned, fused kernels instead. For a model, draws its forward pass to the losses over one row of length positions, its weights labelled by name.",
                example: "x = param(randn([2, 3]))\ngraph(softmax(x @ ones([3, 2])))\ngraph(transfusion(dim=16, layers=1, heads=2))") { a in
            let outputs: [Tensor]
            var title = try a.optionalString("title")
            if case .object(let o) = a["y"], let model = o as? ModelValue {
                let length = try a.size("length", atMost: 4096)
                outputs = [try modelGraph(model, length: length)]
                title = title ?? "the model's forward pass and losses (1 row of \(length) positions)"
            } else {
                outputs = try tensors(a)
            }
            let dot: String
            if try a.bool("plan") {
                dot = GraphDOT.plan(try Plan(outputs.map(\.node)), title: title, names: a.interpreter.tensorVariableNames())
            } else {
                dot = GraphDOT.graph(outputs, title: title, names: a.interpreter.tensorVariableNames())
            }
            do {
                a.interpreter.emit(.svg(try GraphvizRenderer.svg(dot), caption: title))
            } catch let e as GraphvizError {
                throw RuntimeError("graph: Graphviz failed: \(e.message)")
            }
            return .none
        },
        Builtin("nodes", "y", help: "The number of graph nodes needed to compute y (a tensor or a list of tensors).",
                example: "nodes(ones([2]) * 2 + 1)") { a in
            .int(topologicalOrder(try tensors(a).map(\.node)).count)
        },
        Builtin("plan_stats", "y",
                help: "Facts about computing y: a dict with the graph's nodes, the planned kernels, and the peak bytes of intermediate buffers.",
                example: "plan_stats(softmax(randn([4, 4])))") { a in
            let plan = try Plan(try tensors(a).map(\.node))
            return .dict(DictRef([("nodes", .int(plan.nodeCount)), ("kernels", .int(plan.steps.count)),
                                  ("peak_bytes", .int(plan.peakBytes))]))
        },
    ]

    /// A model's loss over one row of `length` positions: its whole forward pass, as inputs feed it.
    private static func modelGraph(_ model: ModelValue, length: Int) throws -> Tensor {
        try RuntimeError.located {
            let inputs = try BatchInputs(batch: 1, length: length, config: model.model.config)
            return try model.model.losses(inputs, weights: model.loss).total
        }
    }

    private static func tensors(_ a: Arguments) throws -> [Tensor] {
        a["y"].sequence != nil ? try a.tensors("y") : [try a.tensor("y")]
    }
}
