import TensorGraph
print("tfs 0.1 — \(BLAS.load().summary)")
