// swift-tools-version:6.0
import PackageDescription

// OpenBLAS is not linked: TensorGraph loads it with dlopen after choosing OPENBLAS_CORETYPE
// (the library reads that variable once, at load time). See docs/architecture.md.
let package = Package(
    name: "tfs",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tfs", targets: ["tfs"]),
        .executable(name: "tfs-fuzz", targets: ["Fuzz"]),
        .library(name: "TensorGraph", targets: ["TensorGraph"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CGraphviz", pkgConfig: "libgvc",
                       providers: [.apt(["libgraphviz-dev"])]),
        .systemLibrary(name: "CReadline", pkgConfig: "readline",
                       providers: [.apt(["libreadline-dev"])]),
        .target(name: "TensorGraph",
                swiftSettings: [.unsafeFlags(["-Ounchecked"])],
                linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Visual", dependencies: ["TensorGraph", "CGraphviz", "CZlib"]),
        .target(name: "Transfusion", dependencies: ["TensorGraph"]),
        // The language: syntax, interpreter, sessions and its own builtins. It knows no model.
        .target(name: "Script", dependencies: ["TensorGraph"]),
        // The model library as scripts see it: model values and their builtins, as families
        // of a registry the front ends hand to their sessions.
        .target(name: "ScriptLibrary", dependencies: ["Script", "TensorGraph", "Visual", "Transfusion"]),
        .executableTarget(name: "tfs", dependencies: [
            "Script", "ScriptLibrary", "Visual", "TensorGraph", "Transfusion", "CReadline",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The readers tfs exposes to untrusted bytes, as fuzz targets: a corpus replayer in a
        // plain build, libFuzzer's entry points when built by scripts/fuzz (-sanitize=fuzzer).
        .executableTarget(name: "Fuzz", dependencies: ["Script", "ScriptLibrary", "Visual", "TensorGraph", "Transfusion"]),
        .target(name: "AllocCounter", path: "Tests/AllocCounter"),
        .testTarget(name: "TensorGraphTests", dependencies: ["TensorGraph", "AllocCounter"]),
        .testTarget(name: "VisualTests", dependencies: ["Visual", "TensorGraph"]),
        .testTarget(name: "TransfusionTests", dependencies: ["Transfusion", "TensorGraph"]),
        .testTarget(name: "ScriptTests", dependencies: ["Script", "ScriptLibrary", "TensorGraph"]),
        // The tfs front ends (REPL, run, notebook) driven as a user would, plus notebook export.
        .testTarget(name: "TFSTests", dependencies: ["Visual"]),
    ],
    swiftLanguageModes: [.v5]
)
