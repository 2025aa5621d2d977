/// Sums of products computed in the products' own output: a residual add `x + h·W`, or a
/// gradient that is the sum of several products' contributions (`dq·Wqᵀ + dk·Wkᵀ + dv·Wvᵀ`),
/// runs as one kernel that writes the other terms into the output and then lets each product
/// accumulate into it (sgemm with beta = 1). Neither the products' results nor the add pass
/// over memory exist any more, and sgemm skips the pass that zeroes C for beta = 0.
///
/// Only products used by that sum alone (and not asked for as outputs) are taken in, and only
/// sums of same-shaped terms (no broadcast). The order of the additions differs from product
/// then add, so the last bits can differ from the unfused graph; for one graph they are the
/// same for any thread count (each product's split depends only on its shape).

/// For each elementwise root whose fused group is a sum of products and other terms: the
/// product nodes computed inside its kernel, in the sum's order.
func productSums(_ order: [Node], groups: [Node: [Node]], outputs: Set<Node>, enabled: Bool) -> [Node: [Node]] {
    guard enabled else { return [:] }
    var uses: [Node: Int] = [:]
    for node in order { for input in node.inputs { uses[input, default: 0] += 1 } }
    var result: [Node: [Node]] = [:]
    for (root, members) in groups {
        guard members.allSatisfy({ ($0.op as? Binary)?.kind == .add && $0.inputs.allSatisfy { $0.shape == root.shape } })
        else { continue }
        let inside = Set(members)
        let products = members.flatMap(\.inputs).filter { x in
            !inside.contains(x) && x.op is MatMul && uses[x] == 1 && !outputs.contains(x)
        }
        if !products.isEmpty { result[root] = products }
    }
    return result
}

/// One sum of products and other terms, its pointers resolved at plan time.
final class ProductSumKernel {
    let terms: [UnsafeMutablePointer<Float>]     // the operands that are not products taken in
    let products: [(MatMul, Kernel)]             // each writing into `output`
    let output: UnsafeMutablePointer<Float>
    let count: Int

    init(terms: [UnsafeMutablePointer<Float>], products: [(MatMul, Kernel)], output: UnsafeMutablePointer<Float>, count: Int) {
        (self.terms, self.products, self.output, self.count) = (terms, products, output, count)
    }

    func run() {
        var accumulate = !terms.isEmpty
        if accumulate { writeTerms() }
        for (op, k) in products {
            op.run(k, beta: accumulate ? 1 : 0)
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
