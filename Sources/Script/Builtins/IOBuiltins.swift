import Foundation
import TensorGraph

/// Files: tensors to and from safetensors (the format PyTorch and Hugging Face use).
enum IOBuiltins {
    static let all: [Builtin] = [
        Builtin("save", "path, tensors",
                help: "Computes the tensors of a dict and writes them to a safetensors file under their keys.",
                example: "save(\"/tmp/tfs-example.safetensors\", {\"w\": ones([2, 2])})") { a in
            let path = try a.path("path")
            var entries: [(String, TensorData)] = []
            for (name, value) in try a.dict("tensors").pairs {
                guard case .tensor(let t) = value else {
                    throw a.error("tensors", "'\(name)' is a '\(value.typeName)', not a tensor")
                }
                entries.append((name, try t.realize()))
            }
            try Safetensors.write(entries, to: path)
            return .none
        },
        Builtin("load", "path",
                help: "Reads a safetensors file: a dict from names to constant tensors.",
                example: "save(\"/tmp/tfs-example.safetensors\", {\"w\": ones([2])})\nload(\"/tmp/tfs-example.safetensors\")[\"w\"]") { a in
            let file = try Safetensors.read(path: try a.path("path"))
            return .dict(DictRef(file.entries.map { ($0.name, .tensor(.constant($0.tensorData))) }))
        },
    ]
}
