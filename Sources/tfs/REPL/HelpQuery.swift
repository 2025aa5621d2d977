/// IPython's help shortcut: `name?` (or `?name`) asks for the help of a name, `name??` also for
/// a function's source. The name may be dotted (`x.sum?`, `tensor.sum?`).
struct HelpQuery: Equatable {
    let name: String
    let withSource: Bool

    /// Nil unless `entry` (one line) is such a query.
    init?(_ entry: String) {
        var text = Substring(entry.trimmingCharacters(in: .whitespaces))
        guard !text.contains("\n") else { return nil }
        var marks = 0
        while text.hasSuffix("?") { text = text.dropLast(); marks += 1 }
        if marks == 0 { while text.hasPrefix("?") { text = text.dropFirst(); marks += 1 } }
        guard marks == 1 || marks == 2 else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy({ part in
            guard let first = part.first, first.isLetter || first == "_" else { return false }
            return part.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
        }) else { return nil }
        name = String(text)
        withSource = marks == 2
    }
}
