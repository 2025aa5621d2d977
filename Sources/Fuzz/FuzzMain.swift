import Foundation

/// `tfs-fuzz TARGET ARGS...`. Built by scripts/fuzz (`-sanitize=fuzzer -D FUZZING`), ARGS go
/// to libFuzzer (a corpus folder, -runs=, -max_total_time=, …). In a plain build, ARGS are
/// files or folders to replay once each.
@main
struct FuzzMain {
    static func main() {
        let args = CommandLine.arguments
        guard args.count > 2, let target = FuzzTarget(rawValue: args[1]) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            FileHandle.standardError.write(Data("usage: tfs-fuzz \(names) FILE|FOLDER|libFuzzer-flag...\n".utf8))
            exit(2)
        }
        #if FUZZING
        exit(LibFuzzer.run(target, arguments: [args[0]] + args.dropFirst(2)))
        #else
        exit(Replay.run(target, paths: Array(args.dropFirst(2))))
        #endif
    }
}

#if FUZZING
/// libFuzzer's driver, from the runtime that `-sanitize=fuzzer` links (the program keeps its
/// own main, so the target is chosen before libFuzzer reads its flags).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

enum LibFuzzer {
    nonisolated(unsafe) static var target: FuzzTarget = .frontend

    static func run(_ target: FuzzTarget, arguments: [String]) -> Int32 {
        Self.target = target
        var argc = CInt(arguments.count)
        var cStrings: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        return cStrings.withUnsafeMutableBufferPointer { buffer in
            var argv = buffer.baseAddress
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                LibFuzzer.target.run(size == 0 ? Data() : Data(bytes: data!, count: size))
                return 0
            }
        }
    }
}
#endif
