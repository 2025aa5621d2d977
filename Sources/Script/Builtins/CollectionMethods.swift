import Foundation

/// Methods of strings, lists, tuples and dicts: the Python ones scripts most often need.
enum CollectionMethods {
    static let stringType = ValueType("str", help: "Text: a string of Unicode characters, immutable.", methods: string)
    static let listType = ValueType("list", help: "A mutable sequence: [1, 2, 3].", methods: list)
    static let tupleType = ValueType("tuple", help: "An immutable sequence: (1, 2), or values separated by commas.", methods: tuple)
    static let dictType = ValueType("dict", help: "Entries from string keys to values, in insertion order: {\"lr\": 0.1}.", methods: dict)

    private static func method(_ owner: String, _ name: String, _ spec: String, _ help: String, _ example: String,
                               _ body: @escaping (Arguments) throws -> Value) -> Builtin {
        Builtin(name, spec, help: help, example: example, owner: owner, body: body)
    }

    // MARK: str

    static let string: [Builtin] = [
        text("upper", "", "The text in upper case.", "\"abc\".upper()") { s, _ in .string(s.uppercased()) },
        text("lower", "", "The text in lower case.", "\"ABC\".lower()") { s, _ in .string(s.lowercased()) },
        text("strip", "", "The text without leading and trailing whitespace.", "\"  hi \".strip()") { s, _ in
            .string(s.trimmingCharacters(in: .whitespacesAndNewlines))
        },
        text("split", "sep=None", "The pieces between occurrences of sep (runs of whitespace when None).",
             "\"a,b,c\".split(\",\")") { s, a in
            guard let sep = try a.optionalString("sep") else {
                return .list(s.split(whereSeparator: \.isWhitespace).map { .string(String($0)) })
            }
            guard !sep.isEmpty else { throw a.error("sep", "empty separator") }
            return .list(s.components(separatedBy: sep).map(Value.string))
        },
        text("join", "items", "The items (strings) joined with this text between them.", "\", \".join([\"a\", \"b\"])") { s, a in
            .string(try a.list("items").map {
                guard case .string(let x) = $0 else { throw a.error("items", "join needs strings, found '\($0.typeName)'") }
                return x
            }.joined(separator: s))
        },
        text("replace", "old, new", "The text with every occurrence of old replaced by new.",
             "\"a-b\".replace(\"-\", \"+\")") { s, a in
            let old = try a.string("old")
            guard !old.isEmpty else { throw a.error("old", "cannot replace an empty string") }
            return .string(s.replacingOccurrences(of: old, with: try a.string("new")))
        },
        text("startswith", "prefix", "True if the text starts with prefix.", "\"train.tfs\".startswith(\"train\")") { s, a in
            .bool(s.hasPrefix(try a.string("prefix")))
        },
        text("endswith", "suffix", "True if the text ends with suffix.", "\"train.tfs\".endswith(\".tfs\")") { s, a in
            .bool(s.hasSuffix(try a.string("suffix")))
        },
        text("find", "sub", "The index of the first occurrence of sub, or -1.", "\"hello\".find(\"l\")") { s, a in
            guard let r = s.range(of: try a.string("sub")) else { return .int(-1) }
            return .int(s.distance(from: s.startIndex, to: r.lowerBound))
        },
    ]

    private static func text(_ name: String, _ spec: String, _ help: String, _ example: String,
                             _ body: @escaping (String, Arguments) throws -> Value) -> Builtin {
        method("str", name, spec, help, example) { a in
            guard case .string(let s) = a.receiver else { throw RuntimeError("\(a.name): not bound to a string") }
            return try body(s, a)
        }
    }

    // MARK: list and tuple

    static let list: [Builtin] = [
        mutating("append", "item", "Adds item at the end.", "xs = [1]\nxs.append(2)") { l, a in
            l.items.append(a["item"]); return .none
        },
        mutating("extend", "items", "Adds the items at the end.", "xs = [1]\nxs.extend([2, 3])") { l, a in
            l.items += try a.interpreter.iterate(a["items"]); return .none
        },
        mutating("insert", "index, item", "Inserts item before position index.", "xs = [1, 3]\nxs.insert(1, 2)") { l, a in
            var i = try a.int("index")
            if i < 0 { i += l.items.count }
            l.items.insert(a["item"], at: min(max(i, 0), l.items.count)); return .none
        },
        mutating("pop", "index=-1", "Removes and returns the item at index (the last by default).",
                 "xs = [1, 2, 3]\nxs.pop()") { l, a in
            guard !l.items.isEmpty else { throw RuntimeError("pop from an empty list") }
            let i = try a.interpreter.position(.int(try a.int("index")), count: l.items.count, "pop")
            return l.items.remove(at: i)
        },
        mutating("reverse", "", "Reverses the list in place.", "xs = [1, 2]\nxs.reverse()") { l, _ in
            l.items.reverse(); return .none
        },
        mutating("sort", "key=None, reverse=False", "Sorts the list in place (stable; key computes what to compare).",
                 "xs = [3, 1, 2]\nxs.sort()") { l, a in
            let sorted = try CoreBuiltins.sorted.invoke(
                CallArguments([.init(value: .list(l.items)), .init(label: "key", value: a["key"]),
                               .init(label: "reverse", value: a["reverse"])], span: a.span), a.interpreter)
            l.items = sorted.sequence ?? l.items
            return .none
        },
        mutating("copy", "", "A new list with the same items.", "[1, 2].copy()") { l, _ in .list(l.items) },
        mutating("clear", "", "Removes every item.", "xs = [1]\nxs.clear()") { l, _ in l.items = []; return .none },
    ] + readOnly("list")

    static let tuple: [Builtin] = readOnly("tuple")

    /// `index` and `count`, which lists and tuples share.
    private static func readOnly(_ owner: String) -> [Builtin] {
        [
            method(owner, "index", "item", "The position of the first item equal to item.", "[5, 6, 7].index(6)") { a in
                for (i, x) in (a.receiver.sequence ?? []).enumerated() where try a.interpreter.equal(x, a["item"]) {
                    return .int(i)
                }
                throw a.error("item", "\(a["item"].description) is not in the \(owner)")
            },
            method(owner, "count", "item", "How many items equal item.", "[1, 2, 1].count(1)") { a in
                .int(try (a.receiver.sequence ?? []).filter { try a.interpreter.equal($0, a["item"]) }.count)
            },
        ]
    }

    private static func mutating(_ name: String, _ spec: String, _ help: String, _ example: String,
                                 _ body: @escaping (ListRef, Arguments) throws -> Value) -> Builtin {
        method("list", name, spec, help, example) { a in
            guard case .list(let l) = a.receiver else { throw RuntimeError("\(a.name): not bound to a list") }
            return try body(l, a)
        }
    }

    // MARK: dict

    static let dict: [Builtin] = [
        entries("keys", "", "The keys, in insertion order.", "{\"a\": 1}.keys()") { d, _ in .list(d.keys.map(Value.string)) },
        entries("values", "", "The values, in insertion order.", "{\"a\": 1}.values()") { d, _ in .list(d.values) },
        entries("items", "", "(key, value) pairs, in insertion order.",
                "for k, v in {\"lr\": 0.1}.items():\n    print(k, v)") { d, _ in
            .list(d.pairs.map { .tuple([.string($0.0), $0.1]) })
        },
        entries("get", "key, default=None", "The value for key, or default if it is missing.",
                "{\"a\": 1}.get(\"b\", 0)") { d, a in
            d[try a.string("key")] ?? a["default"]
        },
        entries("pop", "key, default=None", "Removes key and returns its value (default if it is missing).",
                "d = {\"a\": 1}\nd.pop(\"a\")") { d, a in
            let key = try a.string("key")
            defer { d[key] = nil }
            return d[key] ?? a["default"]
        },
        entries("update", "other", "Adds or replaces the entries of other.", "d = {\"a\": 1}\nd.update({\"b\": 2})") { d, a in
            for (k, v) in try a.dict("other").pairs { d[k] = v }
            return .none
        },
        entries("copy", "", "A new dict with the same entries.", "{\"a\": 1}.copy()") { d, _ in .dict(DictRef(d.pairs)) },
    ]

    private static func entries(_ name: String, _ spec: String, _ help: String, _ example: String,
                                _ body: @escaping (DictRef, Arguments) throws -> Value) -> Builtin {
        method("dict", name, spec, help, example) { a in
            guard case .dict(let d) = a.receiver else { throw RuntimeError("\(a.name): not bound to a dict") }
            return try body(d, a)
        }
    }
}
