import Script
import TensorGraph
import Transfusion

/// Attention masks: the primitives as values, the parametrised ones as functions, layouts.
/// Masks combine with | (either allows), & (both allow) and ~ (the opposite).
enum MaskBuiltins {
    static let constants: [BuiltinConstant] = lossTerms + [
        BuiltinConstant("causal", .object(MaskValue(.causal)), help: "Mask: each query sees itself and earlier keys."),
        BuiltinConstant("bidirectional", .object(MaskValue(.full)), help: "Mask: every query sees every key (`full` is the tensor builtin)."),
        BuiltinConstant("nothing", .object(MaskValue(.none)), help: "Mask: no key at all (`none` is the language's None)."),
        BuiltinConstant("same_image", .object(MaskValue(.sameImage)), help: "Mask: patches see every patch of their own image (bidirectional)."),
        BuiltinConstant("same_document", .object(MaskValue(.sameDocument)), help: "Mask: tokens see tokens of their own document (`/` in a layout)."),
        BuiltinConstant("text_to_text", .object(MaskValue(.modality(query: .text, key: .text))), help: "Mask: text queries on text keys (BOI/EOI count as text)."),
        BuiltinConstant("text_to_image", .object(MaskValue(.modality(query: .text, key: .image))), help: "Mask: text queries on image patches."),
        BuiltinConstant("image_to_text", .object(MaskValue(.modality(query: .image, key: .text))), help: "Mask: image patches on text keys."),
        BuiltinConstant("image_to_image", .object(MaskValue(.modality(query: .image, key: .image))), help: "Mask: image patches on image patches (any image)."),
    ]

    /// The two loss terms (documented with the masks' constants: both are model pieces).
    static let lossTerms: [BuiltinConstant] = [
        BuiltinConstant("lm", .object(LossValue(LossWeights(lm: 1, diffusion: 0))), help: "Loss term: next-token cross-entropy on text (write losses as lm + 5 * diffusion)."),
        BuiltinConstant("diffusion", .object(LossValue(LossWeights(lm: 0, diffusion: 1))), help: "Loss term: the noise-prediction MSE on image patches."),
    ]

    static let all: [Builtin] = [
        Builtin("prefix", "n", help: "Mask: keys before position n, seen by every query (with causal: a prefix LM).",
                example: "causal | prefix(4)") { a in
            .object(MaskValue(.prefix(try a.size("n"))))
        },
        Builtin("window", "n", help: "Mask: keys less than n positions away (with causal: a sliding window).",
                example: "causal & window(3)") { a in
            .object(MaskValue(.window(try a.size("n"))))
        },
        Builtin("document", "ids", help: "Mask: tokens with equal ids see each other (one id per position).",
                example: "causal & document([0, 0, 0, 1, 1])") { a in
            .object(MaskValue(.documents(try a.ints("ids"))))
        },
        Builtin("layout", "spec", help: "A sequence layout: \"text:5 image:4x4 text:3\" (BOI and EOI placed around each image; `/` starts a new document).",
                example: "layout(\"text:5 image:2x2 text:3\").count") { a in
            .object(LayoutValue(try layout(a, "spec")))
        },
    ]

    /// A layout argument: a layout value or its spec string.
    static func layout(_ a: Arguments, _ p: String) throws -> SequenceLayout {
        if case .object(let o) = a[p], let l = o as? LayoutValue { return l.layout }
        let spec = try a.string(p)
        return try RuntimeError.located { try SequenceLayout(parsing: spec) }
    }

}
