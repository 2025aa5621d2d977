/// One family of builtins as the reference documents it: its functions, its constants and the
/// types of value it brings, each type with its fields and methods.
public struct Family {
    public let title: String
    public let functions: [Builtin]
    public let constants: [BuiltinConstant]
    public let types: [ValueType]

    public init(_ title: String, functions: [Builtin], constants: [BuiltinConstant] = [], types: [ValueType] = []) {
        self.title = title; self.functions = functions; self.constants = constants; self.types = types
    }
}

/// Every name a script can reach without defining it: the families of builtins, in the order
/// the reference documents them. The interpreter looks globals up here, the checker reads its
/// signatures, completion and `help` read its names and texts, and the reference is generated
/// from it. The language brings its own families (`Registry.language`); a library adds its
/// families with `adding` and hands the result to the session — the language knows no model.
public final class Registry {
    public let families: [Family]
    public let functions: [String: Builtin]
    public let constants: [String: BuiltinConstant]
    /// Every documented type, by name: the language's (tensor, str, list...) and the families'.
    public let types: [String: ValueType]

    public init(_ families: [Family]) {
        self.families = families
        var f: [String: Builtin] = [:], c: [String: BuiltinConstant] = [:], t: [String: ValueType] = [:]
        for family in families {
            for b in family.functions {
                precondition(f[b.name] == nil, "builtin '\(b.name)' is defined twice")
                f[b.name] = b
            }
            for k in family.constants {
                precondition(c[k.name] == nil && f[k.name] == nil, "constant '\(k.name)' is defined twice")
                c[k.name] = k
            }
            for type in family.types {
                precondition(t[type.name] == nil, "type '\(type.name)' is defined twice")
                t[type.name] = type
            }
        }
        functions = f; constants = c; types = t
    }

    /// This registry with more families after its own.
    public func adding(_ more: [Family]) -> Registry { Registry(families + more) }

    /// The builtins of the language itself: values, math, tensors, files and notebook talk.
    public static let language = Registry([
        Family("Core", functions: CoreBuiltins.all, types: [CollectionMethods.stringType, CollectionMethods.listType,
                                                           CollectionMethods.tupleType, CollectionMethods.dictType]),
        Family("Math", functions: MathBuiltins.all, constants: MathBuiltins.constants),
        Family("Tensors", functions: TensorBuiltins.all, types: [TensorMethods.type]),
        Family("Files", functions: IOBuiltins.all),
        Family("Notebook", functions: NotebookBuiltins.all),
        Family("Experiments", functions: SweepBuiltins.all, types: [SweepValue.type]),
    ])

    public var allFunctions: [Builtin] { families.flatMap(\.functions) }
    public var allConstants: [BuiltinConstant] { families.flatMap(\.constants) }
    public var allTypes: [ValueType] { families.flatMap(\.types) }
    /// Every method of every type.
    public var allMethods: [Builtin] { allTypes.flatMap(\.methods) }

    /// A global name's value: a builtin function or a constant.
    public func global(_ name: String) -> Value? {
        if let b = functions[name] { return .builtin(b) }
        return constants[name]?.value
    }

    public func isDefined(_ name: String) -> Bool { functions[name] != nil || constants[name] != nil }

    /// Every global name the registry defines.
    public var names: Set<String> { Set(functions.keys).union(constants.keys) }

    /// A method or field by qualified name: `tensor.sum`, `run.loss`.
    public func member(_ qualified: String) -> (method: Builtin?, field: Field?) {
        let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let type = types[parts[0]] else { return (nil, nil) }
        return (type.method(parts[1]), type.field(parts[1]))
    }

    /// Everything `help` knows by name.
    public var helpTopics: [String] {
        allFunctions.map(\.name) + allConstants.map(\.name) + allTypes.map(\.name)
            + allTypes.flatMap { t in t.fields.map(\.qualifiedName) + t.methods.map(\.qualifiedName) }
    }

    /// The help text for a builtin, a constant, a type (`mask`) or a member (`tensor.sum`).
    public func helpText(_ name: String) -> String? {
        if let b = functions[name] { return b.helpText }
        if let c = constants[name] { return "\(c.name) = \(c.value)\n    \(c.help)" }
        if let t = types[name] { return typeHelp(t) }
        let (method, field) = member(name)
        return method?.helpText ?? field?.helpText
    }

    /// A type's help: what it is, its fields with their help, its methods' usages.
    public func typeHelp(_ t: ValueType) -> String {
        var lines = ["'\(t.name)' values: \(t.help)"]
        if !t.fields.isEmpty { lines.append("fields: " + t.fields.map(\.name).joined(separator: ", ")) }
        if !t.methods.isEmpty { lines.append("methods: " + t.methods.map(\.usage).joined(separator: ", ")) }
        lines.append("help(\"\(t.name).NAME\") for one of them.")
        return lines.joined(separator: "\n    ")
    }
}
