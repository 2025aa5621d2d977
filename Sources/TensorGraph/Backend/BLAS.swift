#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// OpenBLAS, loaded at run time. OpenBLAS picks its kernels once, when it is loaded, from
/// OPENBLAS_CORETYPE or its own CPU detection — and Debian's 0.3.21 misdetects recent CPUs as
/// "Prescott" (5× slower sgemm). Loading it ourselves lets tfs choose the core first.
public enum BLAS {
    /// How the core in use was chosen.
    public enum Choice: Equatable, Sendable {
        case user(String)          // OPENBLAS_CORETYPE was set by the user: respected
        case tfs(String, String)   // tfs set it: (core, reason)
        case library               // TFS_BLAS_CORE=library: OpenBLAS's own detection
    }

    public struct Info: Sendable {
        public let core: String          // what OpenBLAS reports it runs
        public let threads: Int
        public let choice: Choice
        public let config: String
        public let path: String

        public var summary: String {
            let how: String
            switch choice {
            case .user: how = "set by OPENBLAS_CORETYPE"
            case .tfs(_, let why): how = "chosen by tfs: \(why)"
            case .library: how = "OpenBLAS's own detection"
            }
            return "OpenBLAS core \(core) (\(how)), \(threads) thread\(threads == 1 ? "" : "s")"
        }
    }

    typealias SgemmFn = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
                                        UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
                                        Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias NameFn = @convention(c) () -> UnsafePointer<CChar>?
    typealias SetThreadsFn = @convention(c) (Int32) -> Void

    private struct Library {
        let sgemm: SgemmFn
        let corename: NameFn
        let config: NameFn
        let setThreads: SetThreadsFn
        let info: Info
    }

    /// Opened on first use, once: a static let's initialiser runs exactly once even when the
    /// first products start on several threads at the same time.
    private static let library = open()
    private static let candidates = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]

    /// Loads OpenBLAS (once) and returns what it runs with.
    @discardableResult
    public static func load() -> Info { library.info }

    private static func open() -> Library {
        let choice = chooseCore()
        if case .tfs(let core, _) = choice { setenv("OPENBLAS_CORETYPE", core, 1) }
        var handle: UnsafeMutableRawPointer?
        var path = ""
        for name in candidates {
            handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL)
            if handle != nil { path = name; break }
        }
        guard let handle else {
            fatalError("tfs: OpenBLAS not found (\(String(cString: dlerror()))). Install it: apt-get install libopenblas-dev, or run scripts/setup")
        }
        func symbol<T>(_ name: String, _ type: T.Type) -> T {
            guard let p = dlsym(handle, name) else { fatalError("tfs: OpenBLAS lacks \(name)") }
            return unsafeBitCast(p, to: type)
        }
        let corename = symbol("openblas_get_corename", NameFn.self)
        let config = symbol("openblas_get_config", NameFn.self)
        let setThreads = symbol("openblas_set_num_threads", SetThreadsFn.self)
        // OpenBLAS's own threading gives results that change with the thread count (its
        // partitions move tile edges); tfs splits products itself, see `product`.
        setThreads(1)
        let info = Info(core: corename().map { String(cString: $0) } ?? "?",
                        threads: Parallel.threads, choice: choice,
                        config: config().map { String(cString: $0) } ?? "?", path: path)
        return Library(sgemm: symbol("cblas_sgemm", SgemmFn.self), corename: corename, config: config,
                       setThreads: setThreads, info: info)
    }

    public static var info: Info { load() }

    /// Sets how many threads tfs uses, for products and every other loop.
    public static func setThreads(_ n: Int) {
        load()
        Parallel.threads = max(1, min(n, ProcessInfoCores.count))
    }

    /// OpenBLAS's own threads (benchmarks only: tfs keeps them at 1 and splits work itself).
    public static func setLibraryThreads(_ n: Int) {
        library.setThreads(Int32(n))
    }

    /// C = alpha · op(A) · op(B) + beta · C, row-major; op transposes when asked (no copy).
    @inline(__always)
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        library.sgemm(101, transA ? 112 : 111, transB ? 112 : 111, Int32(m), Int32(n), Int32(k),
                      alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C = op(A)·op(B) split across tfs's threads in pieces that depend only on the shape (rows
    /// of C, or columns when C is wide), each one single-threaded sgemm: every value of C is
    /// computed the same way whatever the thread count. Pieces go to whichever thread is free.
    public static func product(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, beta: Float = 0,
                               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                               c: UnsafeMutablePointer<Float>, ldc: Int) {
        let flops = 2 * m * n * k
        let pieces = max(1, min(flops >> 20, pieceCount(extent: max(m, n))))
        if pieces == 1 {
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c, ldc: ldc)
            return
        }
        let byRows = m >= n
        let extent = byRows ? m : n
        let step = (extent + pieces - 1) / pieces
        let stepAligned = (step + 15) / 16 * 16
        let count = (extent + stepAligned - 1) / stepAligned
        Parallel.dynamic(count, work: flops) { p in
            let lo = p * stepAligned, len = min(stepAligned, extent - lo)
            if byRows {
                sgemm(transA: transA, transB: transB, m: len, n: n, k: k,
                      a: transA ? a + lo : a + lo * lda, lda: lda, b: b, ldb: ldb,
                      beta: beta, c: c + lo * ldc, ldc: ldc)
            } else {
                sgemm(transA: transA, transB: transB, m: m, n: len, k: k, a: a, lda: lda,
                      b: transB ? b + lo * ldb : b + lo, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
            }
        }
    }

    /// Every piece packs the whole of the other operand again, so pieces are kept long: 2
    /// below 1024 rows (or columns), 4 below 2048, then 8 (at least 256 long from 512 on);
    /// two threads share these counts evenly.
    /// (Weight gradients Xᵀ·dY of a dim-256 model, 256 × 704 over 2048 tokens, ran 15–30%
    /// faster in 2 pieces than in 8; on one thread fewer pieces are always faster.)
    static func pieceCount(extent: Int) -> Int {
        switch extent {
        case ..<64: 1
        case ..<1024: 2
        case ..<2048: 4
        default: 8
        }
    }

    // MARK: choosing the core

    /// The user's variable wins; `TFS_BLAS_CORE` can force a core or `library` to leave OpenBLAS
    /// alone; otherwise tfs picks the best kernels the CPU's flags allow.
    static func chooseCore() -> Choice {
        if let user = getenv("OPENBLAS_CORETYPE"), user.pointee != 0 { return .user(String(cString: user)) }
        if let forced = getenv("TFS_BLAS_CORE").map({ String(cString: $0) }), !forced.isEmpty, forced != "auto" {
            return forced.lowercased() == "library" ? .library : .tfs(forced, "TFS_BLAS_CORE=\(forced)")
        }
        guard let (core, why) = bestCore(flags: cpuFlags(), vendor: cpuVendor()) else { return .library }
        return .tfs(core, why)
    }

    /// The OpenBLAS core whose kernels this CPU's instruction sets support best.
    static func bestCore(flags: Set<String>, vendor: String) -> (String, String)? {
        if avx512Flags.allSatisfy(flags.contains) {
            return flags.contains("avx512_bf16") ? ("Cooperlake", "CPU has AVX-512 with BF16")
                                                 : ("SkylakeX", "CPU has AVX-512")
        }
        if flags.contains("avx2") && flags.contains("fma") {
            return vendor == "AuthenticAMD" ? ("Zen", "AMD CPU with AVX2 and FMA") : ("Haswell", "CPU has AVX2 and FMA")
        }
        return nil
    }

    /// The AVX-512 subsets OpenBLAS's AVX-512 cores (and tfs's AVX-512 kernels) need.
    static let avx512Flags: Set<String> = ["avx512f", "avx512bw", "avx512dq", "avx512vl"]

    static func cpuFlags() -> Set<String> {
        cpuinfoField("flags").map { Set($0.split(separator: " ").map(String.init)) } ?? []
    }
    static func cpuVendor() -> String { cpuinfoField("vendor_id") ?? "" }

    private static func cpuinfoField(_ key: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
