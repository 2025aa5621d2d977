/// "Did you mean ...?" — the closest known name by edit distance, if it is close enough to
/// be a plausible typo: a name of one or two letters only differing in case (`x` suggests
/// nothing, not `e`), then 1 edit up to five letters, 2 up to eight, 3 beyond.
func closestName<S: Sequence>(to name: String, among candidates: S) -> String? where S.Element == String {
    let limit = suggestionLimit(name.count)
    var best: (name: String, distance: Int)? = nil
    for candidate in candidates where candidate != name {
        let d = editDistance(name.lowercased(), candidate.lowercased(), limit: limit)
        guard d <= limit else { continue }
        if best == nil || d < best!.distance || (d == best!.distance && candidate < best!.name) {
            best = (candidate, d)
        }
    }
    return best?.name
}

/// How many edits a suggestion for a name of `length` letters may be away.
func suggestionLimit(_ length: Int) -> Int {
    switch length {
    case ...2: return 0
    case ...5: return 1
    case ...8: return 2
    default: return 3
    }
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent
/// swaps ("lenght" is one edit from "length"). Gives up early beyond `limit`.
func editDistance(_ a: String, _ b: String, limit: Int = .max) -> Int {
    let a = Array(a), b = Array(b)
    if abs(a.count - b.count) > limit { return limit + 1 }
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var previous2 = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var row = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        row[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                row[j] = min(row[j], previous2[j - 2] + 1)
            }
        }
        (previous2, previous, row) = (previous, row, previous2)
    }
    return previous[b.count]
}
