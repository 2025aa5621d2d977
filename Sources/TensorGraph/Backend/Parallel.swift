#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// Splits loops across the cores. Work is cut into fixed pieces that do not depend on the
/// thread count, and each output value is computed by one piece in a fixed order, so results
/// are bit-identical whatever the number of threads.
public enum Parallel {
    /// How many threads loops and products use (`TFS_THREADS`, else the cores, at most 64);
    /// `BLAS.setThreads` changes it. Read at the start of each loop, atomically.
    public static var threads: Int {
        get { configured.load(ordering: .relaxed) }
        set { configured.store(max(1, newValue), ordering: .relaxed) }
    }
    private static let configured = Atomic<Int>(defaultThreads())
    /// A cap for the current task only (tests and measurements that must not disturb others).
    @TaskLocal public static var limit: Int?
    /// Below this many scalar operations a loop runs on the calling thread.
    static let minWork = 1 << 15

    static func defaultThreads() -> Int {
        if let v = getenvInt("TFS_THREADS") { return max(1, v) }
        return max(1, min(ProcessInfoCores.count, 64))
    }

    /// Calls `body(range)` over `0..<count` in contiguous ranges, in parallel when worth it.
    @inline(__always)
    public static func chunks(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        pieces(count, work: work) { _, range in body(range) }
    }

    /// Like `chunks`, also passing the piece number (< `threads`), to index per-thread scratch.
    @inline(__always)
    public static func pieces(_ count: Int, work: Int, maxPieces: Int = .max,
                              _ body: (Int, Range<Int>) -> Void) {
        let threads = min(self.threads, limit ?? .max)
        let pieces = threads > 1 && work >= minWork ? min(threads, count, maxPieces) : 1
        if pieces <= 1 { body(0, 0..<count); return }
        DispatchQueue.concurrentPerform(iterations: pieces) { p in
            let lo = count * p / pieces, hi = count * (p + 1) / pieces
            if lo < hi { body(p, lo..<hi) }
        }
    }
}

extension Parallel {
    /// Calls `body(i)` for every i in `0..<count`, handing the next index to whichever thread
    /// is free: pieces of uneven cost, or a core slowed by a neighbour, do not hold the others
    /// up as a fixed split would. Each index is still computed whole by one thread, so the
    /// results do not depend on which thread ran it.
    public static func dynamic(_ count: Int, work: Int, _ body: (Int) -> Void) {
        let threads = min(self.threads, limit ?? .max)
        let workers = threads > 1 && work >= minWork ? min(threads, count) : 1
        if workers <= 1 { for i in 0..<count { body(i) }; return }
        let next = NextIndex()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while case let i = next.take(), i < count { body(i) }
        }
    }
}

/// A shared counter handing out 0, 1, 2, … to the threads of `Parallel.dynamic`.
private final class NextIndex: @unchecked Sendable {
    private var value = 0
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func take() -> Int {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        value += 1
        return value - 1
    }
}

enum ProcessInfoCores {
    static var count: Int {
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return n > 0 ? n : 1
    }
}

func getenvInt(_ name: String) -> Int? {
    guard let p = getenv(name) else { return nil }
    return Int(String(cString: p))
}
