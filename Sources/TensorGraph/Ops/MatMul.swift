/// Matrix products, all through `cblas_sgemm`. Transposes are passed to BLAS as flags rather
/// than copied, and batched products whose right side is shared collapse into one big GEMM.

public struct MatMul: Operation, Accumulating {
    public let transA: Bool, transB: Bool
    public var label: String { "matmul" + (transA ? "ᵀ" : "") + (transB ? "·ᵀ" : "") }

    /// (m, k) of op(A) and (k, n) of op(B), plus the batch shape.
    func dims(_ a: [Int], _ b: [Int]) -> (m: Int, k: Int, kb: Int, n: Int) {
        let (ar, ac) = (a[a.count - 2], a[a.count - 1]), (br, bc) = (b[b.count - 2], b[b.count - 1])
        return (transA ? ac : ar, transA ? ar : ac, transB ? bc : br, transB ? br : bc)
    }

    public func shape(_ s: [[Int]]) throws -> [Int] {
        let (a, b) = (s[0], s[1])
        guard a.count >= 2, b.count >= 2 else { throw shapeError(label, s, "both operands need rank ≥ 2") }
        let d = dims(a, b)
        guard d.k == d.kb else {
            throw shapeError(label, s, "inner dimensions differ (\(d.k) vs \(d.kb))")
        }
        let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
        guard batchA == batchB || batchA.isEmpty || batchB.isEmpty else {
            throw shapeError(label, s, "batch dimensions differ")
        }
        return (batchA.count >= batchB.count ? batchA : batchB) + [d.m, d.n]
    }

    public func run(_ k: Kernel) { run(k, accumulate: false) }

    /// With `accumulate` the product adds itself to what the output holds: sgemm's beta = 1
    /// (Plan/AccumulatedSums.swift).
    func run(_ k: Kernel, accumulate: Bool) {
        let beta: Float = accumulate ? 1 : 0
        let a = k.node.inputs[0].shape, b = k.node.inputs[1].shape
        let d = dims(a, b)
        let batch = Shape.count(k.node.shape.dropLast(2))
        let lda = a.last!, ldb = b.last!
        let strideA = a.count > 2 ? d.m * d.k : 0, strideB = b.count > 2 ? d.k * d.n : 0
        if batch == 1 || (strideB == 0 && !transA) {
            // [batch, m, k] @ [k, n] is one [batch·m, k] @ [k, n] product.
            BLAS.product(transA: transA, transB: transB, m: batch * d.m, n: d.n, k: d.k, beta: beta,
                         a: k.input(0), lda: lda, b: k.input(1), ldb: ldb, c: k.output, ldc: d.n)
            return
        }
        // One single-threaded product per batch entry, entries spread over the threads.
        Parallel.chunks(batch, work: 2 * batch * d.m * d.n * d.k) { entries in
            for i in entries {
                BLAS.sgemm(transA: transA, transB: transB, m: d.m, n: d.n, k: d.k,
                           a: k.input(0) + i * strideA, lda: lda, b: k.input(1) + i * strideB, ldb: ldb,
                           beta: beta, c: k.output + i * d.m * d.n, ldc: d.n)
            }
        }
    }

    func accumulates(_ node: Node) -> Bool { true }

    public func gradient(_ node: Node, _ g: Node) throws -> [Node?] {
        let a = Tensor(node.inputs[0]), b = Tensor(node.inputs[1]), g = Tensor(g)
        let da: Tensor, db: Tensor
        switch (transA, transB) {
        case (false, false): da = try g.matmul(b, transB: true); db = try a.matmul(g, transA: true, sharedB: b.rank == 2)
        case (true, false): da = try b.matmul(g, transB: true); db = try a.matmul(g, sharedB: b.rank == 2)
        case (false, true): da = try g.matmul(b); db = try g.matmul(a, transA: true, sharedB: b.rank == 2)
        case (true, true): da = try b.matmul(g, transA: true, transB: true); db = try g.matmul(a, transA: true, transB: true)
        }
        return [try da.sum(to: a.shape).node, try db.sum(to: b.shape).node]
    }
}

extension Tensor {
    /// `op(self) @ op(other)`; batch dims must match or one side must be a plain matrix.
    public func matmul(_ other: Tensor, transA: Bool = false, transB: Bool = false) throws -> Tensor {
        try .make(MatMul(transA: transA, transB: transB), [self, other])
    }

    /// For gradients of a shared right operand: when both sides are batched but the result must
    /// be a matrix, fold the batch into the contracted dimension (one GEMM instead of a sum).
    func matmul(_ other: Tensor, transA: Bool = false, sharedB: Bool) throws -> Tensor {
        guard sharedB, transA, rank > 2, other.rank > 2 else { return try matmul(other, transA: transA) }
        let a2 = try reshape([-1, shape.last!]), b2 = try other.reshape([-1, other.shape.last!])
        return try a2.matmul(b2, transA: true)
    }
}
