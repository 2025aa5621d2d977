/// Every builtin, by family (one file each), and the lookups the interpreter, the checker,
/// `help` and the documentation generator use.
public enum Builtins {
    /// Families in the order the reference documents them.
    public static let families: [(title: String, functions: [Builtin])] = [
        ("Core", CoreBuiltins.all),
        ("Math", MathBuiltins.all),
        ("Tensors", TensorBuiltins.all),
        ("Graphs", GraphBuiltins.all),
        ("Masks", MaskBuiltins.all),
        ("Data", DataBuiltins.all),
        ("Datasets", DatasetBuiltins.all),
        ("Tokenizer", TokenizerBuiltins.all),
        ("Models", ModelBuiltins.all),
        ("Chameleon baseline", ChameleonBuiltins.all),
        ("Training", TrainingBuiltins.all + [RunExport.builtin]),
        ("VAE", VAEBuiltins.all),
        ("Generation", GenerationBuiltins.all),
        ("Metrics", MetricBuiltins.all),
        ("Classifier", ClassifierBuiltins.all),
        ("Files", IOBuiltins.all),
        ("Notebook", NotebookBuiltins.all),
    ]

    /// Methods by the type they belong to.
    public static let methodFamilies: [(title: String, owner: String, methods: [Builtin])] = [
        ("Tensor methods", "tensor", TensorMethods.all),
        ("String methods", "str", CollectionMethods.string),
        ("List methods", "list", CollectionMethods.list),
        ("Dict methods", "dict", CollectionMethods.dict),
    ]

    public static let all: [Builtin] = families.flatMap(\.functions)

    public static let named: [String: Builtin] = {
        var table: [String: Builtin] = [:]
        for b in all {
            precondition(table[b.name] == nil, "builtin '\(b.name)' is defined twice")
            table[b.name] = b
        }
        return table
    }()

    public static let constantList: [BuiltinConstant] = MathBuiltins.constants + MaskBuiltins.constants
    public static let constants: [String: BuiltinConstant] =
        Dictionary(uniqueKeysWithValues: constantList.map { ($0.name, $0) })

    static let methods: [String: [String: Builtin]] = {
        var table: [String: [String: Builtin]] = [:]
        for family in methodFamilies {
            table[family.owner] = Dictionary(uniqueKeysWithValues: family.methods.map { ($0.name, $0) })
        }
        table["tuple"] = Dictionary(uniqueKeysWithValues: CollectionMethods.tuple.map { ($0.name, $0) })
        return table
    }()

    /// The signatures the checker verifies calls against.
    public static var signatures: [String: Signature] { named.mapValues(\.signature) }

    /// A method by qualified name: `tensor.sum`.
    public static func method(_ qualified: String) -> Builtin? {
        let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        return methods[parts[0]]?[parts[1]]
    }

    /// Everything `help` knows by name.
    public static var helpTopics: [String] {
        all.map(\.name) + constantList.map(\.name) + methodFamilies.flatMap { $0.methods.map(\.qualifiedName) }
    }

    /// The help text for a builtin, method (`tensor.sum`) or constant name.
    public static func helpText(_ name: String) -> String? {
        if let b = named[name] ?? method(name) { return b.helpText }
        if let c = constants[name] { return "\(c.name) = \(c.value)\n    \(c.help)" }
        return nil
    }
}
