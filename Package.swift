// swift-tools-version:6.0
import PackageDescription

// Test code is compiled without optimisation (but TensorGraphTests, below): the numeric work it
// checks runs in the library's optimised modules, and -Onone built the test targets in 23 s
// instead of 30 with the same test time (measured with every test target -Onone) (docs/architecture.md, "Build").
let testSettings: [SwiftSetting] = [.unsafeFlags(["-Onone"])]

// Attention's SIMD kernels, one source (Sources/AttentionBaseline/FlashKernel.swift, symlinked into
// the other two) compiled for three CPU levels (baseline, haswell: AVX2 + FMA, skylake-avx512); TensorGraph picks one at run time from the CPU's
// flags (SIMDLevel). TensorGraph itself stays baseline x86-64 (docs/architecture.md, "SIMD levels").
#if arch(x86_64)
let avx2CPU: [String] = ["-target-cpu", "haswell"]
let avx512CPU: [String] = ["-target-cpu", "skylake-avx512"]
#else
let avx2CPU: [String] = []
let avx512CPU: [String] = []
#endif

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
        .target(name: "AttentionBaseline", swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "AttentionAVX2", swiftSettings: [.unsafeFlags(["-Ounchecked"] + avx2CPU)]),
        .target(name: "AttentionAVX512", swiftSettings: [.unsafeFlags(["-Ounchecked"] + avx512CPU)]),
        .target(name: "TensorGraph", dependencies: ["AttentionBaseline", "AttentionAVX2", "AttentionAVX512"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"])],
                linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CChafa", pkgConfig: "chafa", providers: [.apt(["libchafa-dev"])]),
        .systemLibrary(name: "CRsvg", pkgConfig: "librsvg-2.0", providers: [.apt(["librsvg2-dev"])]),
        // CommonMark (the reference C implementation) for notebooks' markdown cells.
        .systemLibrary(name: "CCmark", pkgConfig: "libcmark", providers: [.apt(["libcmark-dev"])]),
        .target(name: "Visual", dependencies: ["TensorGraph", "CGraphviz", "CZlib", "CRsvg", "CCmark"]),
        .target(name: "Transfusion", dependencies: ["TensorGraph"]),
        // The language: syntax, interpreter, sessions and its own builtins. It knows no model.
        .target(name: "Script", dependencies: ["TensorGraph"]),
        // The model library as scripts see it: model values and their builtins, as families
        // of a registry the front ends hand to their sessions.
        .target(name: "ScriptLibrary", dependencies: ["Script", "TensorGraph", "Visual", "Transfusion"]),
        // The one path from a cell's outputs to what front ends show: MIME bundles.
        .target(name: "RichOutput", dependencies: ["Script", "Visual"]),
        // The Jupyter kernel: the messaging protocol over ZeroMQ, signed with libcrypto's HMAC.
        .target(name: "Kernel", dependencies: ["Script", "RichOutput", "Visual", "CZMQ", "COpenSSL"]),
        .executableTarget(name: "tfs", dependencies: [
            "Script", "ScriptLibrary", "RichOutput", "Kernel", "Visual", "TensorGraph", "Transfusion",
            "CReadline", "CChafa",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The readers tfs exposes to untrusted bytes, as fuzz targets: a corpus replayer in a
        // plain build, libFuzzer's entry points when built by scripts/fuzz (-sanitize=fuzzer).
        .executableTarget(name: "Fuzz", dependencies: ["Script", "ScriptLibrary", "Visual", "TensorGraph", "Transfusion"]),
        .target(name: "AllocCounter", path: "Tests/AllocCounter"),
        // Optimised: its tests count heap allocations, and unoptimised test code allocates (the
        // runtime instantiating generic metadata on first use) inside the counted spans.
        .testTarget(name: "TensorGraphTests", dependencies: ["TensorGraph", "AllocCounter"]),
        .testTarget(name: "VisualTests", dependencies: ["Visual", "TensorGraph"], swiftSettings: testSettings),
        .testTarget(name: "TransfusionTests", dependencies: ["Transfusion", "TensorGraph"], swiftSettings: testSettings),
        .testTarget(name: "ScriptTests", dependencies: ["Script", "ScriptLibrary", "TensorGraph", "Transfusion", "Visual"], swiftSettings: testSettings),
        // The tfs front ends (REPL, run, notebook) driven as a user would, plus notebook export.
        .testTarget(name: "TFSTests", dependencies: ["Visual"], swiftSettings: testSettings),
    ],
    swiftLanguageModes: [.v5]
)
