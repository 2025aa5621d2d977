/// `items` in consecutive chunks of at most `size`, each turned into results by `body`, the
/// results in order: how the judges feed a generator held-out examples a batch at a time.
func batched<T, U>(_ items: [T], _ size: Int, _ body: (ArraySlice<T>) throws -> [U]) rethrows -> [U] {
    var out: [U] = []
    out.reserveCapacity(items.count)
    for start in stride(from: 0, to: items.count, by: max(1, size)) {
        out += try body(items[start..<min(items.count, start + size)])
    }
    return out
}
