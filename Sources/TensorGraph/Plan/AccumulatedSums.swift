/// Sums computed in their terms' own kernels: a residual add `x + h·W`, a gradient that is the
/// sum of several products' contributions (`dq·Wqᵀ + dk·Wkᵀ + dv·Wvᵀ`), or the residual
/// stream's gradient plus RMSNorm's dx, runs as one kernel that writes the other terms into the
/// output and then lets each accumulating kernel add its result into it (a product is sgemm
/// with beta = 1). Neither those kernels' own results nor the add pass over memory exist any
/// more, and sgemm skips the pass that zeroes C for beta = 0.
///
/// Only terms used by that sum alone (and not asked for as outputs) are taken in, and only
/// sums of same-shaped terms (no broadcast). The order of the additions differs from kernel
/// then add, so the last bits can differ from the unfused graph; for one graph they are the
/// same for any thread count (each kernel's split depends only on its shape).

/// An op whose kernel can add its result to what its output holds instead of overwriting it
/// (inside a sum it runs without scratch memory).
protocol Accumulating: Operation {
    /// Whether this node's kernel can accumulate (an op may for some of its forms only).
    func accumulates(_ node: Node) -> Bool
    /// The kernel: output = result (accumulate false) or output + result (true).
    func run(_ k: Kernel, accumulate: Bool)
}

/// For each elementwise root whose fused group is a sum of accumulating kernels' results and
/// other terms: the accumulating nodes computed inside its kernel, in the sum's order.
func accumulatedSums(_ order: [Node], groups: [Node: [Node]], outputs: Set<Node>, enabled: Bool) -> [Node: [Node]] {
    guard enabled else { return [:] }
    var uses: [Node: Int] = [:]
    for node in order { for input in node.inputs { uses[input, default: 0] += 1 } }
    var result: [Node: [Node]] = [:]
    for (root, members) in groups {
        guard members.allSatisfy({ ($0.op as? Binary)?.kind == .add && $0.inputs.allSatisfy { $0.shape == root.shape } })
        else { continue }
        let inside = Set(members)
        let taken = members.flatMap(\.inputs).filter { x in
            !inside.contains(x) && (x.op as? any Accumulating)?.accumulates(x) == true && uses[x] == 1 && !outputs.contains(x)
        }
        if !taken.isEmpty { result[root] = taken }
    }
    return result
}

/// One sum of accumulating kernels' results and other terms, its pointers resolved at plan time.
final class AccumulatedSumKernel {
    let terms: [UnsafeMutablePointer<Float>]     // the operands that are not computed inside
    let kernels: [(any Accumulating, Kernel)]    // each writing into `output`
    let output: UnsafeMutablePointer<Float>
    let count: Int

    init(terms: [UnsafeMutablePointer<Float>], kernels: [(any Accumulating, Kernel)], output: UnsafeMutablePointer<Float>, count: Int) {
        (self.terms, self.kernels, self.output, self.count) = (terms, kernels, output, count)
    }

    func run() {
        var accumulate = !terms.isEmpty
        if accumulate { writeTerms() }
        for (op, k) in kernels {
            op.run(k, accumulate: accumulate)
            accumulate = true
        }
    }

    /// output = terms[0] + terms[1] + …, in that order for every value (a copy for one term).
    private func writeTerms() {
        let terms = terms, output = output
        Parallel.chunks(count, work: count * terms.count) { range in
            let n = range.count, out = output + range.lowerBound
            out.update(from: terms[0] + range.lowerBound, count: n)
            for t in terms.dropFirst() {
                VectorMath.map(UnsafePointer(out), UnsafePointer(t + range.lowerBound), out, n) { $0 + $1 }
            }
        }
    }
}
