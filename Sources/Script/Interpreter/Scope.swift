/// Variables of one scope: the session's globals, a function call's locals, or a list
/// comprehension's loop variables. A closure keeps its defining scope alive through `parent`.
///
/// Lookup walks outward, so a function reads the globals and the locals of the functions
/// around it; assignment always binds in the innermost scope (Python's rule without
/// `global`/`nonlocal`, which tfs does not have).
final class Scope {
    var values: [String: Value]
    let parent: Scope?

    init(parent: Scope?, values: [String: Value] = [:]) {
        self.parent = parent; self.values = values
    }

    /// Binds `name`; the value it held is freed without deep recursion (a bare tuple chain has
    /// no deinit of its own to do that, unlike lists, dicts and closures).
    func bind(_ name: String, _ value: Value) {
        guard let old = values.updateValue(value, forKey: name) else { return }
        releaseIteratively(consume old)
    }

    /// Unbinds `name`, freeing its value the same way.
    func unbind(_ name: String) {
        guard let old = values.removeValue(forKey: name) else { return }
        releaseIteratively(consume old)
    }

    /// Empties the scope, handing its values over (for `releaseIteratively`).
    func takeValues() -> [Value] {
        defer { values = [:] }
        return Array(values.values)
    }

    deinit {
        guard values.values.contains(where: \.holdsContainers) else { return }
        var released = takeValues()
        releaseIteratively(&released)
    }

    func lookup(_ name: String) -> Value? {
        var scope: Scope? = self
        while let s = scope {
            if let v = s.values[name] { return v }
            scope = s.parent
        }
        return nil
    }
}
