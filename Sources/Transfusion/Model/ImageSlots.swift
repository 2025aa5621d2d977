import TensorGraph

/// The values of a U-Net model's index inputs: which flat positions (row·length + i) hold each
/// image slot's patches, and which row of the images' outputs each position reads back (slot·k
/// + j at a patch; slots·k, a zero row, elsewhere). Unused slots point at position 0: the U-Net
/// runs on them but nothing reads their outputs, so they add no loss and no gradient.
struct ImageSlots {
    let slots: Int, patches: Int
    private(set) var positions: [Float]
    private(set) var sources: [Float]
    private(set) var used = 0

    init(slots: Int, patches k: Int, positions count: Int) {
        self.slots = slots; patches = k
        positions = [Float](repeating: 0, count: slots * k)
        sources = [Float](repeating: Float(slots * k), count: count)
    }

    /// Gives the next free slot to an image whose k patches sit at flat positions `flat`.
    mutating func add(_ flat: [Int]) throws {
        guard used < slots else {
            throw TensorGraphError("the batch holds more images than its \(slots) image slots (BatchInputs(imageSlots:))")
        }
        precondition(flat.count == patches, "a unet image needs all its \(patches) patches at once")
        for (j, q) in flat.enumerated() {
            positions[used * patches + j] = Float(q)
            sources[q] = Float(used * patches + j)
        }
        used += 1
    }

    func feeds(_ x: BatchInputs) -> [(Node, TensorData)] {
        guard let p = x.imagePositions, let s = x.patchSources else { return [] }
        return [(p.node, TensorData(shape: p.shape, values: positions)), (s.node, TensorData(shape: s.shape, values: sources))]
    }
}
