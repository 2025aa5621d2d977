import Foundation
import TensorGraph

/// What the REPL asks a session about itself: completions, help, the variables.
extension Session {
    /// Tab completion for the text before the cursor. Returns replacements for the trailing
    /// word (a dotted name such as `x.su` → `x.sum`, since readline does not break words at
    /// dots), sorted: globals, builtins and keywords for a plain name; attributes after a dot
    /// (looked up without running any code); `name=` keyword arguments inside a call's parens.
    public func completions(for text: String) -> [String] {
        // Inside a string only a dict's keys make sense (`d["le` → `d["learning_rate`).
        if let opened = Session.openStringStart(text) { return dictKeys(before: text[..<opened], typed: text[text.index(after: opened)...]) }
        let word = String(text.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }.reversed())
        if let dot = word.lastIndex(of: ".") {
            let path = word[..<dot], partial = word[word.index(after: dot)...]
            guard let object = resolve(path) else { return [] }
            return interpreter.memberNames(object).filter { $0.hasPrefix(partial) }.map { "\(path).\($0)" }
        }
        var names = Set(interpreter.globalNames).union(registry.names)
        names.formUnion(Session.keywords)
        var out = names.filter { $0.hasPrefix(word) }.sorted()
        if let callee = enclosingCall(text.dropLast(word.count)), let spec = parameterNames(of: callee) {
            out = spec.filter { $0.hasPrefix(word) }.map { "\($0)=" } + out
        }
        return out
    }

    /// Where the string literal still open at the end of `text` starts (its quote), if any.
    static func openStringStart(_ text: String) -> String.Index? {
        var quote: Character? = nil, start: String.Index? = nil
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if let q = quote {
                if c == "\\" { i = text.index(after: i); if i == text.endIndex { break } }
                else if c == q { quote = nil; start = nil }
            } else if c == "#" {
                return nil
            } else if c == "'" || c == "\"" {
                quote = c; start = i
            }
            i = text.index(after: i)
        }
        return start
    }

    /// The keys of the dict subscripted just before an open string (`d["`), that start with
    /// what was typed; nothing for any other string.
    private func dictKeys(before: Substring, typed: Substring) -> [String] {
        guard before.last == "[" else { return [] }
        let path = before.dropLast().reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
        guard !path.isEmpty, case .dict(let d)? = resolve(Substring(String(path.reversed()))) else { return [] }
        // Readline's word starts after the last break character (the quote, a space...).
        let word = typed.reversed().prefix { !Session.wordBreaks.contains($0) }
        let skipped = typed.count - word.count
        return d.keys.filter { $0.hasPrefix(typed) }.sorted().map { String($0.dropFirst(skipped)) }
    }

    /// The characters a line editor ends a word at for completion. `.` is not one, so
    /// `model.wi` is completed as a whole (members), and `=` is, so `lr=war` completes `war`.
    public static let completionWordBreaks = " \t\n\"\\'`@$><=;|&{(,[]+-*/%~:)!"
    private static let wordBreaks = Set(completionWordBreaks)

    static let keywords = ["and", "break", "continue", "def", "elif", "else", "False", "for", "if", "in",
                           "is", "lambda", "None", "not", "or", "pass", "return", "True", "while"]

    /// The value of a dotted name (`model.mask`), by lookups only: no call, no side effect.
    private func resolve(_ path: Substring) -> Value? {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !first.isEmpty,
              var value = interpreter.global(first) ?? registry.global(first) else { return nil }
        for part in parts.dropFirst() {
            // Only fields (not methods) are followed: reading a field computes nothing.
            guard let next = try? interpreter.member(value, part), !(next.isBuiltinMethod) else { return nil }
            value = next
        }
        return value
    }

    /// The name of the function whose call's parentheses are still open at the end of `text`.
    private func enclosingCall(_ text: Substring) -> String? {
        var depth = 0
        var i = text.endIndex
        while i > text.startIndex {
            i = text.index(before: i)
            switch text[i] {
            case ")", "]", "}": depth += 1
            case "[", "{": if depth == 0 { return nil } else { depth -= 1 }
            case "(":
                if depth > 0 { depth -= 1; continue }
                let name = text[..<i].reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
                return name.isEmpty ? nil : String(name.reversed())
            default: break
            }
        }
        return nil
    }

    /// Parameter names a call to `callee` accepts by keyword.
    private func parameterNames(of callee: String) -> [String]? {
        let value: Value?
        if let dot = callee.lastIndex(of: ".") {
            value = resolve(callee[..<dot]).flatMap { try? interpreter.member($0, String(callee[callee.index(after: dot)...])) }
        } else {
            value = interpreter.global(callee) ?? registry.global(callee)
        }
        switch value {
        case .builtin(let b)?: return b.signature.params.map(\.name)
        case .function(let f)?: return f.parameters.params.map(\.name)
        default: return nil
        }
    }

    /// Help for a builtin (`softmax`), a method (`tensor.sum`), a constant, or a global of
    /// the session (a user function shows its signature). Nil if the name is unknown.
    public func help(_ name: String) -> String? {
        if let v = interpreter.global(name) ?? memberValue(name) {
            switch v {
            case .function(let f): return NotebookBuiltins.functionHelp(f)
            case .builtin(let b): return b.helpText
            default: return "\(name): a '\(v.typeName)' value (\(summary(v)))"
            }
        }
        return registry.helpText(name)
    }

    /// `help` and, for a function defined in the session, its source (IPython's `name??`).
    public func helpWithSource(_ name: String) -> String? {
        guard let text = help(name) else { return nil }
        guard case .function(let f)? = interpreter.global(name) ?? memberValue(name),
              let lines = sources[f.span.file], f.span.line >= 1, f.span.line <= lines.count else { return text }
        // The definition: its line, then every line indented deeper or blank, up to the next
        // line at its own indent.
        let first = lines[f.span.line - 1]
        let indent = first.prefix { $0 == " " || $0 == "\t" }.count
        var body = [first]
        for line in lines[f.span.line...] {
            let blank = line.allSatisfy { $0 == " " || $0 == "\t" }
            if !blank && line.prefix(while: { $0 == " " || $0 == "\t" }).count <= indent { break }
            body.append(line)
        }
        while let last = body.last, last.allSatisfy({ $0 == " " || $0 == "\t" }) { body.removeLast() }
        return text + "\nsource:\n" + body.joined(separator: "\n")
    }

    /// A dotted name's value by lookups alone (`x.sum`, `tensor.sum`, `model.mask`): methods
    /// included, nothing called.
    private func memberValue(_ name: String) -> Value? {
        guard let dot = name.lastIndex(of: "."), let object = resolve(name[..<dot]) else { return nil }
        return try? interpreter.member(object, String(name[name.index(after: dot)...]))
    }

    /// One row per variable, sorted by name (the REPL's `:vars`).
    public struct GlobalInfo: Equatable, Sendable {
        public var name: String
        public var type: String
        /// A short description that never computes a tensor.
        public var summary: String
    }

    public func globalsSummary() -> [GlobalInfo] {
        interpreter.globalNames.filter { !Session.isOutputHistoryName($0) }.compactMap { name in
            interpreter.global(name).map { GlobalInfo(name: name, type: $0.typeName, summary: summary($0)) }
        }
    }

    private func summary(_ v: Value) -> String {
        switch v {
        case .tensor(let t):
            let kind = t.node.isParameter ? "param" : (t.node.isInput ? "input" : (t.node.isLeaf ? "constant" : "lazy"))
            return "\(Shape.describe(t.shape)) \(kind)"
        case .list(let l): return "\(l.items.count) items"
        case .tuple(let t): return "\(t.count) items"
        case .dict(let d): return "\(d.count) entries: " + d.keys.prefix(5).joined(separator: ", ") + (d.count > 5 ? ", ..." : "")
        case .function(let f): return NotebookBuiltins.functionHelp(f).split(separator: "\n").first.map(String.init) ?? f.name
        default:
            // One line, whatever the value's text: a multi-line description must not break the row.
            let text = v.description.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .joined(separator: " ")
            return text.count > 60 ? String(text.prefix(57)) + "..." : text
        }
    }

    /// `_`, `__`, `___`, `_3` and `Out`: the output history, which `:vars` does not list.
    static func isOutputHistoryName(_ name: String) -> Bool {
        if name == "Out" || name == "_" || name == "__" || name == "___" { return true }
        return name.hasPrefix("_") && name.count > 1 && name.dropFirst().allSatisfy(\.isNumber)
    }
}

extension Value {
    var isBuiltinMethod: Bool { if case .builtin(let b) = self { return b.receiver != nil } else { return false } }
}
