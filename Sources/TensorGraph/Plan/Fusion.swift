/// Elementwise fusion: a chain (or tree) of elementwise nodes whose intermediate values are
/// used nowhere else runs as one kernel. It walks the output in blocks that stay in cache and
/// applies every member op to the block, so intermediates never touch main memory.

/// Which elementwise nodes are computed inside the kernel of another (their consumer).
func fusionGroups(_ order: [Node], outputs: Set<Node>, enabled: Bool) -> [Node: [Node]] {
    var uses: [Node: Int] = [:]
    for node in order { for input in node.inputs { uses[input, default: 0] += 1 } }
    var absorbedInto: [Node: Node] = [:]
    var groups: [Node: [Node]] = [:]
    for node in order.reversed() where node.op is any Elementwise {
        let root = absorbedInto[node] ?? node
        groups[root, default: []].append(node)
        guard enabled else { continue }
        for input in node.inputs where input.op is any Elementwise
            && input.shape == node.shape && uses[input] == 1 && !outputs.contains(input) {
            absorbedInto[input] = root
        }
    }
    // Members in execution order: inputs before users.
    return groups.mapValues { $0.reversed() }
}

/// Where a fused kernel reads one operand.
enum Source {
    case contiguous(UnsafeMutablePointer<Float>)                    // same shape as the output
    case splat(UnsafeMutablePointer<Float>)                         // a single value
    case strided(UnsafeMutablePointer<Float>, strides: [Int])       // broadcast
    case register(Int)                                              // a member's result
}

/// One fused elementwise kernel, its pointers resolved at plan time.
final class FusedKernel {
    static let block = 512
    let ops: [any Elementwise]
    let args: [[Source]]        // per member, up to three operands
    let output: UnsafeMutablePointer<Float>
    let shape: [Int]
    let count: Int
    let registers: Int          // one per member
    let members: [Node]

    init(members: [Node], output: UnsafeMutablePointer<Float>, operand: (Node) -> Source) {
        self.members = members
        self.ops = members.map { $0.op as! any Elementwise }
        let slot = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($1, $0) })
        self.args = members.map { node in node.inputs.map { slot[$0].map(Source.register) ?? operand($0) } }
        self.output = output
        self.shape = members.last!.shape
        self.count = Shape.count(shape)
        self.registers = members.count
    }

    /// Floats of per-thread scratch: member results plus gathered operands.
    var scratchPerThread: Int { (registers + 3 * registers) * FusedKernel.block }

    /// `scratch` holds `scratchPerThread` floats for each of `threads` workers.
    func run(scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let blocks = (count + FusedKernel.block - 1) / FusedKernel.block
        let perThread = scratchPerThread
        Parallel.pieces(blocks, work: count * ops.count * 4, maxPieces: threads) { piece, range in
            let regs = scratch + piece * perThread
            for b in range { runBlock(b, regs) }
        }
    }

    private func runBlock(_ b: Int, _ regs: UnsafeMutablePointer<Float>) {
        let bs = FusedKernel.block
        let start = b * bs, n = min(bs, count - start)
        let gather = regs + registers * bs
        for (m, op) in ops.enumerated() {
            let out = m == ops.count - 1 ? output + start : regs + m * bs
            var ptrs: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>) =
                (UnsafePointer(out), UnsafePointer(out), UnsafePointer(out))
            for (i, src) in args[m].enumerated() {
                let tmp = gather + (m * 3 + i) * bs
                let p: UnsafePointer<Float>
                switch src {
                case .contiguous(let base): p = UnsafePointer(base + start)
                case .register(let r): p = UnsafePointer(regs + r * bs)
                case .splat(let v): tmp.update(repeating: v.pointee, count: n); p = UnsafePointer(tmp)
                case .strided(let base, let strides): gatherBroadcast(base, strides, start, n, tmp); p = UnsafePointer(tmp)
                }
                switch i { case 0: ptrs.0 = p; case 1: ptrs.1 = p; default: ptrs.2 = p }
            }
            op.apply(ptrs.0, ptrs.1, ptrs.2, out, n)
        }
    }

    /// Reads `n` values of a broadcast operand for output positions start..<start+n.
    private func gatherBroadcast(_ base: UnsafeMutablePointer<Float>, _ strides: [Int], _ start: Int, _ n: Int,
                                 _ dst: UnsafeMutablePointer<Float>) {
        let rank = shape.count
        // The innermost axis is walked in runs; outer indices change once per run.
        let inner = shape[rank - 1], innerStride = strides[rank - 1]
        var i = 0, flat = start
        while i < n {
            var rest = flat / inner, pos = 0
            for d in stride(from: rank - 2, through: 0, by: -1) {
                pos += (rest % shape[d]) * strides[d]; rest /= shape[d]
            }
            let j0 = flat % inner, run = min(inner - j0, n - i)
            if innerStride == 0 { (dst + i).update(repeating: base[pos], count: run) }
            else { for j in 0..<run { dst[i + j] = base[pos + (j0 + j) * innerStride] } }
            i += run; flat += run
        }
    }
}
