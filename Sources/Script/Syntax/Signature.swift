/// What a callable accepts, for the checker's arity checks. The interpreter supplies one per
/// builtin; the checker derives one for each `def` it sees.
public struct Signature: Sendable, Equatable {
    public struct Param: Sendable, Equatable {
        public var name: String
        public var hasDefault: Bool
        /// Only passable by keyword (declared after `*` in Python terms).
        public var keywordOnly: Bool
        public init(_ name: String, hasDefault: Bool = false, keywordOnly: Bool = false) {
            self.name = name; self.hasDefault = hasDefault; self.keywordOnly = keywordOnly
        }
    }

    public var params: [Param]
    /// Accepts any number of extra positional arguments (`*args`).
    public var variadic: Bool
    /// Accepts any keyword argument (`**kwargs`).
    public var kwargs: Bool

    public init(params: [Param] = [], variadic: Bool = false, kwargs: Bool = false) {
        self.params = params; self.variadic = variadic; self.kwargs = kwargs
    }

    /// Reads a Python-style parameter list, the readable way to write a builtin table:
    /// `Signature("x, dim=-1")`, `Signature("model, data, *, steps=1000, **options")`,
    /// `Signature("*values, sep=' '")`. Default values are only noted, never evaluated.
    /// A malformed spec is a programming error and traps.
    public init(_ spec: String) {
        let sink = DiagnosticSink()
        let program = Parser.parse("def f(\(spec)): pass", file: "<signature>", sink: sink)
        guard !sink.hasErrors, case .def(let decl)? = program.first?.kind else {
            preconditionFailure("bad signature spec '\(spec)': \(sink.diagnostics.map(\.message))")
        }
        self = decl.parameters.signature
    }

    /// Positional parameters (those a positional argument can fill), in order.
    public var positional: [Param] { params.filter { !$0.keywordOnly } }

    /// How many arguments a call must at least pass.
    public var requiredCount: Int { params.filter { !$0.hasDefault }.count }
}

/// The parameter a keyword argument names: itself, or for PyTorch's spellings the NumPy-style
/// name tfs uses (`dim=` is `axis=`, `keepdim=` is `keepdims=`) when the function has that
/// parameter and not the written one.
func keywordName(_ label: String, among parameters: [String]) -> String {
    let aliases = ["dim": "axis", "keepdim": "keepdims"]
    guard let alias = aliases[label], !parameters.contains(label), parameters.contains(alias) else { return label }
    return alias
}
