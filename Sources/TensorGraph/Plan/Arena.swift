/// Offsets in one block of memory handed out by lifetime: a buffer freed after its last use is
/// reused by later ones (first fit, neighbours merged). `peak` is the plan's footprint.
struct ArenaAllocator {
    private var free: [(offset: Int, size: Int)] = []
    private(set) var top = 0
    private(set) var peak = 0
    static let align = 16  // floats: 64-byte alignment for every buffer

    mutating func allocate(_ count: Int) -> Int {
        let size = (max(count, 1) + Self.align - 1) / Self.align * Self.align
        if let i = free.firstIndex(where: { $0.size >= size }) {
            let slot = free[i]
            if slot.size == size { free.remove(at: i) } else { free[i] = (slot.offset + size, slot.size - size) }
            return slot.offset
        }
        defer { top += size; peak = max(peak, top) }
        return top
    }

    mutating func release(_ offset: Int, _ count: Int) {
        let size = (max(count, 1) + Self.align - 1) / Self.align * Self.align
        free.append((offset, size))
        free.sort { $0.offset < $1.offset }
        var merged: [(offset: Int, size: Int)] = []
        for slot in free {
            if let last = merged.last, last.offset + last.size == slot.offset {
                merged[merged.count - 1].size += slot.size
            } else { merged.append(slot) }
        }
        // Memory at the top that is free again lowers the high-water mark of later buffers.
        if let last = merged.last, last.offset + last.size == top { top = last.offset; merged.removeLast() }
        free = merged
    }
}
