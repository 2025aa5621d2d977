import Dispatch

/// A graph made ready to run many times: nodes in order, elementwise chains fused, every
/// intermediate given a place in one arena by lifetime, and kernels bound to their pointers.
/// `run()` then only calls kernels: no allocation, no graph walking, no shape logic.
public final class Plan {
    public enum StepKind {
        case fused(FusedKernelInfo)
        case kernel
    }
    /// One scheduled kernel, for drawing and reports.
    public struct StepInfo {
        public let node: Node          // the node whose value the step produces
        public let members: [Node]     // for a fused step, every node it computes
        public let bytes: Int          // output size
    }
    public struct FusedKernelInfo { public let count: Int }

    private enum Work {
        case fused(FusedKernel)
        case accumulatedSum(AccumulatedSumKernel)
        case kernel(any Operation, Kernel)
    }

    public let outputs: [Node]
    public let order: [Node]
    public private(set) var inputs: [Node] = []
    public private(set) var steps: [StepInfo] = []
    /// Bytes of the arena holding every intermediate value at its peak.
    public private(set) var peakBytes = 0
    public var nodeCount: Int { order.count }

    private var work: [Work] = []
    private var arena: UnsafeMutablePointer<Float>
    private var workerScratch: UnsafeMutablePointer<Float>
    private let scratchThreads: Int
    private var fills: [UnsafeMutablePointer<Float>] = []
    private var pointers: [Node: UnsafeMutablePointer<Float>] = [:]
    private let failures = RunFailure()

    /// Throws when its intermediate values would not fit in memory (`MemoryLimit`), before any
    /// of them is allocated: each tensor may fit while the plan's whole arena does not.
    public init(_ outputs: [Node], fuse: Bool = true) throws {
        self.outputs = outputs
        order = topologicalOrder(outputs)
        let groups = fusionGroups(order, outputs: Set(outputs), enabled: fuse)
        let sums = accumulatedSums(order, groups: groups, outputs: Set(outputs), enabled: fuse)
        let absorbed = Set(groups.flatMap { root, members in members.filter { $0 !== root } } + sums.values.joined())
        let scheduled = order.filter { !$0.isLeaf && !$0.op.isView && !absorbed.contains($0) }

        // Pass 1: offsets by lifetime.
        func owner(_ n: Node) -> Node { n.op.isView ? owner(n.inputs[0]) : n }
        func operands(_ n: Node) -> [Node] {
            guard let members = groups[n].map({ $0 + (sums[n] ?? []) }) else { return n.inputs }
            let inside = Set(members)
            return members.flatMap(\.inputs).filter { !inside.contains($0) }
        }
        var lastUse: [Node: Int] = [:]
        for (i, node) in scheduled.enumerated() { for x in operands(node) { lastUse[owner(x)] = i } }
        for out in outputs { lastUse[owner(out)] = Int.max }

        var alloc = ArenaAllocator()
        var offsets: [Node: Int] = [:]
        var scratchOffsets: [Int: Int] = [:]
        for node in order where node.isInput {
            offsets[node] = alloc.allocate(node.count)
            inputs.append(node)
        }
        var fusedScratch = 0
        for (i, node) in scheduled.enumerated() {
            offsets[node] = alloc.allocate(node.count)
            if groups[node] == nil {
                let s = node.op.scratch(node)
                if s > 0 { scratchOffsets[i] = alloc.allocate(s); alloc.release(scratchOffsets[i]!, s) }
            } else if sums[node] == nil {
                fusedScratch = max(fusedScratch, 4 * groups[node]!.count * FusedKernel.block)
            }
            // Inputs keep their buffers for the plan's life: a value fed once serves every run.
            for x in Set(operands(node).map(owner)) where lastUse[x] == i && offsets[x] != nil && !x.isInput {
                alloc.release(offsets[x]!, x.count)
            }
            if lastUse[node] == nil { alloc.release(offsets[node]!, node.count) }  // unused result
        }
        peakBytes = alloc.peak * 4
        let fillValues = order.reduce(0) { $0 + ($1.storage == nil && $1.op is Fill ? max($1.count, 1) : 0) }
        try MemoryLimit.check(values: alloc.peak + fillValues + fusedScratch * max(Parallel.threads, ProcessInfoCores.count),
                              "a plan of \(scheduled.count) kernels (its intermediate values at their peak)")
        arena = .allocate(capacity: max(alloc.peak, 1))
        arena.initialize(repeating: 0, count: max(alloc.peak, 1))
        scratchThreads = max(Parallel.threads, ProcessInfoCores.count)
        workerScratch = .allocate(capacity: max(fusedScratch * scratchThreads, 1))

        // Pass 2: bind pointers and kernels.
        for node in order {
            if let s = node.storage { pointers[node] = s.pointer }
            else if let fill = node.op as? Fill {
                let p = UnsafeMutablePointer<Float>.allocate(capacity: max(node.count, 1))
                p.initialize(repeating: fill.value, count: max(node.count, 1))
                fills.append(p); pointers[node] = p
            } else if let o = offsets[node] { pointers[node] = arena + o }
        }
        // In order, so a view of a view adds its offset to its input's.
        for node in order where node.op.isView { pointers[node] = pointers[node.inputs[0]]! + node.op.viewOffset(node) }
        for (i, node) in scheduled.enumerated() {
            let out = pointers[node]!
            if let taken = sums[node], let members = groups[node] {
                let inside = Set(members + taken)
                let terms = members.flatMap(\.inputs).filter { !inside.contains($0) }.map { pointers[$0]! }
                let kernels = taken.map { t in
                    (t.op as! any Accumulating, Kernel(node: t, inputs: t.inputs.map { pointers[$0]! }, output: out, scratch: nil, failures: failures))
                }
                work.append(.accumulatedSum(AccumulatedSumKernel(terms: terms, kernels: kernels, output: out, count: node.count)))
                steps.append(StepInfo(node: node, members: taken + members, bytes: node.count * 4))
            } else if let members = groups[node] {
                let kernel = FusedKernel(members: members, output: out) { self.source($0, for: node.shape) }
                work.append(.fused(kernel))
                steps.append(StepInfo(node: node, members: members, bytes: node.count * 4))
            } else {
                let k = Kernel(node: node, inputs: node.inputs.map { pointers[$0]! }, output: out,
                               scratch: scratchOffsets[i].map { arena + $0 }, failures: failures)
                work.append(.kernel(node.op, k))
                steps.append(StepInfo(node: node, members: [node], bytes: node.count * 4))
            }
        }
    }

    deinit {
        arena.deallocate(); workerScratch.deallocate()
        fills.forEach { $0.deallocate() }
    }

    private func source(_ n: Node, for shape: [Int]) -> Source {
        let p = pointers[n]!
        if n.shape == shape { return .contiguous(p) }
        if n.count == 1 { return .splat(p) }
        return .strided(p, strides: Shape.broadcastStrides(n.shape, to: shape))
    }

    // MARK: running

    /// Copies a value into an input of the graph.
    public func set(_ input: Node, _ data: TensorData) throws {
        guard let p = pointers[input], input.isInput else {
            throw TensorGraphError("\(input) is not an input of this plan")
        }
        guard data.shape == input.shape else {
            throw TensorGraphError("input '\(input.name ?? "?")' expects shape \(Shape.describe(input.shape)), got \(Shape.describe(data.shape))")
        }
        data.values.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: data.count) }
    }

    /// Direct access to an input's buffer (for feeding without a copy through `TensorData`).
    public func buffer(_ node: Node) -> UnsafeMutableBufferPointer<Float>? {
        pointers[node].map { UnsafeMutableBufferPointer(start: $0, count: node.count) }
    }

    /// Runs every kernel once with the inputs as they are now.
    /// Between kernels it asks `Cancellation.current`, and throws `Cancelled` (leaving the
    /// outputs undefined) once a stop is asked for.
    public func run() throws {
        _ = failures.take()
        let cancellation = Cancellation.current
        for (i, w) in work.enumerated() {
            try cancellation.check("evaluation", "after \(i) of \(work.count) kernels")
            switch w {
            case .fused(let f): f.run(scratch: workerScratch, threads: scratchThreads)
            case .accumulatedSum(let s): s.run()
            case .kernel(let op, let k): op.run(k)
            }
        }
        if let failure = failures.take() { throw failure }
    }

    /// Where a run's time goes: seconds per kind of kernel (fused elementwise kernels under
    /// "fused ×members", a lone elementwise op under its name), summed over `runs` runs with the
    /// inputs as they are, largest first. `byMembers` names each kernel by its ops and shapes
    /// instead (`swiglu[8, 128, 1376]`, a fused chain as its members in order).
    public func profile(runs: Int = 3, byMembers: Bool = false) throws -> [(kernel: String, seconds: Double, calls: Int)] {
        var total: [String: (Double, Int)] = [:]
        for _ in 0..<runs {
            for (i, w) in work.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                switch w {
                case .fused(let f): f.run(scratch: workerScratch, threads: scratchThreads)
                case .accumulatedSum(let s): s.run()
                case .kernel(let op, let k): op.run(k)
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                var key: String
                let members = steps[i].members
                if case .kernel(let op, _) = w { key = op.label }
                else if case .accumulatedSum = w { key = "sums computed in their terms' kernels (" + Set(members.filter { !($0.op is any Elementwise) }.map(\.op.label)).sorted().joined(separator: ", ") + " + …)" }
                else { key = members.count == 1 ? "\(members[0].op.label) (unfused)" : "fused ×\(members.count)" }
                if byMembers { key = members.map { "\($0.op.label)\(Shape.describe($0.shape))" }.joined(separator: " ") }
                total[key, default: (0, 0)].0 += seconds
                total[key, default: (0, 0)].1 += 1
            }
        }
        if let failure = failures.take() { throw failure }
        return total.map { ($0.key, $0.value.0 / Double(runs), $0.value.1 / runs) }.sorted { $0.seconds > $1.seconds }
    }

    /// Feeds, runs, and returns copies of the outputs.
    public func run(_ feeds: [Node: TensorData]) throws -> [TensorData] {
        for input in inputs {
            guard let value = feeds[input] else {
                throw TensorGraphError("input '\(input.name ?? "?")' was not given a value", span: input.span)
            }
            try set(input, value)
        }
        try run()
        return outputs.indices.map(output)
    }

    /// A copy of output `i` as it is after the last run.
    public func output(_ i: Int) -> TensorData {
        let n = outputs[i]
        return TensorData(shape: n.shape, values: Array(UnsafeBufferPointer(start: pointers[n]!, count: n.count)))
    }

    /// Output `i`'s buffer, valid until the next run (for optimizers: no copy).
    public func outputBuffer(_ i: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointers[outputs[i]]!, count: outputs[i].count)
    }

    /// The first value of output `i` (the loss of a training step), without copying.
    public func scalar(_ i: Int) -> Float { pointers[outputs[i]]!.pointee }
}

extension Tensor {
    /// Computes this tensor's value (plans and runs its graph once).
    public func realize(_ feeds: [Node: TensorData] = [:]) throws -> TensorData {
        try Plan([node]).run(feeds)[0]
    }
}
